/**
 * Active speaker with real peers: three werift audio publishers send Opus with RFC 6464 levels (one loud,
 * the others silent), and every participant — the publishers (dialect B) and a listener that speaks
 * dialect A — is told the dominant speaker over the data channel: at the start, within 1.5 s of a change of
 * speaker, and not at all for someone else's short bursts.
 */
import t from 'tap';
import { startCallStack } from '../../../harness/callStack.js';
import { asWerift, joinWithMedia } from '../../../harness/mediaCall.js';
import { waitFor } from '../../../harness/stack.js';

const LOUD = 10; // −10 dBov: speech close to the microphone
const SILENT = 127;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Told {
  userId: string;
  at: number;
  /** The dialect of the frame: A has `op`, B has `type`. */
  dialect: 'A' | 'B';
}

/** Every `active_speaker` a client receives, with its arrival time, read from the raw frames. */
function listen(c: { peer: { onData: (cb: (raw: string) => void) => void } }): Told[] {
  const told: Told[] = [];
  c.peer.onData((raw) => {
    const f = JSON.parse(raw) as {
      op?: string;
      type?: string;
      user_id?: string;
      content?: { user_id?: string };
    };
    if (f.op === 'active_speaker' && f.user_id !== undefined) {
      told.push({ userId: f.user_id, at: Date.now(), dialect: 'A' });
    } else if (f.type === 'org.matrix.msc3898.active_speaker' && f.content?.user_id !== undefined) {
      told.push({ userId: f.content.user_id, at: Date.now(), dialect: 'B' });
    }
  });
  return told;
}

t.test('the dominant speaker is announced to everyone, follows a change, ignores bursts', async (t) => {
  const cs = await startCallStack(t);
  const names = ['alice', 'bob', 'carol'] as const;
  const pubs = await Promise.all(
    names.map(async (n) => {
      const c = await cs.client(n);
      return { c, mc: await joinWithMedia(cs, c, { audio: true }), peer: asWerift(c.peer) };
    }),
  );
  const dave = await cs.client('dave');
  const listener = await joinWithMedia(cs, dave, {});

  listener.spokeA();
  dave.peer.sendData(JSON.stringify({ op: 'alive' })); // dave speaks dialect A from now on
  const logs = [...pubs.map((p) => listen(p.c)), listen(dave)];
  const everyone = [0, 1, 2, 3];
  const [alice, bob, carol] = pubs;
  const lastTold = (i: number) => logs[i]!.at(-1)?.userId;

  alice!.peer.setAudioLevel(LOUD);
  await waitFor(
    () => everyone.every((i) => lastTold(i) === alice!.c.userId),
    10_000,
    'everyone told alice speaks',
  );
  t.pass('alice announced to all four participants');
  t.ok(
    logs[3]!.every((x) => x.dialect === 'A'),
    'the listener got it in dialect A',
  );
  t.ok(
    logs.slice(0, 3).every((l) => l.every((x) => x.dialect === 'B')),
    'the publishers got it in dialect B',
  );

  // Hand-over: alice stops, bob starts.
  await sleep(1500);
  const changeAt = Date.now();
  alice!.peer.setAudioLevel(SILENT);
  bob!.peer.setAudioLevel(LOUD);
  await waitFor(
    () => everyone.every((i) => lastTold(i) === bob!.c.userId),
    10_000,
    'everyone told bob speaks',
  );
  const latencies = logs.map(
    (l) => l.find((x) => x.at >= changeAt && x.userId === bob!.c.userId)!.at - changeAt,
  );
  const worst = Math.max(...latencies);
  t.comment(`change of speaker told after ${latencies.join(' / ')} ms`);
  t.ok(worst <= 1500, `everyone told within 1.5 s (worst ${worst} ms)`);

  // Bursts: carol shouts for 300 ms three times while bob keeps talking.
  const before = logs.map((l) => l.length);
  for (let i = 0; i < 3; i++) {
    carol!.peer.setAudioLevel(LOUD);
    await sleep(300);
    carol!.peer.setAudioLevel(SILENT);
    await sleep(900);
  }
  await sleep(1000);
  logs.forEach((l, i) => {
    t.equal(l.length, before[i], `participant ${i}: no flapping on short bursts`);
  });
  t.ok(
    everyone.every((i) => lastTold(i) === bob!.c.userId),
    'bob is still the dominant speaker',
  );

  // Bob stops, carol keeps talking: she takes over.
  bob!.peer.setAudioLevel(SILENT);
  carol!.peer.setAudioLevel(LOUD);
  await waitFor(() => everyone.every((i) => lastTold(i) === carol!.c.userId), 10_000, 'carol takes over');
  t.pass('carol announced after bob stopped');
});

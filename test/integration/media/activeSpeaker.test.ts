/**
 * Active speaker with real peers: three werift audio publishers send Opus with RFC 6464 levels (one loud,
 * the others silent), and every participant — the publishers (dialect B) and a listener that speaks
 * dialect A — is told the dominant speaker over the data channel: at the start, within 1.5 s of a change of
 * speaker, and not at all for someone else's short bursts.
 */
import t from 'tap';
import { startCallStack } from '../../helpers/callStack.js';
import { asWerift, joinWithMedia, type MediaClient } from '../../helpers/mediaCall.js';
import { waitFor } from '../../helpers/stack.js';

const LOUD = 10; // −10 dBov: speech close to the microphone
const SILENT = 127;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Told {
  userId: string;
  at: number;
}

function speakersTold(mc: MediaClient): Told[] {
  return mc.msgs.flatMap((m, i) =>
    m.kind === 'active_speaker' ? [{ userId: m.user_id, at: toldAt.get(mc)?.[i] ?? 0 }] : [],
  );
}

/** Arrival times of each client's messages, by index (the helper keeps only the messages). */
const toldAt = new Map<MediaClient, number[]>();

function stamp(mc: MediaClient): void {
  const times: number[] = [];
  toldAt.set(mc, times);
  const tick = setInterval(() => {
    while (times.length < mc.msgs.length) {
      times.push(Date.now());
    }
  }, 5);
  tick.unref();
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
  const daveFrames: string[] = [];
  dave.peer.onData((raw) => daveFrames.push(raw));
  listener.spokeA();
  dave.peer.sendData(JSON.stringify({ op: 'alive' })); // dave speaks dialect A from now on
  const everyone = [...pubs.map((p) => p.mc), listener];
  for (const mc of everyone) {
    stamp(mc);
  }
  const [alice, bob, carol] = pubs;
  const lastTold = (mc: MediaClient) => speakersTold(mc).at(-1)?.userId;

  alice!.peer.setAudioLevel(LOUD);
  await waitFor(
    () => everyone.every((mc) => lastTold(mc) === alice!.c.userId),
    10_000,
    'everyone told alice speaks',
  );
  t.pass('alice announced to all four participants');
  t.ok(
    daveFrames.some((f) => (JSON.parse(f) as { op?: string }).op === 'active_speaker'),
    'the listener got it in dialect A',
  );
  const aliceFrames: string[] = [];
  alice!.c.peer.onData((raw) => aliceFrames.push(raw));

  // Hand-over: alice stops, bob starts.
  await sleep(1500);
  const changeAt = Date.now();
  alice!.peer.setAudioLevel(SILENT);
  bob!.peer.setAudioLevel(LOUD);
  await waitFor(
    () => everyone.every((mc) => lastTold(mc) === bob!.c.userId),
    10_000,
    'everyone told bob speaks',
  );
  t.ok(
    aliceFrames.some(
      (f) => (JSON.parse(f) as { type?: string }).type === 'org.matrix.msc3898.active_speaker',
    ),
    'the publishers got it in dialect B',
  );
  const latencies = everyone.map((mc) => speakersTold(mc).find((x) => x.at >= changeAt)!.at - changeAt);
  const worst = Math.max(...latencies);
  t.comment(`change of speaker told after ${latencies.join(' / ')} ms`);
  t.ok(worst <= 1500, `everyone told within 1.5 s (worst ${worst} ms)`);

  // Bursts: carol shouts for 300 ms three times while bob keeps talking.
  const before = everyone.map((mc) => speakersTold(mc).length);
  for (let i = 0; i < 3; i++) {
    carol!.peer.setAudioLevel(LOUD);
    await sleep(300);
    carol!.peer.setAudioLevel(SILENT);
    await sleep(900);
  }
  await sleep(1000);
  everyone.forEach((mc, i) => {
    t.equal(speakersTold(mc).length, before[i], `participant ${i}: no flapping on short bursts`);
  });
  t.ok(
    everyone.every((mc) => lastTold(mc) === bob!.c.userId),
    'bob is still the dominant speaker',
  );

  // The speaker leaves: a silent room keeps no stale speaker for newcomers, and the next speaker is told.
  bob!.peer.setAudioLevel(SILENT);
  carol!.peer.setAudioLevel(LOUD);
  await waitFor(
    () => [alice!.mc, carol!.mc, listener].every((mc) => lastTold(mc) === carol!.c.userId),
    10_000,
    'carol takes over',
  );
  t.pass('carol announced after bob stopped');
});

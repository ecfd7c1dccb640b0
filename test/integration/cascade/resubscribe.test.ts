/**
 * A subscriber that moves its subscription from one publisher to another — from a local publisher to a relayed
 * one (published on the other focus), and back — gets the new publisher's audio and video each time on the
 * m-lines its first subscription made (protocol.md §5 `unsubscribe`, then `subscribe`; §8.2 relayed tracks), and
 * each m-line's SSRC stays ONE continuous stream (§7): sequence numbers, timestamps and VP8 picture ids go on
 * from the last packet of the previous publisher. (They used to restart from the new publisher's numbers: the
 * SFU's SRTP rollover counter then often jumped, and the subscriber could decrypt nothing more on that m-line.)
 * Real focus processes and werift peers; generous timeouts, no timing thresholds.
 */
import t from 'tap';
import { dc } from '../../../client/index.js';
import { request, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import { waitFor } from '../../../harness/stack.js';
import { fewHoles } from '../../../harness/rtpCheck.js';
import { participant, type Participant } from './cascadeMedia.js';

const A = 'a.example';
const B = 'b.example';

/** Video packets received, over every SSRC. */
function videoFrom(p: Participant): number {
  let n = 0;
  for (const e of p.received.values()) {
    if (e.kind === 'video') {
      n += e.check.report.packets;
    }
  }
  return n;
}

t.test('a subscriber on B moves from a local publisher to a relayed one and back', async (t) => {
  const ms = await startMultiCallStack(t);
  const alice = await participant(ms, 'alice', A, true);
  const dave = await participant(ms, 'dave', B, true);
  t.teardown(() => {
    alice.stop();
    dave.stop();
  });
  const bob = await participant(ms, 'bob', B, false);
  const tracksOf = async (owner: string) => {
    const s = await streamOf(bob.mc, owner, { audio: true, video: true });
    return [
      { stream_id: s.streamId, track_id: s.audio! },
      { stream_id: s.streamId, track_id: s.video!, width: 1280, height: 720 },
    ];
  };
  const local = await tracksOf(dave.userId);
  const relayed = await tracksOf(alice.userId);
  await subscribe(bob.mc, local, 'sub-dave');
  await waitFor(() => videoFrom(bob) > 30, 30_000, 'bob receives dave (local) video');

  for (const [i, [from, to, what]] of (
    [
      [local, relayed, 'alice (relayed)'],
      [relayed, local, 'dave (local)'],
      [local, relayed, 'alice (relayed) again'],
    ] as const
  ).entries()) {
    t.notOk(
      await request(bob.mc, dc.unsubscribeFrame('A', from, `unsub-${i}`), `unsub-${i}`),
      `unsub-${i} not refused`,
    );
    const before = videoFrom(bob);
    t.notOk(
      await request(bob.mc, dc.subscribeFrame('A', to, `sub-${i}`), `sub-${i}`),
      `sub-${i} not refused`,
    );
    await waitFor(() => videoFrom(bob) > before + 30, 30_000, `bob receives ${what} video`);
    t.pass(`bob receives ${what} video after moving`);
  }
  t.equal(
    [...bob.received.values()].filter((e) => e.kind === 'video').length,
    1,
    'one video SSRC: the m-line was reused',
  );
  for (const [ssrc, e] of bob.received) {
    const r = e.check.report;
    fewHoles(t, r, `${e.kind} ${ssrc}`);
    t.equal(r.tsBackwards, 0, `${e.kind} ${ssrc}: timestamps never go back`);
    t.same(r.problems, [], `${e.kind} ${ssrc}: no munging problems (picture ids, TL0PICIDX)`);
  }
});

/**
 * Subscriber NACKs never cross a link (protocol.md §8.6). A publisher on a.example, a subscriber on b.example
 * behind a relay (harness/trunkRelay.ts between the subscriber and its focus) that drops 10 % of the RTP its
 * focus sends it; the trunk between the foci is lossless loopback. The subscriber's werift peer NACKs what it
 * missed; focus B must answer from its own retransmission buffer, and focus A — whose only peer besides its
 * publisher is the link — must receive no subscriber NACK (its `sfu_nack_received_total` counts link NACKs too).
 * The loopback trunk is lossless only while the host keeps up: under a loaded CI run focus B can miss trunk
 * packets and repair them per hop (§8.6), NACKing focus A itself. Those NACKs are B's own, counted in B's
 * `sfu_nack_sent_total` (the link is B's only publisher), so A may receive at most that many; a forwarded
 * subscriber NACK would put A above it.
 */
import t from 'tap';
import { asWerift, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import type { FocusNode } from '../../../harness/multiStack.js';
import { waitFor } from '../../../harness/stack.js';
import { relayCallsBetween } from '../../../harness/trunkRelay.js';
import { publishSimulcast } from './cascadeMedia.js';

const A = 'a.example';
const B = 'b.example';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One sample of a focus's metrics (the sum over its label sets). */
async function metric(node: FocusNode, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{${labels}`) || line.startsWith(`${name} `)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

t.test('subscriber NACKs are answered by its own focus and never cross the link', async (t) => {
  const ms = await startMultiCallStack(t);
  const alice = await ms.client('alice', A);
  const bob = await ms.client('bob', B);
  const last = await relayCallsBetween(ms.hs, bob.userId, ms.node(B).focus.user_id);
  t.teardown(() => {
    last.close();
  });
  await publishSimulcast(t, { focusRef: ms.node(A).focus }, alice);
  const sub = await joinWithMedia({ focusRef: ms.node(B).focus }, bob, {});
  let received = 0;
  asWerift(bob.peer).onRtp((r) => {
    if (r.kind === 'video') {
      received++;
    }
  });
  const s = await streamOf(sub, alice.userId, { audio: true, video: true });
  await subscribe(
    sub,
    [
      { stream_id: s.streamId, track_id: s.audio! },
      { stream_id: s.streamId, track_id: s.video!, width: 1280, height: 720 },
    ],
    'sub-1',
  );
  await waitFor(() => received > 100, 30_000, 'relayed video at the subscriber on b.example');
  t.equal(last.calls.length, 1, "the subscriber's call goes through the relay");

  const before = {
    aNacks: await metric(ms.node(A), 'sfu_nack_received_total'),
    bNacks: await metric(ms.node(B), 'sfu_nack_received_total'),
    bTrunkNacks: await metric(ms.node(B), 'sfu_nack_sent_total'),
    bAnswers: await metric(ms.node(B), 'sfu_retransmitted_packets_total', 'result="sent"'),
  };
  last.setRules('ba', { loss: 0.1 });
  await sleep(6000);
  last.setRules('ba', {});
  await sleep(1500);
  const dropped = last.stats('ba').droppedLoss;
  const bNacks = (await metric(ms.node(B), 'sfu_nack_received_total')) - before.bNacks;
  const bAnswers =
    (await metric(ms.node(B), 'sfu_retransmitted_packets_total', 'result="sent"')) - before.bAnswers;
  const bTrunkNacks = (await metric(ms.node(B), 'sfu_nack_sent_total')) - before.bTrunkNacks;
  const aNacks = (await metric(ms.node(A), 'sfu_nack_received_total')) - before.aNacks;
  t.comment(
    `relay dropped ${dropped}; B received ${bNacks} NACKed seqs, retransmitted ${bAnswers}; ` +
      `B NACKed the trunk for ${bTrunkNacks}; A got ${aNacks}`,
  );
  t.ok(dropped >= 20, `the relay dropped RTP on the last hop (${dropped})`);
  t.ok(bNacks >= 5, `the subscriber NACKed its focus (${bNacks} sequence numbers)`);
  t.ok(bAnswers >= 5, `focus B answered from its own buffer (${bAnswers} retransmissions)`);
  t.ok(
    aNacks <= bTrunkNacks,
    `focus A received only B's own trunk repairs over the link (${aNacks} ≤ ${bTrunkNacks}), no subscriber NACK`,
  );
  t.same(ms.hs.rejections, [], 'the homeserver rejected nothing');
});

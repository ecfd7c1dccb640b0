/**
 * 2 % random loss on the trunk only (harness/trunkRelay.ts between two real foci): a publisher on a.example
 * (synthetic 3-layer simulcast + Opus), a subscriber on b.example at 1280×720. The relay records every trunk RTP
 * sequence number it drops before any copy of it went through; the receiving focus's NACKs and the sending
 * focus's retransmission buffer (§8.6) must repair ≥ 99 % of them, per the relay's own count of later copies.
 */
import t from 'tap';
import { asWerift, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { publishSimulcast } from './cascadeMedia.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import { waitFor } from '../../../harness/stack.js';
import { insertTrunkRelay } from '../../../harness/trunkRelay.js';

const A = 'a.example';
const B = 'b.example';
const LAYERS = [
  {
    rid: 'q',
    fps: 15,
    packetsPerFrame: 1,
    payloadBytes: 600,
    keyframeIntervalMs: 3000,
    width: 320,
    height: 180,
  },
  {
    rid: 'h',
    fps: 15,
    packetsPerFrame: 1,
    payloadBytes: 800,
    keyframeIntervalMs: 3000,
    width: 640,
    height: 360,
  },
  {
    rid: 'f',
    fps: 30,
    packetsPerFrame: 4,
    payloadBytes: 1000,
    keyframeIntervalMs: 3000,
    width: 1280,
    height: 720,
  },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('2 % loss on the trunk: ≥ 99 % of the lost trunk packets repaired', async (t) => {
  const ms = await startMultiCallStack(t);
  const trunk = await insertTrunkRelay(ms, A, B);
  t.teardown(() => {
    trunk.close();
  });
  const alice = await ms.client('alice', A);
  const bob = await ms.client('bob', B);
  await publishSimulcast(t, { focusRef: ms.node(A).focus }, alice, LAYERS);
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
  await waitFor(() => received > 100, 20_000, 'relayed video at the subscriber on b.example');
  const before = new Map([...trunk.stats('ab').perSsrc].map(([k, v]) => [k, { ...v }]));
  trunk.setRules('ab', { loss: 0.02 });
  await sleep(8000);
  trunk.setRules('ab', {});
  await sleep(2000); // the last repairs
  let lostSeqs = 0;
  let repaired = 0;
  for (const [ssrc, x] of trunk.stats('ab').perSsrc) {
    const b = before.get(ssrc);
    lostSeqs += x.lostSeqs - (b?.lostSeqs ?? 0);
    repaired += x.repaired - (b?.repaired ?? 0);
  }
  t.ok(lostSeqs > 20, `the relay dropped trunk packets (${lostSeqs} sequence numbers)`);
  t.ok(repaired >= 0.99 * lostSeqs, `repaired ${repaired} of ${lostSeqs} (≥ 99 %)`);
  t.same(ms.hs.rejections, [], 'the homeserver rejected nothing');
});

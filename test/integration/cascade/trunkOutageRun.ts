/**
 * The trunk-outage scenario of trunkOutage*.test.ts, against two real foci through a relay
 * (harness/trunkRelay.ts): a publisher on a.example (synthetic 3-layer simulcast + Opus), a subscriber on
 * b.example. The trunk is blackholed both ways for `outageMs`, then restored: relayed media is back at the
 * subscriber within 2 s of the restore and keeps flowing, and neither client is renegotiated (no SFU offer to
 * answer) — the link recovers underneath (protocol.md §8.7), by ICE restart or by relink depending on when the
 * path comes back. The relay proves the link's media really crossed it: every RTP packet the subscriber got was
 * counted on the relay first. `TRUNK_OUTAGE_MS` overrides the duration (manual runs at other durations).
 */
import type { Test } from 'tap';
import { asWerift, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { publishSimulcast } from './cascadeMedia.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import { waitFor } from '../../../harness/stack.js';
import { insertTrunkRelay } from '../../../harness/trunkRelay.js';

const A = 'a.example';
const B = 'b.example';
/** Media must be back this soon after the restore. */
export const RECOVERY_BUDGET_MS = 2000;
const LAYERS = [
  {
    rid: 'q',
    fps: 15,
    packetsPerFrame: 1,
    payloadBytes: 600,
    keyframeIntervalMs: 1000,
    width: 320,
    height: 180,
  },
  {
    rid: 'h',
    fps: 15,
    packetsPerFrame: 1,
    payloadBytes: 800,
    keyframeIntervalMs: 1000,
    width: 640,
    height: 360,
  },
  {
    rid: 'f',
    fps: 15,
    packetsPerFrame: 2,
    payloadBytes: 1000,
    keyframeIntervalMs: 1000,
    width: 1280,
    height: 720,
  },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The outage duration: `TRUNK_OUTAGE_MS` when set (a positive number), else `defaultMs`. */
export function outageMs(defaultMs: number): number {
  const env = Number(process.env['TRUNK_OUTAGE_MS']);
  return Number.isFinite(env) && env > 0 ? env : defaultMs;
}

export async function trunkOutage(t: Test, blackholeMs: number): Promise<void> {
  const ms = await startMultiCallStack(t);
  const trunk = await insertTrunkRelay(ms, A, B);
  t.teardown(() => {
    trunk.close();
  });
  const alice = await ms.client('alice', A);
  const bob = await ms.client('bob', B);
  const { mc: pub } = await publishSimulcast(t, { focusRef: ms.node(A).focus }, alice, LAYERS);
  const sub = await joinWithMedia({ focusRef: ms.node(B).focus }, bob, {});
  const arrivals: number[] = [];
  asWerift(bob.peer).onRtp((r) => {
    if (r.kind === 'video') {
      arrivals.push(Date.now());
    }
  });
  const s = await streamOf(sub, alice.userId, { audio: true, video: true });
  await subscribe(
    sub,
    [
      { stream_id: s.streamId, track_id: s.audio! },
      { stream_id: s.streamId, track_id: s.video!, width: 320, height: 180 },
    ],
    'sub-1',
  );
  await waitFor(() => arrivals.length > 30, 20_000, 'relayed video at the subscriber on b.example');
  t.equal(trunk.calls.length, 1, 'one link call, through the relay');
  t.ok(trunk.rewritten.a > 0 && trunk.rewritten.b > 0, "both foci's candidates pointed at the relay");
  const relayed = [...trunk.stats('ab').perSsrc.values()].reduce((n, x) => n + x.packets, 0);
  t.ok(relayed >= arrivals.length, `the trunk RTP crossed the relay (${relayed} ≥ ${arrivals.length})`);
  const answered = { pub: pub.answered(), sub: sub.answered() };

  await trunk.blackhole(blackholeMs);
  const restoredAt = Date.now();
  const during = arrivals.filter((at) => at > restoredAt - blackholeMs + 1000 && at <= restoredAt).length;
  t.equal(during, 0, 'nothing reached the subscriber while the trunk was blackholed');
  await waitFor(
    () => arrivals.some((at) => at > restoredAt),
    10_000,
    'relayed video after the trunk was restored',
  );
  const backMs = arrivals.find((at) => at > restoredAt)! - restoredAt;
  t.ok(
    backMs <= RECOVERY_BUDGET_MS,
    `media back ${backMs} ms after a ${blackholeMs} ms outage (≤ ${RECOVERY_BUDGET_MS}; link calls: ${trunk.calls.length})`,
  );
  await sleep(1000);
  const end = Date.now();
  t.ok(
    arrivals.some((at) => at > end - 500),
    'relayed video still arriving 1 s after the recovery',
  );
  t.same({ pub: pub.answered(), sub: sub.answered() }, answered, 'no client renegotiated');
  t.same(ms.hs.rejections, [], 'the homeserver rejected nothing');
}

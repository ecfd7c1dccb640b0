/**
 * The trunk between two real foci through a relay (harness/trunkRelay.ts): a publisher on a.example (synthetic
 * 3-layer simulcast + Opus), a subscriber on b.example. The trunk is blackholed for 5 s, both ways, then restored:
 * relayed media is back at the subscriber within 2 s of the restore, and neither client is renegotiated (no SFU
 * offer to answer) — the link recovers underneath (protocol.md §8.7). The relay proves the link's media really
 * crossed it: every RTP packet the subscriber got was counted on the relay first.
 */
import t from 'tap';
import { asWerift, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
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

t.test(
  'trunk blackholed for 5 s, then restored: media back within 2 s, no client renegotiation',
  async (t) => {
    const ms = await startMultiCallStack(t);
    const trunk = await insertTrunkRelay(ms, A, B);
    t.teardown(() => {
      trunk.close();
    });
    const alice = await ms.client('alice', A);
    const bob = await ms.client('bob', B);
    const pub = await joinWithMedia({ focusRef: ms.node(A).focus }, alice, {
      audio: true,
      video: { simulcast: true },
    });
    const video = asWerift(alice.peer).startSyntheticSimulcast(LAYERS);
    t.teardown(() => {
      video.stop();
    });
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

    await trunk.blackhole(5000);
    const restoredAt = Date.now();
    const during = arrivals.filter((at) => at > restoredAt - 4000 && at <= restoredAt).length;
    t.equal(during, 0, 'nothing reached the subscriber while the trunk was blackholed');
    await waitFor(
      () => arrivals.some((at) => at > restoredAt),
      10_000,
      'relayed video after the trunk was restored',
    );
    const backMs = arrivals.find((at) => at > restoredAt)! - restoredAt;
    t.ok(backMs <= 2000, `media back ${backMs} ms after the restore (≤ 2000)`);
    await sleep(1000);
    t.same({ pub: pub.answered(), sub: sub.answered() }, answered, 'no client renegotiated');
    t.same(ms.hs.rejections, [], 'the homeserver rejected nothing');
  },
);

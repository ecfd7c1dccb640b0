/**
 * Unwatched simulcast layers dropped before decryption (media/layerSkip.ts), with real peers: a werift publisher
 * sending synthetic 3-layer simulcast (q 15, h 30, f 45 pkt/s), one werift subscriber. While it watches 320×180
 * the SFU skips most of h and f unread (`sfu_rtp_unwatched_skipped_total`, at most all of them less one
 * decrypted packet per layer per 500 ms) and the subscriber gets q alone; resized to 1280×720 it gets f (the
 * switch's keyframe is decrypted although f was skipped before), f is no longer skipped, h and q are.
 */
import t from 'tap';
import { startCallStack, type CallStack } from '../../../harness/callStack.js';
import { asWerift, joinWithMedia, resize, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { waitFor } from '../../../harness/stack.js';
import { publishSimulcast } from '../cascade/cascadeMedia.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function skipped(cs: CallStack): Promise<number> {
  const text = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_rtp_unwatched_skipped_total');
  const line = text.split('\n').find((l) => l.startsWith('sfu_rtp_unwatched_skipped_total '));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

t.test('layers nobody watches are skipped unread; a switch to one still works', async (t) => {
  const cs = await startCallStack(t);
  const alice = await cs.client('alice');
  const { video } = await publishSimulcast(t, cs, alice);
  const bob = await cs.client('bob');
  const sub = await joinWithMedia(cs, bob, {});
  const widths = new Map<number, number>();
  asWerift(bob.peer).onRtp((r) => {
    if (r.kind === 'video' && r.payload.length >= 10) {
      const w = r.payload.readUInt16BE(r.payload.length - 10);
      widths.set(w, (widths.get(w) ?? 0) + 1);
    }
  });
  const s = await streamOf(sub, alice.userId, { video: true });
  await subscribe(sub, [{ stream_id: s.streamId, track_id: s.video!, width: 320, height: 180 }], 'sub-q');
  await waitFor(() => (widths.get(320) ?? 0) > 30, 20_000, 'q at the subscriber');
  await sleep(1500); // every layer measured, the skip settled

  const sentBefore = video.sent();
  const skippedBefore = await skipped(cs);
  widths.clear();
  await sleep(4000);
  const sent = video.sent();
  const hf = sent['h']! - sentBefore['h']! + (sent['f']! - sentBefore['f']!);
  const skip = (await skipped(cs)) - skippedBefore;
  t.comment(`h + f sent ${hf}, skipped unread ${skip}; the subscriber got ${JSON.stringify([...widths])}`);
  t.ok(skip <= hf + 3, 'never more than the unwatched layers sent (± the packets in flight at the edges)');
  t.ok(
    skip >= hf * 0.75,
    `most of h and f skipped (${skip} of ${hf}; one per layer per 500 ms is decrypted)`,
  );
  t.same([...widths.keys()], [320], 'the subscriber got q alone');

  resize(sub, s.streamId, s.video!, 1280, 720, 'sub-f');
  await waitFor(() => (widths.get(1280) ?? 0) > 20, 10_000, 'f at the subscriber after the resize');
  await sleep(1000);
  const fBefore = widths.get(1280) ?? 0;
  const sentF0 = video.sent();
  const skip0 = await skipped(cs);
  await sleep(3000);
  const sentF1 = video.sent();
  const skipF = (await skipped(cs)) - skip0;
  const fSent = sentF1['f']! - sentF0['f']!;
  const hqSent = sentF1['h']! - sentF0['h']! + (sentF1['q']! - sentF0['q']!);
  const fGot = (widths.get(1280) ?? 0) - fBefore;
  t.comment(`after the switch: f sent ${fSent}, got ${fGot}; h + q sent ${hqSent}; skipped ${skipF}`);
  t.ok(fGot >= fSent * 0.9, `f flows to the subscriber (${fGot} of ${fSent})`);
  t.ok(skipF <= hqSent + 3, 'only h and q can be skipped now, not f');
  t.ok(skipF >= hqSent * 0.5, `h and q are skipped (${skipF} of ${hqSent})`);
  t.same(cs.hs.rejections, [], 'the homeserver rejected nothing');
});

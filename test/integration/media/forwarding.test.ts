/**
 * The forwarding core with real peers through the test homeserver and the data channel (protocol.md §7): a
 * libwebrtc (@roamhq/wrtc) publisher sends 3-layer VP8 simulcast + Opus; a werift subscriber checks every
 * packet it receives (seq +1, timestamps monotonic, picture id +1 per frame, TL0PICIDX) and which layer
 * arrives (VP8 keyframe sizes), across switches up and down; the audio continues across video switches.
 */
import t from 'tap';
import { startCallStack } from '../../../harness/callStack.js';
import { asWerift, joinWithMedia, resize, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { fewHoles, StreamChecker } from '../../../harness/rtpCheck.js';
import { waitFor } from '../../../harness/stack.js';

t.test(
  'wrtc simulcast publisher → werift subscriber: low layer, switch up and down, continuous',
  async (t) => {
    const cs = await startCallStack(t);
    const alice = await cs.client('alice', { kind: 'wrtc' });
    const bob = await cs.client('bob');
    await joinWithMedia(cs, alice, { audio: true, video: { simulcast: true } });
    const b = await joinWithMedia(cs, bob, {});
    const s = await streamOf(b, alice.userId, { audio: true, video: true });

    const video = new StreamChecker(true);
    const audio = new StreamChecker(false);
    asWerift(bob.peer).onRtp((r) => {
      (r.kind === 'video' ? video : audio).add(r);
    });
    await subscribe(
      b,
      [
        { stream_id: s.streamId, track_id: s.audio! },
        { stream_id: s.streamId, track_id: s.video!, width: 320, height: 180 },
      ],
      'sub-1',
    );
    await waitFor(
      () => video.report.keyframes.length > 0 && video.report.packets > 50,
      20_000,
      'low layer video',
    );
    t.same(
      video.report.keyframes.map((k) => `${k.width}x${k.height}`).filter((x, i, all) => all.indexOf(x) === i),
      ['320x180'],
      'only the 320×180 layer arrives',
    );
    t.ok(audio.report.packets > 0, 'audio arrives');

    const upAt = Date.now();
    resize(b, s.streamId, s.video!, 1280, 720, 'up');
    await waitFor(() => video.report.keyframes.some((k) => k.width === 1280), 20_000, 'high layer keyframe');
    const upMs = video.report.keyframes.find((k) => k.width === 1280)!.at - upAt;
    t.comment(`switch up: first 1280×720 keyframe ${upMs} ms after the resize`);
    const afterUp = video.report.packets;
    await waitFor(() => video.report.packets > afterUp + 100, 20_000, 'high layer flowing');

    const downAt = Date.now();
    resize(b, s.streamId, s.video!, 640, 360, 'down');
    await waitFor(
      () => video.report.keyframes.some((k) => k.width === 640 && k.at >= downAt),
      20_000,
      'middle layer keyframe',
    );
    const audioBefore = audio.report.packets;
    await waitFor(() => audio.report.packets > audioBefore + 20, 20_000, 'audio continues');

    t.equal(video.report.ssrcs.size, 1, 'one SSRC for the subscription across switches');
    t.same(video.report.problems, [], 'video: no seq, timestamp, picture id or TL0PICIDX discontinuity');
    fewHoles(t, video.report, 'video');
    t.equal(video.report.tsBackwards, 0);
    t.equal(video.report.pictureIdBreaks, 0);
    t.same(audio.report.problems, [], 'audio: continuous across the video switches');
    fewHoles(t, audio.report, 'audio');
    const m = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_layer_switches_total');
    t.match(m, /direction="up"} [1-9]/, 'a switch up counted');
    const sends = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_rtp_sends_total');
    t.match(sends, /path="direct"} [1-9]/, 'forwarded packets left by the direct send path');
    t.notMatch(sends, /path="werift"} [1-9]/, 'none needed the werift fallback (a UDP pair)');
    t.match(m, /direction="down"} [1-9]/, 'a switch down counted');
    t.same(b.dc.violations, [], 'every data-channel frame the SFU sent kept §5');
    t.same(b.c.violations, [], 'every to-device event the SFU sent kept §4.4');
  },
);

t.test('three subscribers at three sizes on one publisher get three different layers at once', async (t) => {
  const cs = await startCallStack(t);
  const alice = await cs.client('alice', { kind: 'wrtc' });
  await joinWithMedia(cs, alice, { audio: true, video: { simulcast: true } });
  const sizes = [
    [320, 180],
    [640, 360],
    [1280, 720],
  ] as const;
  const subs = await Promise.all(
    sizes.map(async ([w, h], i) => {
      const c = await cs.client(`sub${i}`);
      const mc = await joinWithMedia(cs, c, {});
      const s = await streamOf(mc, alice.userId, { video: true });
      const check = new StreamChecker(true);
      asWerift(c.peer).onRtp((r) => {
        if (r.kind === 'video') {
          check.add(r);
        }
      });
      await subscribe(mc, [{ stream_id: s.streamId, track_id: s.video!, width: w, height: h }], `s${i}`);
      return { w, h, check, mc };
    }),
  );
  // A layer the publisher has not started yet (libwebrtc ramps up its top layer once the SFU's REMB
  // arrives) cannot be forwarded: a subscriber may start one layer down and move up when it flows. What
  // must hold is that, once each is on its layer, all three run at once and stay there.
  const own = (s: (typeof subs)[number]) =>
    s.check.report.keyframes.findIndex((k) => k.width === s.w && k.height === s.h);
  await waitFor(() => subs.every((s) => own(s) >= 0), 20_000, 'each subscriber on its own layer');
  const from = subs.map((s) => own(s));
  const before = subs.map((s) => s.check.report.packets);
  await waitFor(
    () => subs.every((s, i) => s.check.report.packets >= before[i]! + 60),
    20_000,
    'more video at every subscriber',
  );
  subs.forEach((s, i) => {
    const early = s.check.report.keyframes.slice(0, from[i]).map((k) => `${k.width}x${k.height}`);
    if (early.length > 0) {
      t.comment(`${s.w}×${s.h}: started on ${early.join(', ')} while the publisher ramped up`);
    }
  });
  const est = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_bandwidth_estimate_bps');
  t.comment(`bandwidth estimates made: ${/_count (\d+)/.exec(est)?.[1] ?? '0'}`);
  for (const [i, s] of subs.entries()) {
    t.same(
      [...new Set(s.check.report.keyframes.slice(from[i]).map((k) => `${k.width}x${k.height}`))],
      [`${s.w}x${s.h}`],
      `the ${s.w}×${s.h} subscriber receives exactly that layer, alongside the others`,
    );
    t.same(s.check.report.problems, [], `${s.w}×${s.h}: continuous`);
    fewHoles(t, s.check.report, `${s.w}×${s.h}`);
    t.same([...s.mc.dc.violations, ...s.mc.c.violations], [], `${s.w}×${s.h}: the SFU kept §4.4 and §5`);
  }
});

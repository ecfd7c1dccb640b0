/**
 * PublishedTrack fed packet views over RTP bytes, with a fake clock: malformed and unknown input is counted and
 * dropped without throwing, a failing subscriber never stops the others, layers stall after 2 s without RTP
 * (and come back), keyframe sizes are measured, keyframe requests are throttled per SSRC.
 */
import { pino } from 'pino';
import t from 'tap';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import { PublishedTrack, type SourcePacket, type TrackSink } from '../../../src/media/publishedTrack.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { FakeClock } from '../../helpers/fakeClock.js';

const VP8 = { payloadType: 96, mimeType: 'video/VP8', clockRate: 90000 };

function setup(rids: string[] = ['q', 'h', 'f']) {
  const clock = new FakeClock();
  const counters = new MediaCounters();
  const requests: number[] = [];
  const track = new PublishedTrack({
    kind: 'video',
    mid: '1',
    rids,
    restrictions: new Map(),
    clock,
    counters,
    log: pino({ level: 'silent' }),
    pliMinIntervalMs: 500,
    codecs: () => [VP8],
    extensions: () => [],
    requestKeyframe: (ssrc) => requests.push(ssrc),
  });
  return { clock, counters, requests, track };
}

/** A view over one RTP packet's bytes (a fresh view per packet: the tests keep none past `handle`). */
function rtp(ssrc: number, seq: number, pt: number, payload: number[]): RtpPacketView {
  const head = writeRtpHeader({
    ssrc,
    sequenceNumber: seq,
    timestamp: seq * 3000,
    payloadType: pt,
    marker: false,
    extensions: [],
  });
  const v = new RtpPacketView();
  v.reset(Buffer.concat([head, Buffer.from(payload)]));
  return v;
}

/** A VP8 packet: descriptor X=1,S=1 with a 15-bit picture id, then a keyframe header of `w`×`h` (or a delta). */
function vp8Packet(
  ssrc: number,
  seq: number,
  key: { w: number; h: number } | undefined,
  pt = 96,
): RtpPacketView {
  const desc = [0x90, 0x80, 0x80, 0x01]; // X S | I | M=1 pid 0x0001
  const body = key
    ? [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, key.w & 0xff, key.w >> 8, key.h & 0xff, key.h >> 8, 0, 0]
    : [0x11, 0x02, 0x00, 0, 0, 0];
  return rtp(ssrc, seq, pt, [...desc, ...body]);
}

function sink(onPacket: (p: SourcePacket) => void = () => undefined) {
  const s = { packets: [] as SourcePacket[], layerChanges: 0, closed: false };
  const impl: TrackSink = {
    onPacket: (p) => {
      s.packets.push(p);
      onPacket(p);
    },
    onLayersChanged: () => {
      s.layerChanges++;
    },
    onTrackClosed: () => {
      s.closed = true;
    },
  };
  return { s, impl };
}

t.test('malformed and unknown packets are counted and dropped, never thrown', async (t) => {
  const { counters, track } = setup();
  const a = sink();
  track.addSink(a.impl);
  const truncated = rtp(1, 0, 96, [0x90]); // X set, no X byte
  t.doesNotThrow(() => {
    track.handle(truncated, 'q');
  });
  t.equal(counters.dropped.malformed, 1, 'truncated VP8 descriptor: malformed');
  track.handle(vp8Packet(1, 1, undefined, 111), 'q');
  t.equal(counters.dropped.unknown_stream, 1, 'unknown payload type');
  track.handle(vp8Packet(99, 2, undefined), 'x');
  t.equal(counters.dropped.unknown_stream, 2, 'unknown rid');
  t.equal(a.s.packets.length, 0, 'nothing reached the subscriber');
  track.handle(rtp(1, 0, 96, []), 'q');
  t.equal(a.s.packets.length, 1, 'padding-only reaches the forwarder (which drops it without a seq hole)');
  t.equal(a.s.packets[0]?.fwd.payloadSize, 0);
});

t.test('a failing subscriber does not stop forwarding to the others', async (t) => {
  const { track } = setup();
  const bad = sink(() => {
    throw new Error('boom');
  });
  const good = sink();
  track.addSink(bad.impl);
  track.addSink(good.impl);
  for (let i = 0; i < 5; i++) {
    t.doesNotThrow(() => {
      track.handle(vp8Packet(1, i, undefined), 'q');
    });
  }
  t.equal(good.s.packets.length, 5, 'the other subscriber got every packet');
});

t.test('layers: measured keyframe size, ordered by size, stall after 2 s and resume', async (t) => {
  const { clock, track } = setup();
  const a = sink();
  track.addSink(a.impl);
  track.handle(vp8Packet(30, 1, { w: 1280, h: 720 }), 'f');
  track.handle(vp8Packet(10, 1, { w: 320, h: 180 }), 'q');
  track.handle(vp8Packet(20, 1, { w: 640, h: 360 }), 'h');
  const v = track.selectable();
  t.same(
    v.layers.map((l) => l.size),
    [
      { width: 320, height: 180 },
      { width: 640, height: 360 },
      { width: 1280, height: 720 },
    ],
  );
  t.same(
    v.layers.map((l) => l.active),
    [true, true, true],
  );
  const changes = a.s.layerChanges;
  clock.advance(1000);
  track.handle(vp8Packet(10, 2, undefined), 'q');
  track.handle(vp8Packet(20, 2, undefined), 'h');
  clock.advance(999); // f silent for 1999 ms
  track.tick(clock.now());
  t.equal(track.selectable().layers[2]?.active, true, 'still active at 1999 ms');
  clock.advance(1);
  track.tick(clock.now());
  t.equal(track.selectable().layers[2]?.active, false, 'stalled at 2000 ms');
  t.ok(a.s.layerChanges > changes, 'subscribers told');
  track.handle(vp8Packet(30, 2, undefined), undefined); // by SSRC, rid learned before
  t.equal(track.selectable().layers[2]?.active, true, 'resumes with its next packet');
});

t.test('padding-only packets keep no layer alive (a browser pads a paused layer)', async (t) => {
  const { clock, track } = setup();
  track.handle(vp8Packet(10, 1, { w: 320, h: 180 }), 'q');
  track.handle(vp8Packet(30, 1, { w: 1280, h: 720 }), 'f');
  /** A padding-only packet on SSRC 30: P bit, no payload, 20 bytes of padding. */
  const pad = (seq: number) => {
    const b = Buffer.from(vp8Packet(30, seq, undefined).buffer.subarray(0, 12));
    b[0] = (b[0] as number) | 0x20;
    const v = new RtpPacketView();
    v.reset(Buffer.concat([b, Buffer.alloc(19), Buffer.from([20])]));
    return v;
  };
  for (let i = 0; i < 30; i++) {
    clock.advance(100);
    track.handle(vp8Packet(10, 2 + i, undefined), 'q');
    track.handle(pad(2 + i), 'f');
    track.tick(clock.now());
  }
  const [q, , f] = track.selectable().layers;
  t.equal(q?.active, true, 'q, with media, flows');
  t.equal(f?.active, false, 'f, with only padding for 3 s, stalled');
  t.equal(f?.bitrateBps ?? 0, 0, 'and padding is no bitrate');
  track.handle(vp8Packet(30, 40, undefined), 'f');
  t.equal(track.selectable().layers[2]?.active, true, 'its next media packet resumes it');
});

t.test(
  'keyframe requests: one per SSRC per interval, one inside it sent when it ends, unless a keyframe came',
  async (t) => {
    const { clock, counters, requests, track } = setup();
    track.handle(vp8Packet(10, 1, undefined), 'q');
    track.handle(vp8Packet(20, 1, undefined), 'h');
    const q = track.selectable().ids[0]!;
    const h = track.selectable().ids[1]!;
    track.requestKeyframe(q, 'switch');
    track.requestKeyframe(q, 'switch');
    track.requestKeyframe(h, 'switch');
    t.same(requests, [10, 20], 'one per SSRC at once');
    clock.advance(499);
    track.requestKeyframe(q, 'retry');
    track.tick(clock.now());
    t.same(requests, [10, 20], 'inside the 500 ms: nothing yet');
    clock.advance(1);
    track.tick(clock.now());
    t.same(requests, [10, 20, 10], 'the waiting request goes when the interval ends');
    t.equal(counters.keyframeRequests.switch, 2);
    t.equal(counters.keyframeRequests.deferred, 1);
    t.equal(counters.keyframeRequests.retry, 0, 'the retry did not cause a request of its own');
    track.tick(clock.now() + 1000);
    t.equal(requests.length, 3, 'and only once');

    // A keyframe of h arriving after a coalesced request answers it: no PLI at the end of the interval.
    clock.advance(100);
    track.requestKeyframe(h, 'switch'); // 600 ms after h's last: sent at once
    clock.advance(100);
    track.requestKeyframe(h, 'subscriber'); // inside the interval: waits
    track.handle(vp8Packet(20, 2, { w: 640, h: 360 }), 'h');
    clock.advance(500);
    track.tick(clock.now());
    t.same(requests, [10, 20, 10, 20], 'h asked once more, the waiting request answered by the keyframe');

    track.requestKeyframe(2, 'switch'); // f: SSRC unknown yet
    t.equal(requests.length, 4, 'no request for a layer whose SSRC is unknown');
  },
);

t.test('closing the track tells its subscribers', async (t) => {
  const { track } = setup([]);
  const a = sink();
  track.addSink(a.impl);
  track.close();
  t.equal(a.s.closed, true);
  const late = sink();
  track.addSink(late.impl);
  t.equal(late.s.closed, true, 'a subscriber added after close is told at once');
});

t.test(
  'codec handlers: chosen once per codec list, by payload type; H.264 keyframes; audio levels',
  async (t) => {
    const clock = new FakeClock();
    const counters = new MediaCounters();
    let codecs = [
      { payloadType: 96, mimeType: 'video/VP8', clockRate: 90000 },
      { payloadType: 102, mimeType: 'video/H264', clockRate: 90000, parameters: 'packetization-mode=1' },
    ];
    const video = new PublishedTrack({
      kind: 'video',
      mid: '1',
      rids: [],
      restrictions: new Map(),
      clock,
      counters,
      log: pino({ level: 'silent' }),
      pliMinIntervalMs: 500,
      codecs: () => codecs,
      extensions: () => [],
      requestKeyframe: () => undefined,
    });
    const seen: { name: string; keyframe: boolean; pt: number }[] = [];
    const entries: object[] = [];
    const b = sink((p) => {
      seen.push({ name: p.codec.handler.name, keyframe: p.fwd.keyframe, pt: p.codec.payloadType });
      entries.push(p.codec);
    });
    video.addSink(b.impl);
    video.handle(rtp(7, 1, 102, [0x65, 0x88]), undefined); // IDR
    video.handle(rtp(7, 2, 102, [0x41, 0x9a]), undefined); // non-IDR
    video.handle(rtp(7, 3, 102, [0x7c, 0x85, 0]), undefined); // FU-A start of an IDR
    video.handle(rtp(7, 4, 102, [0x7c, 0x05, 0]), undefined); // FU-A middle
    video.handle(rtp(7, 5, 96, [0x10, 0x10, 0x02, 0x00]), undefined); // VP8 keyframe start
    video.handle(rtp(7, 6, 96, [0x10, 0x11, 0x02, 0x00]), undefined); // VP8 delta
    t.same(seen, [
      { name: 'h264', keyframe: true, pt: 102 },
      { name: 'h264', keyframe: false, pt: 102 },
      { name: 'h264', keyframe: true, pt: 102 },
      { name: 'h264', keyframe: false, pt: 102 },
      { name: 'vp8', keyframe: true, pt: 96 },
      { name: 'vp8', keyframe: false, pt: 96 },
    ]);
    t.equal(counters.packets.in_video, 6);
    t.equal(entries[3], entries[0], 'the same codec entry (and handler) while the list is the same');
    codecs = [{ payloadType: 102, mimeType: 'video/VP8', clockRate: 90000 }]; // renegotiated: 102 is VP8 now
    video.handle(rtp(7, 8, 102, [0x10, 0x10, 0x02, 0x00]), undefined);
    t.same(seen.at(-1), { name: 'vp8', keyframe: true, pt: 102 }, 'a new list: handlers chosen again');

    const audio = new PublishedTrack({
      kind: 'audio',
      mid: '0',
      rids: [],
      restrictions: new Map(),
      clock,
      counters,
      log: pino({ level: 'silent' }),
      pliMinIntervalMs: 500,
      codecs: () => [{ payloadType: 111, mimeType: 'audio/opus', clockRate: 48000 }],
      extensions: () => [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 5 }],
      requestKeyframe: () => undefined,
    });
    const levels: (number | undefined)[] = [];
    audio.addSink(sink((p) => levels.push(p.audioLevel?.[0])).impl);
    const withLevel = (seq: number, level: number) => {
      const head = writeRtpHeader({
        ssrc: 9,
        sequenceNumber: seq,
        timestamp: seq * 960,
        payloadType: 111,
        marker: false,
        extensions: [{ id: 5, payload: Uint8Array.of(0x80 | level) }],
      });
      const v = new RtpPacketView();
      v.reset(Buffer.concat([head, Buffer.from([0xf8, 0xff, 0xfe])]));
      return v;
    };
    audio.handle(withLevel(1, 0), undefined); // 0 dBov: loudest
    audio.handle(withLevel(2, 127), undefined); // silence
    audio.handle(rtp(9, 3, 111, [0xf8]), undefined); // no level
    t.same(levels, [0x80, 0xff, undefined], "the publisher's level element, passed to subscribers as is");
    t.same(audio.takeLoudness(), { sum: 1, count: 2 }, 'loudness of the packets that carried a level');
    t.equal(counters.packets.in_audio, 3);
  },
);

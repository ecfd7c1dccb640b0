/**
 * Fuzz (issue 17): RTP and RTCP bytes as a publisher (or a forged peer) could send them after decryption. RTP:
 * edited valid VP8 / H.264 / Opus packets (header, extensions, payload descriptor) and random bytes through the
 * ingest demux into real published tracks, whose sink rewrites each forwarded VP8 packet's picture id as a
 * subscriber's would: no throw, and every input is either forwarded or counted as a drop by reason. RTCP: edited
 * valid compound packets parsed by werift, each parsed packet read by `readRtcp`: no throw, a known kind. Seeded;
 * `FUZZ_INPUTS` inputs per test.
 */
import { pino } from 'pino';
import t from 'tap';
import { RtcpPacketConverter } from 'werift';
import { IngestDemux } from '../../../src/media/ingest.js';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import { PublishedTrack } from '../../../src/media/publishedTrack.js';
import type { SourcePacket, TrackSink } from '../../../src/media/track.js';
import {
  firPacket,
  pliPacket,
  readRtcp,
  rembPacket,
  senderReportPacket,
} from '../../../src/rtp/rtcpFeedback.js';
import { nackPacket } from '../../../src/rtp/rtcpNack.js';
import { receiverReportPackets } from '../../../src/rtp/receiverReport.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { FakeClock } from '../../helpers/fakeClock.js';
import { fuzzInputs, int, mutateBytes, pick, randomBytes, rng } from '../../helpers/fuzz.js';

const N = fuzzInputs();
const MID_ID = 4;
const RID_ID = 10;
const LEVEL_ID = 1;
const text = (s: string) => Buffer.from(s);

function packet(o: {
  ssrc: number;
  pt: number;
  seq: number;
  ext: { id: number; payload: Uint8Array }[];
  payload: number[];
}): Buffer {
  const head = writeRtpHeader({
    ssrc: o.ssrc,
    sequenceNumber: o.seq,
    timestamp: o.seq * 3000,
    payloadType: o.pt,
    marker: o.seq % 9 === 0,
    extensions: o.ext,
  });
  return Buffer.concat([head, Buffer.from(o.payload)]);
}

const VP8_KEY = [
  0x90, 0xe0, 0x80, 0x01, 0x05, 0x40, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01,
];
const VP8_DELTA = [0x90, 0x80, 0x80, 0x02, 0x11, 0x22, 0x33];
const H264_IDR = [0x65, 0x88, 0x84, 0x00];
const H264_STAPA = [0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce];
const OPUS = [0xfc, 0xff, 0xfe];

const SEEDS: Buffer[] = [
  packet({
    ssrc: 1111,
    pt: 96,
    seq: 1,
    ext: [
      { id: MID_ID, payload: text('1') },
      { id: RID_ID, payload: text('f') },
    ],
    payload: VP8_KEY,
  }),
  packet({ ssrc: 1111, pt: 96, seq: 2, ext: [], payload: VP8_DELTA }),
  packet({
    ssrc: 2222,
    pt: 96,
    seq: 3,
    ext: [
      { id: MID_ID, payload: text('1') },
      { id: RID_ID, payload: text('q') },
    ],
    payload: VP8_DELTA,
  }),
  packet({ ssrc: 3333, pt: 102, seq: 65535, ext: [{ id: MID_ID, payload: text('2') }], payload: H264_IDR }),
  packet({ ssrc: 3333, pt: 102, seq: 0, ext: [], payload: H264_STAPA }),
  packet({
    ssrc: 4444,
    pt: 111,
    seq: 7,
    ext: [
      { id: MID_ID, payload: text('0') },
      { id: LEVEL_ID, payload: Uint8Array.of(0x85) },
    ],
    payload: OPUS,
  }),
];

class RewritingSink implements TrackSink {
  forwarded = 0;
  onPacket(p: SourcePacket): void {
    this.forwarded++;
    // What a subscriber's DownTrack does with the payload: the codec's rewrite in its own copy.
    const copy = Buffer.from(p.payload);
    p.codec.handler.rewrite(copy, 0, p.facts, { pictureId: 0x7fff, tl0PicIdx: 255 });
  }
  onLayersChanged(): void {}
  onTrackClosed(): void {}
}

t.test(`RTP: ${N} edited and random packets through the ingest into published tracks`, async (t) => {
  const r = rng(0x27b);
  const clock = new FakeClock();
  const counters = new MediaCounters();
  const log = pino({ level: 'silent' });
  const common = {
    restrictions: new Map(),
    clock,
    counters,
    log,
    pliMinIntervalMs: 500,
    requestKeyframe: () => undefined,
  };
  const video = new PublishedTrack({
    ...common,
    kind: 'video',
    mid: '1',
    rids: ['q', 'h', 'f'],
    codecs: () => [{ payloadType: 96, mimeType: 'video/VP8', clockRate: 90000 }],
    extensions: () => [],
  });
  const h264 = new PublishedTrack({
    ...common,
    kind: 'video',
    mid: '2',
    rids: [],
    codecs: () => [
      { payloadType: 102, mimeType: 'video/H264', clockRate: 90000, sdpFmtpLine: 'packetization-mode=1' },
    ],
    extensions: () => [],
  });
  const audio = new PublishedTrack({
    ...common,
    kind: 'audio',
    mid: '0',
    rids: [],
    codecs: () => [{ payloadType: 111, mimeType: 'audio/opus', clockRate: 48000 }],
    extensions: () => [{ id: LEVEL_ID, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }],
  });
  const sinks = [new RewritingSink(), new RewritingSink(), new RewritingSink()];
  video.addSink(sinks[0]!);
  h264.addSink(sinks[1]!);
  audio.addSink(sinks[2]!);
  const demux = new IngestDemux(counters, log);
  demux.setExtensionIds(MID_ID, RID_ID);
  demux.bind('1', video, ['q', 'h', 'f'], []);
  demux.bind('2', h264, [], [3333]);
  demux.bind('0', audio, [], []);
  const dropsBefore = Object.values(counters.dropped).reduce((a, b) => a + b, 0);
  for (let i = 0; i < N; i++) {
    const input = r() < 0.1 ? randomBytes(r, 300) : mutateBytes(pick(r, SEEDS), r);
    try {
      demux.receive(input);
    } catch (e) {
      t.fail(`packet ${i} threw: ${String(e)} (${input.toString('hex').slice(0, 120)})`);
    }
    clock.advance(int(r, 40));
  }
  const forwarded = sinks.reduce((n, s) => n + s.forwarded, 0);
  const drops = Object.values(counters.dropped).reduce((a, b) => a + b, 0) - dropsBefore;
  t.ok(
    forwarded > 0 && drops > 0,
    `${forwarded} forwarded, ${drops} dropped (${JSON.stringify(counters.dropped)})`,
  );
  t.equal(forwarded + drops, N, 'every input either forwarded or counted as a drop');
});

t.test(`RTCP: ${N} edited compound packets, each parsed packet read without throwing`, async (t) => {
  const r = rng(0x27c);
  const seeds = [
    pliPacket(1, 2),
    firPacket(1, 2, 7),
    rembPacket(1, 2_500_000, [2, 3]),
    nackPacket(1, 2, [65535, 0, 1, 5, 20]),
    senderReportPacket(1, 0x1234_5678_9abc_def0n, 3000, 10, 12000),
    receiverReportPackets(1, [
      {
        ssrc: 2,
        fractionLost: 12,
        cumulativeLost: 3,
        extendedHighestSeq: 70000,
        jitter: 9,
        lsr: 5,
        dlsr: 6,
        expectedInterval: 10,
        lostInterval: 1,
      },
    ]),
  ].map((b) => Buffer.from(b));
  const compound = Buffer.concat(seeds);
  let parsed = 0;
  let refusedByWerift = 0;
  for (let i = 0; i < N; i++) {
    const input = r() < 0.1 ? randomBytes(r, 200) : mutateBytes(r() < 0.3 ? compound : pick(r, seeds), r);
    let packets: unknown[];
    try {
      packets = RtcpPacketConverter.deSerialize(input);
    } catch {
      refusedByWerift++; // werift's own parser refused the bytes: the SFU never sees them
      continue;
    }
    for (const p of packets) {
      try {
        const f = readRtcp(p);
        if (typeof f.kind !== 'string') {
          t.fail(`packet ${i}: no kind`);
        }
        parsed++;
      } catch (e) {
        t.fail(`packet ${i} threw in readRtcp: ${String(e)} (${input.toString('hex').slice(0, 120)})`);
      }
    }
  }
  t.ok(parsed > 0, `${parsed} parsed packets read, ${refusedByWerift} inputs refused by werift's parser`);
});

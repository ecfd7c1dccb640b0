/**
 * Micro-benchmark: the sending focus's CPU for one packet of a publisher's top layer (1,150-B VP8 payload)
 * sent on a link's trunk (media/link: TrunkSend → header writer → SRTP → the link's send batch) against one
 * forwarded to a local subscriber (media/downTrack.ts: Forwarder, seq/ts/picture-id munging, header, SRTP,
 * send), in the same process and run. One real PublishedTrack (3 VP8 layers) is fed the packets through
 * `handle`, as ingest does; the trunk is a real LinkPeer pair and the subscriber a real werift connection,
 * both over 127.0.0.1. Per round ONE sink is attached: the trunk send, the down track, a sink that does
 * nothing (`base`: the classification and fan-out both share), or `floor` — the least any forwarded packet
 * costs: a 12-byte header, the SRTP encryption and the turn's batched send on the link's transport, with no
 * retransmission record, no munging and no layer choice (`floorOverLocal`: how low the trunk could go if it
 * did nothing but send); the figures are each way's CPU per packet minus `base`. A round feeds frames of 9 packets without yielding to I/O, each frame one batch of received
 * datagrams as the focus's batched receive makes it (turnEnd.ts `hold` / `release`: every queue — the trunk's
 * and the subscribers' — sends at the frame's end; until 2026-12-07 only the trunk's was flushed per frame and
 * the subscribers' queue sent every 64 datagrams, which favoured the local path), so the receivers' work is not
 * in the figure; the three ways
 * alternate, median of 21 rounds of 2,700 packets; a round ends after the sends node:dgram defers to a nextTick.
 * Loopback wake-ups of a sleeping receiver (what the batch
 * saves) are not in it either: the receivers live in this process (bench/README.md `trunkSend`).
 * `node --import @tapjs/typescript/import bench/micro/trunkSend.ts`
 */
import { pino } from 'pino';
import { LinkPeer } from '../../src/media/link/linkPeer.js';
import { DownTrack } from '../../src/media/downTrack.js';
import { MediaCounters } from '../../src/media/mediaMetrics.js';
import type { MediaContext } from '../../src/media/peerMedia.js';
import { PublishedTrack } from '../../src/media/publishedTrack.js';
import type { TrackSink } from '../../src/media/track.js';
import { RtpPacketView } from '../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../src/rtp/rtpHeader.js';
import { systemClock } from '../../src/util/clock.js';
import { turnEnd } from '../../src/media/turnEnd.js';
import { connectedWeriftPair } from '../../harness/peers/weriftPair.js';
import { testConfig } from '../../harness/sfu.js';
import { waitFor } from '../../harness/stack.js';
import { PublisherRemb } from '../../src/media/publisherRemb.js';
import { TrunkHeaderWriter } from '../../src/media/link/trunkHeader.js';
import { TrunkQueue, type TrunkWire } from '../../src/media/link/trunkQueue.js';

const FRAME = 9;
const FRAMES = 300;
const ROUNDS = 21;
const PAYLOAD = 1150;
const VP8 = {
  payloadType: 120,
  mimeType: 'video/VP8',
  clockRate: 90000,
  rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
};
const RIDS = ['q', 'h', 'f'] as const;
const PUB = { q: 0x1000_0001, h: 0x1000_0002, f: 0x1000_0003 };
const SIZES = { q: [320, 180], h: [640, 360], f: [1280, 720] } as const;

// --- the link (A sends on the trunk to B) ---
function side(): { peer: LinkPeer; counters: MediaCounters; open: () => boolean } {
  const counters = new MediaCounters();
  const ctx: MediaContext = {
    clock: systemClock,
    counters,
    log: pino({ level: 'silent' }),
    pliMinIntervalMs: 0,
    publisherRemb: new PublisherRemb(1_000_000, false),
    skipUnwatched: true,
  };
  const media = testConfig({ media: { bind_address: '127.0.0.1' } }).media;
  const peer = new LinkPeer(media, ctx, { maxLinkBps: 50_000_000 });
  let open = false;
  peer.on('dcopen', () => {
    open = true;
  });
  return { peer, counters, open: () => open };
}
const a = side();
const b = side();
const answer = await b.peer.answer(await a.peer.offer());
await a.peer.acceptAnswer(answer);
for (const c of a.peer.localCandidates()) {
  await b.peer.addRemoteCandidate(c);
}
for (const c of b.peer.localCandidates()) {
  await a.peer.addRemoteCandidate(c);
}
await waitFor(
  () => a.peer.state === 'connected' && b.peer.state === 'connected' && a.open() && b.open(),
  20_000,
  'link',
);
// The send path only: no budget can pause f while the bench runs (the controller works per tick, not per packet).
a.peer.setCongestionControl(undefined);

// --- the publication ---
const CODECS = [VP8];
const NO_EXTENSIONS: { uri: string; id: number }[] = [];
const counters = new MediaCounters();
const video = new PublishedTrack({
  kind: 'video',
  mid: '1',
  rids: [...RIDS],
  restrictions: new Map(),
  clock: systemClock,
  counters,
  log: pino({ level: 'silent' }),
  pliMinIntervalMs: 0,
  codecs: () => CODECS, // werift's transceiver keeps one array (a new one per call rebuilt the codec table)
  extensions: () => NO_EXTENSIONS,
  requestKeyframe: () => undefined,
});
const seqs = { q: 0, h: 0, f: 0 };

/** One VP8 packet of a layer (a keyframe with the layer's size when `key`), `PAYLOAD` bytes after the header. */
function packet(rid: (typeof RIDS)[number], key: boolean): RtpPacketView {
  const seq = seqs[rid]++ & 0xffff;
  const head = writeRtpHeader({
    ssrc: PUB[rid],
    sequenceNumber: seq,
    timestamp: (Math.floor(seqs[rid] / FRAME) * 3000) >>> 0,
    payloadType: VP8.payloadType,
    marker: seqs[rid] % FRAME === 0,
    extensions: [],
  });
  const [w, h] = SIZES[rid];
  const desc = [0x90, 0x80, 0x80 | ((seq >> 8) & 0x7f), seq & 0xff];
  const vp8 = key
    ? [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, w & 0xff, w >> 8, h & 0xff, h >> 8]
    : [0x11, 0x02, 0x00];
  const body = Buffer.alloc(PAYLOAD, 0x5a);
  Buffer.from([...desc, ...vp8]).copy(body);
  const v = new RtpPacketView();
  v.reset(Buffer.concat([head, body]));
  return v;
}
for (const rid of RIDS) {
  video.handle(packet(rid, true), rid); // every layer active and measured
}

// --- the two sinks ---
const trunk = a.peer.sendTrack(video, 's', 'v', {
  layers: RIDS.map((rid, layerId) => ({ layerId, rid, ssrc: 0x7000_0001 + layerId })),
});
trunk.setLayers(['f']);
const pair = await connectedWeriftPair();
const local = new DownTrack({
  track: video,
  transceiver: pair.sender,
  counters,
  pliMinIntervalMs: 0,
  now: systemClock.now(),
  width: 1280,
  height: 720,
});
const base: TrackSink = {
  onPacket: () => undefined,
  onLayersChanged: () => undefined,
  onTrackClosed: () => undefined,
};
const trunkSink = trunk as unknown as TrackSink;
// `floor`: what any forwarded packet costs at least — a 12-byte header (no extension), the SRTP encryption and
// the turn's batch send on the link's transport (B drops the unknown SSRC after the round) — and nothing else:
// no retransmission record, no munging, no layer choice.
const floorHeader = new TrunkHeaderWriter();
const floorWire: TrunkWire = {
  counters: new MediaCounters(),
  now: () => systemClock.now(),
  transport: () => a.peer.media.transport,
  header: () => floorHeader,
  sent: () => {
    floorSent++;
  },
};
const floorQueue = new TrunkQueue(floorWire);
let floorSent = 0;
let floorSeq = 0;
const floor: TrackSink = {
  onPacket: (sp) => {
    floorQueue.push(
      'video',
      0x7100_0001,
      96,
      floorSeq++ & 0xffff,
      sp.fwd.ts,
      sp.view.marker,
      false,
      undefined,
      sp.payload,
    );
  },
  onLayersChanged: () => undefined,
  onTrackClosed: () => undefined,
};
for (const s of [trunkSink, local]) {
  video.removeSink(s);
}
video.handle(packet('f', true), 'f'); // the f layer's keyframe, for the down track's start
video.addSink(local);
video.handle(packet('f', true), 'f');
video.removeSink(local);

type Way = 'base' | 'trunk' | 'local' | 'floor';
const sinkOf: Record<Way, TrackSink> = { base, trunk: trunkSink, local, floor };

async function round(way: Way): Promise<{ us: number; sent: number }> {
  const packets = Array.from({ length: FRAMES * FRAME }, () => packet('f', false));
  const sink = sinkOf[way];
  video.addSink(sink);
  const trunkBefore = a.peer.stats().rtpOut;
  const localBefore = local.stats().packets;
  const floorBefore = floorSent;
  const t0 = process.cpuUsage();
  for (let i = 0; i < packets.length; i++) {
    if (i % FRAME === 0) {
      turnEnd.hold(); // a frame arrives in one batch of received datagrams (udpReceive.ts), as in the focus
    }
    video.handle(packets[i]!, 'f');
    if (i % FRAME === FRAME - 1) {
      turnEnd.release(); // the batch's end: every queue (the trunk's, the subscribers') sends what waits
    }
  }
  // node:dgram sends an unconnected socket's datagrams in a nextTick (after its address lookup): a nextTick
  // queued now runs after them, so each way's system calls are in its figure (the trunk's batch send is not
  // deferred; counting it while leaving the local sends' out favoured the local path before 2026-12-04).
  const d = await new Promise<NodeJS.CpuUsage>((r) => {
    process.nextTick(() => {
      r(process.cpuUsage(t0));
    });
  });
  video.removeSink(sink);
  const sent =
    way === 'trunk'
      ? a.peer.stats().rtpOut - trunkBefore
      : way === 'local'
        ? local.stats().packets - localBefore
        : way === 'floor'
          ? floorSent - floorBefore
          : packets.length;
  await new Promise((r) => setTimeout(r, 250)); // drain: the receivers decrypt outside the measurement
  return { us: (d.user + d.system) / packets.length, sent };
}

const res: Record<Way, number[]> = { base: [], trunk: [], local: [], floor: [] };
const orders: Way[][] = [
  ['base', 'trunk', 'local', 'floor'],
  ['local', 'floor', 'base', 'trunk'],
  ['trunk', 'base', 'floor', 'local'],
  ['floor', 'local', 'trunk', 'base'],
];
/** MICRO_WAYS=floor,base (for a profile of one path): only those ways' rounds run. */
const only = process.env.MICRO_WAYS?.split(',');
for (let r = 0; r < ROUNDS; r++) {
  for (const way of orders[r % orders.length]!.filter((w) => only === undefined || only.includes(w))) {
    const { us, sent } = await round(way);
    if (sent !== FRAMES * FRAME) {
      throw new Error(`${way}: ${sent} of ${FRAMES * FRAME} packets sent`);
    }
    res[way].push(us);
  }
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
const r2 = (x: number) => Math.round(x * 100) / 100;
const median0 = (v: number[]) => (v.length === 0 ? NaN : median(v));
const m = {
  base: median0(res.base),
  trunk: median0(res.trunk),
  local: median0(res.local),
  floor: median0(res.floor),
};
const trunkUs = m.trunk - m.base;
const localUs = m.local - m.base;
const floorUs = m.floor - m.base;
process.stdout.write(
  `${JSON.stringify({
    microsecondsPerPacket: { base: r2(m.base), trunk: r2(trunkUs), local: r2(localUs), floor: r2(floorUs) },
    trunkOverLocal: r2(trunkUs / localUs),
    floorOverLocal: r2(floorUs / localUs),
    rounds: ROUNDS,
    packets: FRAMES * FRAME,
  })}\n`,
);
await a.peer.close();
await b.peer.close();
await pair.close();
process.exit(0);

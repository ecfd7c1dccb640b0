/**
 * media/link with real werift peers on loopback, in one process: two LinkPeers (offer, answer and candidates
 * handed over directly) open the link's data channel both ways; a local source on A (a real PublishedTrack fed
 * hand-made RTP through `handle`: 3 VP8 layers q/h/f and an Opus track with audio levels) is sent on the trunk
 * with demanded layers {q, f}. B's relayed sources receive exactly q, f and the audio (per trunk SSRC), with
 * sequence numbers (across the 16-bit wrap), timestamps, payloads and audio levels byte-identical to what A's
 * source was fed; dropping f stops f; a trunk packet dropped on purpose is NACKed by B and repaired from A's
 * buffer; a keyframe request on B's relayed layer reaches A's publisher as a request for that layer; A's
 * publisher SR reaches B's relayed sender clock; an unknown trunk SSRC is counted, not crashed on;
 * `adoptRelayed` keeps a subscriber attached across a new link.
 */
import { pino } from 'pino';
import t from 'tap';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import { PublishedTrack } from '../../../src/media/publishedTrack.js';
import { sendSrtp } from '../../../src/media/srtpSend.js';
import type { SourcePacket, TrackSink } from '../../../src/media/track.js';
import { EXT_URI } from '../../../src/rtp/headerExtensions.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { WireRtpHeader, writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { systemClock } from '../../../src/util/clock.js';
import { UdpBatcher } from '../../../src/media/udpBatch.js';
import { waitFor } from '../../../harness/stack.js';
import { connectLink, linkPair, linkSide } from '../../helpers/linkPair.js';

const VP8 = {
  payloadType: 120,
  mimeType: 'video/VP8',
  clockRate: 90000,
  rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
};
const OPUS = { payloadType: 109, mimeType: 'audio/opus', clockRate: 48000 };
const PUB = { q: 0x1000_0001, h: 0x1000_0002, f: 0x1000_0003, a: 0x1000_0010 };
const TRUNK = { q: 0x7000_0001, h: 0x7000_0002, f: 0x7000_0003, a: 0x7000_0010 };
const RIDS = ['q', 'h', 'f'] as const;
const SIZES = { q: [320, 180], h: [640, 360], f: [1280, 720] } as const;

interface Got {
  ssrc: number;
  layer: number;
  seq: number;
  ts: number;
  payload: string;
  level: number | undefined;
}

function recorder(): { sink: TrackSink; got: Got[]; closed: () => boolean } {
  const got: Got[] = [];
  let closed = false;
  const sink: TrackSink = {
    onPacket: (p: SourcePacket) => {
      got.push({
        ssrc: p.view.ssrc,
        layer: p.layer,
        seq: p.view.seq,
        ts: p.view.ts,
        payload: p.payload.toString('hex'),
        level: p.audioLevel?.[0],
      });
    },
    onLayersChanged: () => undefined,
    onTrackClosed: () => {
      closed = true;
    },
  };
  return { sink, got, closed: () => closed };
}

/** A's local publications: a 3-layer VP8 track and an Opus track, each a real PublishedTrack. */
function localSources() {
  const counters = new MediaCounters();
  const requests: number[] = [];
  const common = {
    restrictions: new Map(),
    clock: systemClock,
    counters,
    log: pino({ level: 'silent' }),
    pliMinIntervalMs: 0,
    requestKeyframe: (ssrc: number) => {
      requests.push(ssrc);
    },
  };
  const video = new PublishedTrack({
    ...common,
    kind: 'video',
    mid: '1',
    rids: [...RIDS],
    codecs: () => [VP8],
    extensions: () => [],
  });
  const ext = [{ uri: EXT_URI.audioLevel, id: 3 }];
  const audio = new PublishedTrack({
    ...common,
    kind: 'audio',
    mid: '0',
    rids: [],
    codecs: () => [OPUS],
    extensions: () => ext,
  });
  return { video, audio, requests };
}

/** One hand-made VP8 packet (keyframe when `key`), its payload marked with the layer and sequence number. */
function vp8(ssrc: number, seq: number, mark: number, key: boolean): RtpPacketView {
  const head = writeRtpHeader({
    ssrc,
    sequenceNumber: seq & 0xffff,
    timestamp: (seq * 3000 + 0xffff_0000) >>> 0,
    payloadType: VP8.payloadType,
    marker: true,
    extensions: [],
  });
  const body = key
    ? [0x90, 0x80, 0x80, 0x01, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00]
    : [0x90, 0x80, 0x80, 0x01, 0x11, 0x02, 0x00];
  const v = new RtpPacketView();
  v.reset(Buffer.concat([head, Buffer.from(body), Buffer.from([mark, seq & 0xff, (seq >> 8) & 0xff])]));
  return v;
}

function opus(seq: number, level: number): RtpPacketView {
  const head = writeRtpHeader({
    ssrc: PUB.a,
    sequenceNumber: seq & 0xffff,
    timestamp: seq * 960,
    payloadType: OPUS.payloadType,
    marker: false,
    extensions: [{ id: 3, payload: Uint8Array.of(0x80 | level) }],
  });
  const v = new RtpPacketView();
  v.reset(Buffer.concat([head, Buffer.from([0xfc, seq & 0xff, level])]));
  return v;
}

const remoteTracks = [
  {
    streamId: 's',
    trackId: 'v',
    kind: 'video' as const,
    layers: RIDS.map((rid) => ({
      rid,
      ssrc: TRUNK[rid],
      width: SIZES[rid][0],
      height: SIZES[rid][1],
    })),
  },
  { streamId: 's', trackId: 'a', kind: 'audio' as const, ssrc: TRUNK.a },
];

const trunkLayers = RIDS.map((rid, layerId) => ({ layerId, rid, ssrc: TRUNK[rid] }));

/** Feeds `n` rounds (every layer + audio) from `first`, yielding to the event loop between rounds. */
async function feed(
  src: ReturnType<typeof localSources>,
  first: number,
  n: number,
  fed: Map<number, Got[]>,
  before?: (seq: number) => void,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    const seq = (first + i) & 0xffff;
    before?.(seq);
    RIDS.forEach((rid, layer) => {
      const v = vp8(PUB[rid], seq, layer, i === 0);
      const list = fed.get(TRUNK[rid]) ?? [];
      list.push({
        ssrc: TRUNK[rid],
        layer,
        seq,
        ts: v.ts,
        payload: v.payload().toString('hex'),
        level: undefined,
      });
      fed.set(TRUNK[rid], list);
      src.video.handle(v, rid);
    });
    const a = opus(seq, i % 100);
    const list = fed.get(TRUNK.a) ?? [];
    list.push({
      ssrc: TRUNK.a,
      layer: 0,
      seq,
      ts: a.ts,
      payload: a.payload().toString('hex'),
      level: 0x80 | (i % 100),
    });
    fed.set(TRUNK.a, list);
    src.audio.handle(a, undefined);
    await new Promise((r) => setTimeout(r, 4));
  }
}

const bySsrc = (got: readonly Got[], ssrc: number) => got.filter((g) => g.ssrc === ssrc);

t.test(
  'a link: data channel both ways, demanded layers verbatim, per-hop repair, keyframes, SRs',
  async (t) => {
    const { a, b, close } = await linkPair();
    t.teardown(close);
    // This test feeds hand-made RTP with sequence jumps, which trunk congestion control rightly reads as loss
    // (and then pauses layers): it is switched off here; test/integration/media/linkCc.test.ts covers it.
    a.peer.setCongestionControl(undefined);
    b.peer.setCongestionControl(undefined);

    t.ok(a.peer.send('{"op":"alive"}'), 'A sends on the data channel');
    t.ok(b.peer.send('{"op":"alive","id":"b"}'), 'B sends on the data channel');
    await waitFor(() => a.messages.length === 1 && b.messages.length === 1, 10_000, 'both frames');
    t.same(b.messages, ['{"op":"alive"}']);
    t.same(a.messages, ['{"op":"alive","id":"b"}']);

    const src = localSources();
    const sendV = a.peer.sendTrack(src.video, 's', 'v', { layers: trunkLayers });
    const sendA = a.peer.sendTrack(src.audio, 's', 'a', { audioSsrc: TRUNK.a });
    b.peer.setRemoteTracks(remoteTracks);
    const maybeV = b.peer.relayedSource('s', 'v');
    const maybeA = b.peer.relayedSource('s', 'a');
    t.ok(maybeV !== undefined && maybeA !== undefined, 'B has a relayed source per announced track');
    const relayedV = maybeV!;
    const relayedA = maybeA!;
    t.same(
      relayedV.selectable().layers.map((l) => [l.rid, l.active]),
      [
        ['q', true],
        ['h', true],
        ['f', true],
      ],
      'every announced layer is selectable before any RTP (announced, not by flow)',
    );
    const rv = recorder();
    const ra = recorder();
    relayedV.addSink(rv.sink);
    relayedA.addSink(ra.sink);

    // The publisher's layers flow before anything is demanded: nothing of them crosses yet.
    RIDS.forEach((rid, layer) => {
      src.video.handle(vp8(PUB[rid], 65500, layer, true), rid);
    });
    const before = src.requests.length;
    sendV.setLayers(['q', 'f']);
    t.same(sendV.sending, ['q', 'f'], 'sending the demanded layers');
    t.same(
      src.requests.slice(before).sort(),
      [PUB.q, PUB.f].sort(),
      'each newly sent layer starts with a keyframe request to the publisher',
    );

    // Round 1: 40 rounds across the 16-bit sequence wrap.
    const fed = new Map<number, Got[]>();
    await feed(src, 65520, 40, fed);
    await waitFor(
      () =>
        bySsrc(rv.got, TRUNK.q).length >= 40 && bySsrc(rv.got, TRUNK.f).length >= 40 && ra.got.length >= 40,
      10_000,
      'q, f and audio at B',
    );
    await new Promise((r) => setTimeout(r, 200));
    t.equal(bySsrc(rv.got, TRUNK.h).length, 0, 'h was not demanded: not one packet of it crossed');
    t.same(bySsrc(rv.got, TRUNK.q), fed.get(TRUNK.q), 'q: seq, ts and payload byte-identical, every packet');
    t.same(bySsrc(rv.got, TRUNK.f), fed.get(TRUNK.f), 'f: seq, ts and payload byte-identical, every packet');
    t.same(ra.got, fed.get(TRUNK.a), 'audio: seq, ts, payload and audio level byte-identical');
    t.same(
      rv.got.slice(0, 2).map((g) => g.layer),
      [0, 2],
      'B sees the trunk SSRCs as the relayed layers q and f',
    );
    t.equal(b.counters.dropped.unknown_stream, 0, 'nothing unknown at B');
    const counted = { sent: a.peer.trunkCounters().sent, received: b.peer.trunkCounters().received };
    t.same(
      [TRUNK.q, TRUNK.h, TRUNK.f, TRUNK.a].map((s) => [counted.sent.get(s), counted.received.get(s)]),
      [
        [40, 40],
        [0, 0],
        [40, 40],
        [40, 40],
      ],
      'per trunk SSRC, sent and received: q, f and audio 40 each, h none',
    );
    const s1 = b.peer.stats();
    t.ok(s1.rtpIn >= 120 && s1.bytesIn > 0 && s1.lastMediaAt !== undefined, 'B counts the link RTP in');
    t.ok(a.peer.stats().rtpOut >= 120, 'A counts the link RTP out');
    t.equal(a.peer.stats().budgetBps, 20_000_000, 'the budget is the cap until congestion control fills it');

    // Drop f: no more f.
    sendV.setLayers(['q']);
    t.same(sendV.sending, ['q']);
    const fCount = bySsrc(rv.got, TRUNK.f).length;
    const qCount = bySsrc(rv.got, TRUNK.q).length;
    await feed(src, 60, 20, new Map());
    await waitFor(() => bySsrc(rv.got, TRUNK.q).length >= qCount + 20, 10_000, 'q after dropping f');
    await new Promise((r) => setTimeout(r, 200));
    t.equal(bySsrc(rv.got, TRUNK.f).length, fCount, 'f stopped once dropped');

    // A trunk packet dropped on purpose is NACKed by B and repaired from A's buffer.
    const dtls = a.peer.media.transport!;
    const socket = (
      dtls as unknown as {
        iceTransport: {
          connection: {
            nominated: { protocol: { transport: { socket: { send: (...x: unknown[]) => void } } } };
          };
        };
      }
    ).iceTransport.connection.nominated.protocol.transport.socket;
    // Trunk datagrams leave through a UdpBatcher (one sendmmsg per turn with the add-on, else socket.send each):
    // the first datagram of the next batch on A's link socket is dropped there, on either path.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const batchSend = UdpBatcher.prototype.send;
    t.teardown(() => {
      UdpBatcher.prototype.send = batchSend;
    });
    let dropNext = false;
    let dropped = 0;
    UdpBatcher.prototype.send = function (this: UdpBatcher, sock, address, port, list, n) {
      if (dropNext && sock === socket && n > 0) {
        dropNext = false;
        dropped++;
        return batchSend.call(this, sock, address, port, list.slice(1, n), n - 1);
      }
      return batchSend.call(this, sock, address, port, list, n);
    };
    const lossFed = new Map<number, Got[]>();
    const repairedBefore = b.counters.nackRepaired;
    await feed(src, 100, 20, lossFed, (seq) => {
      if (seq === 105) {
        dropNext = true; // the next datagram on the link is q's packet 105
      }
    });
    t.equal(dropped, 1, 'one trunk datagram dropped');
    await waitFor(
      () => bySsrc(rv.got, TRUNK.q).some((g) => g.seq === 105),
      10_000,
      'the dropped q packet repaired',
    );
    UdpBatcher.prototype.send = batchSend;
    const repaired = bySsrc(rv.got, TRUNK.q).find((g) => g.seq === 105);
    t.same(
      repaired,
      lossFed.get(TRUNK.q)!.find((g) => g.seq === 105),
      'the repair is the packet first sent',
    );
    const qSeqs = bySsrc(rv.got, TRUNK.q).map((g) => g.seq);
    t.ok(qSeqs.indexOf(105) > qSeqs.indexOf(106), 'q 105 arrived after q 106: it is the repair of the drop');
    t.ok(b.counters.nackSent >= 1, 'B NACKed the loss on the link');
    t.ok(a.counters.retransmits.sent >= 1, 'A answered from its trunk buffer');
    t.ok(b.counters.nackRepaired > repairedBefore, 'B counted the repair');

    // A keyframe request on B's relayed q reaches A's publisher as a request for q.
    await new Promise((r) => setTimeout(r, 600)); // past the coalescing interval of the last 'start' request
    const kBefore = src.requests.length;
    relayedV.requestKeyframe(relayedV.selectable().layers.find((l) => l.rid === 'q')!.id, 'subscriber');
    await waitFor(() => src.requests.slice(kBefore).includes(PUB.q), 10_000, 'the keyframe request at A');
    t.notOk(src.requests.slice(kBefore).includes(PUB.f), 'not for another layer');

    // The publisher's SR → A's trunk SR → B's relayed sender clock (same NTP↔RTP mapping).
    const now = Date.now();
    src.video.onSenderReport(PUB.q, now - 50, 0x1234_5678, now);
    const qId = relayedV.selectable().layers.find((l) => l.rid === 'q')!.id;
    await waitFor(() => relayedV.senderClock(qId) !== undefined, 5_000, "B's relayed q has a sender clock");
    const clock = relayedV.senderClock(qId)!;
    const predicted = (0x1234_5678 + Math.round((clock.ntpMs - (now - 50)) * 90)) >>> 0;
    t.ok(Math.abs((clock.rtpTs - predicted) | 0) <= 2, 'the trunk SR carries the publisher mapping');

    // f resumes after a pause of more than a second: its sequence gap is a resync at B, not loss to NACK.
    await new Promise((r) => setTimeout(r, 1000));
    const nacksBefore = b.counters.nackSent;
    const fBefore = bySsrc(rv.got, TRUNK.f).length;
    sendV.setLayers(['q', 'f']);
    await feed(src, 300, 10, new Map());
    await waitFor(() => bySsrc(rv.got, TRUNK.f).length >= fBefore + 10, 10_000, 'f again');
    await new Promise((r) => setTimeout(r, 300));
    t.equal(b.counters.nackSent, nacksBefore, 'no NACK for the packets f skipped while paused');

    // An unknown trunk SSRC is counted at B, nothing crashes.
    const stray = new WireRtpHeader({
      ssrc: 0x7000_00ff,
      payloadType: VP8.payloadType,
      sequenceNumber: 1,
      timestamp: 1,
      marker: true,
      extensions: [],
    });
    const unknownBefore = b.counters.dropped.unknown_stream;
    sendSrtp(dtls, Buffer.from([1, 2, 3]), stray);
    await waitFor(() => b.counters.dropped.unknown_stream > unknownBefore, 5_000, 'unknown_stream at B');
    t.equal(b.peer.state, 'connected', 'the link stays up');

    sendA.close();
    sendV.close();
    t.ok(sendV.closed && sendA.closed, 'sends close');
    t.equal(src.video.sinkCount, 0, 'and leave the local source');
  },
);

t.test('demand as layer sets, availability by announcement, adoptRelayed across a new link', async (t) => {
  const { a, b, close } = await linkPair();
  t.teardown(close);
  const src = localSources();
  const sendV = a.peer.sendTrack(src.video, 's', 'v', { layers: trunkLayers });
  b.peer.setRemoteTracks(remoteTracks);
  const relayedV = b.peer.relayedSource('s', 'v')!;
  const ids = Object.fromEntries(relayedV.selectable().layers.map((l) => [l.rid, l.id]));
  t.same(b.peer.demand(1000), [], 'no subscriber, no demand');

  // A subscriber forwarding f while switching to q; an audio subscriber.
  let used = { current: ids.f as number | undefined, target: ids.q as number | undefined };
  const sub = { ...recorder().sink, usedLayers: () => used };
  relayedV.addSink(sub);
  const audioSink = recorder();
  b.peer.relayedSource('s', 'a')!.addSink(audioSink.sink);
  t.same(
    b.peer.demand(1000),
    [
      { streamId: 's', trackId: 'v', rids: ['q', 'f'] },
      { streamId: 's', trackId: 'a', rids: [] },
    ],
    'video: the current and target layers (lowest first); audio: []',
  );
  used = { current: ids.q, target: ids.q };
  t.same(b.peer.demand(2000)[0]!.rids, ['q', 'f'], 'f is held after its last use');
  t.same(b.peer.demand(4000)[0]!.rids, ['q'], 'and released 2 s later');

  // The sender pauses h and f (`layers`): only q is selectable, whatever flows.
  b.peer.setRemoteSending('s', 'v', ['q']);
  t.same(
    relayedV.selectable().layers.map((l) => [l.rid, l.active]),
    [
      ['q', true],
      ['h', false],
      ['f', false],
    ],
    'paused layers are not selectable',
  );
  b.peer.setRemoteSending('s', 'v', ['q', 'h', 'f']);

  // A new link to the same focus: B2 adopts B's relayed tracks; closing B leaves them (and the sink) open.
  const rv = recorder();
  relayedV.addSink(rv.sink);
  const a2 = linkSide();
  const b2 = linkSide();
  t.teardown(async () => {
    await a2.peer.close();
    await b2.peer.close();
  });
  await connectLink(a2, b2);
  b2.peer.adoptRelayed(b.peer);
  sendV.close();
  await close();
  t.equal(b2.peer.relayedSource('s', 'v'), relayedV, 'the same source object on the new link');
  t.notOk(rv.closed(), 'its subscriber was not told the track ended');
  t.notOk(relayedV.closed, 'the source stays open after the old link closed');
  const moved = [...remoteTracks];
  moved[0] = {
    ...remoteTracks[0]!,
    layers: RIDS.map((rid) => ({
      rid,
      ssrc: TRUNK[rid] + 0x100,
      width: SIZES[rid][0],
      height: SIZES[rid][1],
    })),
  } as (typeof remoteTracks)[0];
  b2.peer.setRemoteTracks(moved);
  const send2 = a2.peer.sendTrack(src.video, 's', 'v', {
    layers: RIDS.map((rid, layerId) => ({ layerId, rid, ssrc: TRUNK[rid] + 0x100 })),
  });
  send2.setLayers(['h']);
  await feed(src, 7000, 10, new Map());
  await waitFor(() => rv.got.length >= 10, 10_000, 'packets through the new link');
  t.same(
    [...new Set(rv.got.map((g) => g.ssrc))],
    [TRUNK.h + 0x100],
    "the adopted source receives the new link's trunk SSRC for h",
  );
  t.same(
    rv.got.map((g) => g.seq),
    Array.from({ length: 10 }, (_, i) => 7000 + i),
    'every packet, in order',
  );
  send2.close();
});

t.test(
  'bad remote input: unknown SSRC announcements and malformed tracks are refused, not thrown',
  async (t) => {
    const { a: _a, b, close } = await linkPair();
    t.teardown(close);
    b.peer.setRemoteTracks([
      { streamId: 's', trackId: 'x', kind: 'video', layers: [] },
      { streamId: 's', trackId: 'y', kind: 'audio', ssrc: -1 },
      { streamId: 's', trackId: 'z', kind: 'audio', ssrc: 5 },
      { streamId: 's', trackId: 'w', kind: 'audio', ssrc: 5 },
      { streamId: '', trackId: 'v', kind: 'audio', ssrc: 6 },
    ]);
    t.ok(b.peer.relayedSource('s', 'z'), 'the valid track is relayed');
    t.notOk(b.peer.relayedSource('s', 'x'), 'video without layers is refused');
    t.notOk(b.peer.relayedSource('s', 'y'), 'a bad SSRC is refused');
    t.notOk(b.peer.relayedSource('s', 'w'), 'an SSRC taken by another track is refused');
    const z = b.peer.relayedSource('s', 'z')!;
    const r = recorder();
    z.addSink(r.sink);
    b.peer.setRemoteTracks([]);
    t.ok(z.closed && r.closed(), 'a track missing from the next announcement closes, its subscriber told');
    t.equal(b.peer.sendTrack({}, 's', 't', { audioSsrc: 1 }).closed, true, 'a non-source is not sent');
    b.peer.setRemoteTracks(remoteTracks);
    const relayed = b.peer.relayedSource('s', 'v')!;
    t.equal(
      b.peer.sendTrack(relayed, 's', 'v', { layers: trunkLayers }).closed,
      true,
      'the loop rule: a relayed source is never sent onto a link',
    );
  },
);

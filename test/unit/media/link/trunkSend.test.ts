/**
 * A trunk send (media/link/trunkSender.ts) with a fake clock and a fake transport whose "encryption" is the
 * identity, so each datagram is the plain RTP the link would carry: demanded layers only, verbatim (seq, ts,
 * marker, payload, padding) under the trunk SSRC and the link's payload type; paused layers announced; NACKs
 * answered with the packet first sent, duplicates within the RTT window refused, a NACK flood held to the
 * budget; PLIs coalesced per trunk SSRC; SRs only after the publisher's first SR, carrying its mapping.
 */
import { pino } from 'pino';
import t from 'tap';
import { TrunkHeaderWriter } from '../../../../src/media/link/trunkHeader.js';
import { TrunkSend, type TrunkSendHost } from '../../../../src/media/link/trunkSender.js';
import { MediaCounters } from '../../../../src/media/mediaMetrics.js';
import { PublishedTrack } from '../../../../src/media/publishedTrack.js';
import { RtpPacketView } from '../../../../src/rtp/packetView.js';
import { unixMsFromNtp } from '../../../../src/rtp/rtcpFeedback.js';
import { writeRtpHeader } from '../../../../src/rtp/rtpHeader.js';
import { FakeClock } from '../../../helpers/fakeClock.js';

const PUB = [0x1001, 0x1002, 0x1003];
const TRUNK = [0x7001, 0x7002, 0x7003];
const RIDS = ['q', 'h', 'f'];

/** `admit`: the trunk budget's answer for a newly demanded rid (absent: every layer fits). */
function setup(admit?: (rid: string) => boolean) {
  const clock = new FakeClock();
  const counters = new MediaCounters();
  const requests: number[] = [];
  const source = new PublishedTrack({
    kind: 'video',
    mid: '1',
    rids: RIDS,
    restrictions: new Map(),
    clock,
    counters,
    log: pino({ level: 'silent' }),
    pliMinIntervalMs: 0,
    codecs: () => [{ payloadType: 96, mimeType: 'video/VP8', clockRate: 90000 }],
    extensions: () => [],
    requestKeyframe: (ssrc) => requests.push(ssrc),
  });
  const datagrams: Buffer[] = [];
  const rtcp: Buffer[] = [];
  const dtls = {
    state: 'connected',
    srtp: {
      encrypt: (payload: Buffer, h: { serialize: (n: number) => Buffer; serializeSize: number }) =>
        Buffer.concat([h.serialize(h.serializeSize), payload]),
    },
    iceTransport: {
      connection: {
        nominated: {
          remoteAddr: ['127.0.0.1', 9],
          protocol: {
            transport: {
              type: 'udp',
              closed: false,
              socket: { send: (m: Buffer) => datagrams.push(m), on: () => undefined },
            },
          },
          packetsSent: 0,
          bytesSent: 0,
        },
        canSendApplicationData: () => true,
      },
    },
    bytesSent: 0,
    packetsSent: 0,
    sendRtcp: async (packets: { serialize: () => Buffer }[]) => {
      rtcp.push(Buffer.concat(packets.map((p) => p.serialize())));
    },
  };
  const header = new TrunkHeaderWriter();
  header.setExtensionIds(3, undefined);
  const paused: (readonly string[])[] = [];
  const host: TrunkSendHost = {
    counters,
    pliMinIntervalMs: 500,
    now: () => clock.now(),
    transport: () => dtls as never,
    codecs: () => [{ payloadType: 100, mimeType: 'video/VP8' }],
    header: () => header,
    sent: () => undefined,
    pausedChanged: (s) => paused.push(s.sending),
    ended: () => undefined,
    ...(admit !== undefined ? { admit: (_s: unknown, rid: string) => admit(rid) } : {}),
  };
  const send = new TrunkSend(
    source,
    's',
    'v',
    { layers: RIDS.map((rid, layerId) => ({ layerId, rid, ssrc: TRUNK[layerId]! })) },
    host,
    clock.now(),
  );
  const view = new RtpPacketView();
  /** Feeds one publisher packet of `layer`; returns its bytes. */
  const feed = (layer: number, seq: number, o: { key?: boolean; padding?: number } = {}): Buffer => {
    const body = o.key
      ? [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00]
      : [0x00, 0x02, 0x00, 0x00, seq & 0xff, layer];
    const pad = o.padding ?? 0;
    const bytes = Buffer.concat([
      writeRtpHeader({
        ssrc: PUB[layer]!,
        sequenceNumber: seq,
        timestamp: (seq * 3000) >>> 0,
        payloadType: 96,
        marker: seq % 2 === 0,
        padding: pad > 0,
        extensions: [{ id: 5, payload: Uint8Array.of(1, 2) }],
      }),
      Buffer.from(pad > 0 ? [] : body),
      Buffer.from(pad > 0 ? [...Array<number>(pad - 1).fill(0), pad] : []),
    ]);
    view.reset(bytes);
    source.handle(view, RIDS[layer]);
    return bytes;
  };
  const parsed = () =>
    datagrams.map((d) => {
      const v = new RtpPacketView();
      v.reset(d);
      return {
        ssrc: v.ssrc,
        pt: v.pt,
        seq: v.seq,
        ts: v.ts,
        marker: v.marker,
        tail: d.subarray(v.payloadOffset).toString('hex'),
        ext5: v.extension(5),
        abs: v.extension(3) >= 0,
      };
    });
  return { clock, counters, requests, source, send, datagrams, rtcp, paused, feed, parsed };
}

/** What followed the publisher's header (payload and padding), hex. */
function tail(bytes: Buffer): string {
  const v = new RtpPacketView();
  v.reset(bytes);
  return bytes.subarray(v.payloadOffset).toString('hex');
}

t.test('demanded layers only, verbatim, the link PT and only the link extensions', async (t) => {
  const s = setup();
  s.feed(0, 1, { key: true });
  s.feed(1, 1, { key: true });
  s.feed(2, 1, { key: true });
  t.equal(s.datagrams.length, 0, 'nothing before demand');
  s.send.setLayers(['q', 'f']);
  t.same(s.send.sending, ['q', 'f']);
  t.same(s.requests.sort(), [PUB[0], PUB[2]].sort(), 'a keyframe request per newly sent layer');
  const fed: Buffer[] = [];
  for (const seq of [65534, 65535, 0, 1]) {
    for (const layer of [0, 1, 2]) {
      const b = s.feed(layer, seq);
      if (layer !== 1) {
        fed.push(b);
      }
    }
  }
  const padded = s.feed(0, 2, { padding: 4 });
  const out = s.parsed();
  t.same(
    out.map((p) => [p.ssrc, p.seq]),
    [
      [TRUNK[0], 65534],
      [TRUNK[2], 65534],
      [TRUNK[0], 65535],
      [TRUNK[2], 65535],
      [TRUNK[0], 0],
      [TRUNK[2], 0],
      [TRUNK[0], 1],
      [TRUNK[2], 1],
      [TRUNK[0], 2],
    ],
    'q and f under their trunk SSRCs, sequence numbers verbatim across the wrap; h never',
  );
  t.same(
    out.slice(0, 8).map((p) => p.tail),
    fed.map(tail),
    'payloads verbatim',
  );
  t.same(
    out.slice(0, 8).map((p) => [p.ts, p.marker]),
    fed.map((b) => {
      const v = new RtpPacketView();
      v.reset(b);
      return [v.ts, v.marker];
    }),
    'timestamps and markers verbatim',
  );
  t.ok(
    out.every((p) => p.pt === 100 && p.ext5 < 0 && p.abs),
    "the link's PT; the publisher's extension dropped; abs-send-time added",
  );
  t.equal(out[8]!.tail, tail(padded), 'a padding-only packet crosses with its padding');

  s.send.setPaused(['f']);
  t.same(s.paused, [['q']], 'pausing f is announced');
  t.same(s.send.sending, ['q']);
  s.send.setPaused(['f']);
  t.equal(s.paused.length, 1, 'no announcement without change');
  s.datagrams.length = 0;
  s.feed(2, 3);
  s.feed(0, 3);
  t.same(
    s.parsed().map((p) => p.ssrc),
    [TRUNK[0]],
    'a paused layer is not sent',
  );
});

t.test(
  'NACKs: the packet first sent; duplicates and unknown refused; a flood held to the budget',
  async (t) => {
    const s = setup();
    s.feed(0, 10, { key: true });
    s.send.setLayers(['q']);
    const first: string[] = [];
    for (let seq = 11; seq < 211; seq++) {
      s.feed(0, seq);
      s.clock.advance(5);
    }
    for (const p of s.parsed()) {
      first.push(p.tail);
    }
    const firstBytes = new Map(s.datagrams.map((d) => [d.readUInt16BE(2), d.toString('hex')]));
    const out = s.send.out(TRUNK[0]!)!;
    s.datagrams.length = 0;
    s.clock.advance(300); // a later abs-send-time than either packet left with
    s.send.onNack(out, [50, 51], s.clock.now());
    t.same(
      s.parsed().map((p) => [p.seq, p.tail]),
      [
        [50, first[50 - 11]],
        [51, first[51 - 11]],
      ],
      'resent as first sent',
    );
    t.same(
      s.datagrams.map((d) => d.toString('hex')),
      [firstBytes.get(50), firstBytes.get(51)],
      'byte for byte, the abs-send-time it first left with included (one SRTP index, one header)',
    );
    s.send.onNack(out, [50], s.clock.now() + 1);
    t.equal(s.counters.retransmits.duplicate, 1, 'again within the RTT window: refused');
    s.send.onNack(out, [5000], s.clock.now());
    t.equal(s.counters.retransmits.missing, 1, 'a packet never sent: missing');
    s.datagrams.length = 0;
    const all = Array.from({ length: 200 }, (_, i) => 11 + i);
    for (let round = 0; round < 20; round++) {
      s.clock.advance(50);
      s.send.tick(s.clock.now());
      s.send.onNack(out, all, s.clock.now());
    }
    t.ok(s.counters.retransmits.rate_limited > 0, 'a NACK flood is rate limited');
    t.ok(
      s.datagrams.length < 200 * 20 * 0.5,
      `and resends are bounded (${s.datagrams.length} of ${200 * 20})`,
    );
    s.clock.advance(2000);
    const tooOld = s.counters.retransmits.too_old;
    s.send.onNack(out, [100], s.clock.now());
    t.equal(s.counters.retransmits.too_old, tooOld + 1, 'older than the buffer: refused');
  },
);

t.test("wantedLayer: the highest demanded layer (what the publisher's REMB keeps encoded)", async (t) => {
  const s = setup();
  for (const layer of [0, 1, 2]) {
    s.feed(layer, 1, { key: true });
  }
  t.equal(s.send.wantedLayer(), undefined, 'nothing demanded');
  s.send.setLayers(['q']);
  t.equal(s.send.wantedLayer(), 0);
  s.send.setLayers(['h', 'q']);
  t.equal(s.send.wantedLayer(), 1, 'by quality, not by the order given');
  s.send.setLayers(['q', 'f']);
  t.equal(s.send.wantedLayer(), 2);
  s.send.setPaused(['f']);
  t.equal(s.send.wantedLayer(), 2, 'a layer the trunk budget pauses is still wanted');
  s.send.close();
  t.equal(s.send.wantedLayer(), undefined, 'closed: nothing');
});

t.test('PLIs are coalesced per trunk SSRC; SRs follow the publisher clock, none before it', async (t) => {
  const s = setup();
  s.feed(0, 1, { key: true });
  s.feed(2, 1, { key: true });
  s.send.setLayers(['q']);
  const out = s.send.out(TRUNK[0]!)!;
  const outF = s.send.out(TRUNK[2]!)!;
  s.requests.length = 0;
  s.clock.advance(600);
  s.send.onKeyframeRequest(out, s.clock.now());
  s.send.onKeyframeRequest(out, s.clock.now() + 10);
  s.send.onKeyframeRequest(out, s.clock.now() + 20);
  s.send.onKeyframeRequest(outF, s.clock.now());
  t.same(s.requests, [PUB[0]], 'one request at once; f is not sent: ignored');
  s.clock.advance(600);
  s.send.tick(s.clock.now());
  t.same(s.requests, [PUB[0], PUB[0]], 'the coalesced ones as one, when the interval ends');

  s.feed(0, 2);
  s.clock.advance(1000);
  s.send.tick(s.clock.now());
  t.equal(s.rtcp.length, 0, 'no SR before the publisher sent one');
  s.source.onSenderReport(PUB[0]!, 1_600_000_000_000, 90_000, s.clock.now());
  s.clock.advance(1000);
  s.send.tick(s.clock.now());
  t.equal(s.rtcp.length, 1, 'an SR once the publisher clock is known');
  const sr = s.rtcp[0]!;
  const dv = new DataView(sr.buffer, sr.byteOffset, sr.byteLength);
  t.equal(sr[1], 200, 'an SR');
  t.equal(dv.getUint32(4), TRUNK[0], 'for the trunk SSRC');
  t.equal(
    Math.round(unixMsFromNtp(dv.getBigUint64(8))),
    1_600_000_001_000,
    'NTP: the publisher time, 1 s later',
  );
  t.equal(dv.getUint32(16), 90_000 + 90_000, 'RTP: the publisher timestamp, 1 s later');
  s.clock.advance(300);
  s.send.tick(s.clock.now());
  t.equal(s.rtcp.length, 1, 'at most one a second');
  s.send.close();
  t.ok(s.send.closed);
  t.equal(s.source.sinkCount, 0);
});

t.test('once a pause was announced, a sending set the new demand changes is announced too', async (t) => {
  const fits = new Set<string>();
  const s = setup((rid) => fits.has(rid));
  s.send.setLayers(['f']);
  t.same(s.paused, [[]], 'f refused by the budget: sending [] announced');
  fits.add('q');
  fits.add('h');
  s.send.setLayers(['q', 'h', 'f']); // the receiving focus's fallbacks: q and h fit, f stays paused
  t.same(s.send.sending, ['q', 'h']);
  t.same(s.paused.at(-1), ['q', 'h'], 'the fallbacks admitted: announced, though nothing was refused now');
  const n = s.paused.length;
  s.send.setLayers(['q', 'h', 'f']);
  t.equal(s.paused.length, n, 'the same demand again: nothing new to announce');
  const quiet = setup();
  quiet.send.setLayers(['q']);
  quiet.send.setLayers(['q', 'h']);
  t.same(quiet.paused, [], 'never paused: no announcement (everything demanded counts as sent)');
});

/**
 * The trunk queue (media/link/trunkQueue.ts) with a fake transport whose "encryption" is the identity: what is
 * queued in a turn leaves in queue order when the turn ends (one flush scheduled per turn) or on an explicit
 * flush, each packet exactly as the immediate path writes it (table rows across the sequence-number and
 * timestamp wrap, marker, padding, audio vs video writer, audio level), with the abs-send-time of the flush, not
 * of the push; the reused slots drop their references; without a transport nothing is sent and `not_ready`
 * is counted.
 */
import t from 'tap';
import type { RTCDtlsTransport } from 'werift';
import { TrunkHeaderWriter } from '../../../../src/media/link/trunkHeader.js';
import {
  sendTrunkPacket,
  type StampSink,
  TrunkQueue,
  type TrunkWire,
} from '../../../../src/media/link/trunkQueue.js';
import { MediaCounters } from '../../../../src/media/mediaMetrics.js';
import { UdpBatcher, type BatchSocket } from '../../../../src/media/udpBatch.js';
import { absSendTime } from '../../../../src/rtp/headerExtensions.js';
import { absSendTimeValue } from '../../../../src/media/link/absSendTime.js';
import { RtpPacketView } from '../../../../src/rtp/packetView.js';

function fakeWire(connected = true) {
  const datagrams: Buffer[] = [];
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
  };
  const headers = { audio: new TrunkHeaderWriter(), video: new TrunkHeaderWriter() };
  headers.audio.setExtensionIds(3, 1);
  headers.video.setExtensionIds(4, undefined);
  let now = 1_000;
  const sent: number[] = [];
  const wire: TrunkWire = {
    counters: new MediaCounters(),
    now: () => now,
    transport: () => (connected ? (dtls as unknown as RTCDtlsTransport) : undefined),
    header: (k) => headers[k],
    sent: (bytes) => sent.push(bytes),
  };
  return {
    wire,
    dtls,
    datagrams,
    sent,
    setNow: (n: number) => {
      now = n;
    },
  };
}

interface Row {
  kind: 'audio' | 'video';
  ssrc: number;
  pt: number;
  seq: number;
  ts: number;
  marker: boolean;
  padding: boolean;
  level: number[] | undefined;
  payload: number[];
}

const rows: Row[] = [
  {
    kind: 'video',
    ssrc: 0x7001,
    pt: 96,
    seq: 65534,
    ts: 0xffff_fffe,
    marker: false,
    padding: false,
    level: undefined,
    payload: [1, 2, 3],
  },
  {
    kind: 'video',
    ssrc: 0x7001,
    pt: 96,
    seq: 65535,
    ts: 0xffff_ffff,
    marker: true,
    padding: false,
    level: undefined,
    payload: [4],
  },
  {
    kind: 'video',
    ssrc: 0x7001,
    pt: 96,
    seq: 0,
    ts: 0,
    marker: false,
    padding: true,
    level: undefined,
    payload: [0, 0, 3],
  },
  {
    kind: 'audio',
    ssrc: 0x7010,
    pt: 111,
    seq: 1,
    ts: 960,
    marker: true,
    padding: false,
    level: [0x85],
    payload: [0xfc],
  },
  {
    kind: 'video',
    ssrc: 0xffff_ffff,
    pt: 127,
    seq: 1,
    ts: 1,
    marker: false,
    padding: false,
    level: undefined,
    payload: [],
  },
];

const push = (q: TrunkQueue, r: Row, from?: StampSink, abs?: number) => {
  q.push(
    r.kind,
    r.ssrc,
    r.pt,
    r.seq,
    r.ts,
    r.marker,
    r.padding,
    r.level && Uint8Array.from(r.level),
    Buffer.from(r.payload),
    from,
    abs,
  );
};

t.test('a turn: queued in order, sent at its end, each as the immediate path writes it', (t) => {
  const due: (() => void)[] = [];
  const f = fakeWire();
  const q = new TrunkQueue(f.wire, (fn) => due.push(fn));
  for (const r of rows) {
    push(q, r);
  }
  t.equal(due.length, 1, 'one flush scheduled for the turn');
  t.equal(q.size, rows.length);
  t.equal(f.datagrams.length, 0, 'nothing before the turn ends');
  f.setNow(1_250); // the turn ends 250 ms "later": every packet carries the departure time
  due.shift()!();
  t.equal(q.size, 0);
  const ref = fakeWire();
  ref.setNow(1_250);
  for (const r of rows) {
    sendTrunkPacket(
      ref.wire,
      r.kind,
      r.ssrc,
      r.pt,
      r.seq,
      r.ts,
      r.marker,
      r.padding,
      r.level && Uint8Array.from(r.level),
      Buffer.from(r.payload),
      1_250,
    );
  }
  t.same(
    f.datagrams.map((d) => d.toString('hex')),
    ref.datagrams.map((d) => d.toString('hex')),
    'byte-identical to the immediate path',
  );
  t.same(f.sent, ref.sent, 'the same bytes counted');
  rows.forEach((r, i) => {
    const v = new RtpPacketView();
    t.ok(v.reset(f.datagrams[i]!), `row ${String(i)} parses`);
    t.same(
      [v.ssrc, v.pt, v.seq, v.ts, v.marker, v.paddingLength > 0],
      [r.ssrc >>> 0, r.pt, r.seq, r.ts >>> 0, r.marker, r.padding],
      `row ${String(i)}: fields verbatim`,
    );
    const at = v.extension(r.kind === 'audio' ? 3 : 4);
    t.ok(at >= 0, `row ${String(i)}: abs-send-time present`);
    t.same(
      [...f.datagrams[i]!.subarray(at, at + 3)],
      [...absSendTime(1_250)],
      `row ${String(i)}: stamped at the flush`,
    );
  });
  t.equal(f.wire.counters.sends.direct, rows.length);
  t.end();
});

t.test("one turn's datagrams: one batch to the nominated pair's address, counted once each", (t) => {
  const due: (() => void)[] = [];
  const f = fakeWire();
  const batches: { address: string; port: number; n: number; bytes: number[] }[] = [];
  class Recording extends UdpBatcher {
    override send(
      socket: BatchSocket,
      address: string,
      port: number,
      list: readonly Buffer[],
      n: number,
    ): number {
      batches.push({ address, port, n, bytes: list.slice(0, n).map((d) => d.length) });
      return super.send(socket, address, port, list, n);
    }
  }
  const q = new TrunkQueue(f.wire, (fn) => due.push(fn), new Recording(null));
  for (const r of rows) {
    push(q, r);
  }
  due.shift()!();
  t.same(
    batches,
    [{ address: '127.0.0.1', port: 9, n: rows.length, bytes: f.datagrams.map((d) => d.length) }],
    'one batch with every datagram of the turn',
  );
  const total = f.datagrams.reduce((a, d) => a + d.length, 0);
  t.same(
    [f.dtls.packetsSent, f.dtls.bytesSent, f.dtls.iceTransport.connection.nominated.packetsSent],
    [rows.length, total, rows.length],
    "the transport's and the pair's statistics",
  );
  push(q, rows[0]!);
  due.shift()!();
  t.equal(batches.length, 2, 'the next turn: its own batch');
  t.equal(batches[1]?.n, 1);
  t.end();
});

t.test('explicit flush; the next turn schedules again; no packet twice', (t) => {
  const due: (() => void)[] = [];
  const f = fakeWire();
  const q = new TrunkQueue(f.wire, (fn) => due.push(fn));
  push(q, rows[0]!);
  q.flush();
  t.equal(f.datagrams.length, 1, 'sent at once');
  due.shift()!();
  t.equal(f.datagrams.length, 1, 'the scheduled flush finds nothing');
  push(q, rows[1]!);
  push(q, rows[3]!);
  t.equal(due.length, 1, 'scheduled again');
  due.shift()!();
  t.same(
    f.datagrams.slice(1).map((d) => d.readUInt16BE(2)),
    [65535, 1],
    'in order',
  );
  t.end();
});

t.test('not connected at the flush: nothing sent, counted not_ready', (t) => {
  const due: (() => void)[] = [];
  const f = fakeWire(false);
  const q = new TrunkQueue(f.wire, (fn) => due.push(fn));
  push(q, rows[0]!);
  push(q, rows[3]!);
  due.shift()!();
  t.equal(f.datagrams.length, 0);
  t.equal(f.wire.counters.sends.not_ready, 2);
  t.same(f.sent, []);
  t.end();
});

t.test('the default schedule flushes at the end of the turn (setImmediate)', async (t) => {
  const f = fakeWire();
  const q = new TrunkQueue(f.wire);
  push(q, rows[0]!);
  await Promise.resolve();
  t.equal(f.datagrams.length, 0, 'not within the microtasks of the turn');
  await new Promise((r) => setImmediate(r));
  t.equal(f.datagrams.length, 1);
});

t.test('a first send tells its keeper the abs-send-time it left with; a resend leaves with that one', (t) => {
  const due: (() => void)[] = [];
  const f = fakeWire();
  const q = new TrunkQueue(f.wire, (fn) => due.push(fn));
  const stamps: [number, number][] = [];
  const keeper = { stamped: (seq: number, v: number) => stamps.push([seq, v]) };
  const r = rows[0]!;
  push(q, r, keeper);
  f.setNow(1_250);
  due.shift()!();
  t.same(stamps, [[r.seq, absSendTimeValue(1_250)]], 'the departure time, kept');
  push(q, r, keeper, stamps[0]![1]);
  f.setNow(9_999);
  due.shift()!();
  t.equal(f.datagrams.length, 2);
  t.equal(f.datagrams[1]!.toString('hex'), f.datagrams[0]!.toString('hex'), 'the resend: the same bytes');
  t.equal(stamps.length, 1, 'a resend is not stamped again');
  push(q, r);
  due.shift()!();
  t.not(
    f.datagrams[2]!.toString('hex'),
    f.datagrams[0]!.toString('hex'),
    'without a kept time: the flush time',
  );
  t.end();
});

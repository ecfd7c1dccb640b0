/**
 * ReceptionStats (RFC 3550 A.1/A.3/A.8) tables and the RR writer (§6.4.2):
 * - sequence rows: in order, a gap, the 16-bit wrap, reordering, duplicates and retransmissions counted as
 *   received, a jump ignored once and a restart after two in sequence;
 * - fraction lost per interval, cumulative lost clamped to 24 bits signed, extended highest seq with cycles;
 * - `skipGap`: the sequence numbers skipped across an outage stay out of the next interval, once;
 * - `skipPause`: the numbers a paused stream skips leave expected and lost altogether, also across the wrap,
 *   once; a loss right after still counts;
 * - jitter: 0 for packets paced exactly at their timestamps (also across the 32-bit timestamp wrap), ≈ the
 *   spread for alternating ±d arrivals, untouched by late packets;
 * - LSR echoed and DLSR in 1/65536 s;
 * - the RR bytes as an annotated fixture, and read back by werift's RTCP parser + readRtcp (one RR and a
 *   compound of two for 40 blocks).
 */
import t from 'tap';
import { RtcpPacketConverter } from 'werift';
import { ReceptionStats, type ReceptionReport } from '../../../src/rtp/receptionStats.js';
import { receiverReportPackets } from '../../../src/rtp/receiverReport.js';
import { readRtcp } from '../../../src/rtp/rtcpFeedback.js';

const SSRC = 0x0a0b0c0d;

/** Feeds seqs 20 ms apart (timestamps in step at 90 kHz); returns the report at the end. */
function run(seqs: readonly number[]): { stats: ReceptionStats; report: ReceptionReport } {
  const s = new ReceptionStats(SSRC, 90_000);
  seqs.forEach((seq, i) => {
    s.onPacket(seq, (i * 1800) >>> 0, 1000 + i * 20);
  });
  const report = s.report(2000);
  if (report === undefined) {
    throw new Error('no report');
  }
  return { stats: s, report };
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => (from + i) & 0xffff);

const rows: {
  name: string;
  seqs: number[];
  ext: number;
  lost: number;
  fraction: number;
  received: number;
}[] = [
  { name: 'in order', seqs: range(100, 50), ext: 149, lost: 0, fraction: 0, received: 50 },
  {
    name: 'one gap of 10 in 100',
    seqs: range(100, 100).filter((s) => s < 140 || s >= 150),
    ext: 199,
    lost: 10,
    fraction: Math.floor((10 * 256) / 100),
    received: 90,
  },
  { name: 'the 16-bit wrap', seqs: range(65_530, 12), ext: 65_536 + 5, lost: 0, fraction: 0, received: 12 },
  {
    name: 'reordered pairs',
    seqs: [1, 3, 2, 5, 4, 6, 8, 7],
    ext: 8,
    lost: 0,
    fraction: 0,
    received: 8,
  },
  {
    name: 'a duplicate (a retransmission of a packet that was not lost) counts',
    seqs: [1, 2, 3, 3, 4],
    ext: 4,
    lost: -1,
    fraction: 0,
    received: 5,
  },
  {
    name: 'a loss repaired late counts as received',
    seqs: [1, 2, 4, 5, 6, 3, 7],
    ext: 7,
    lost: 0,
    fraction: 0,
    received: 7,
  },
  {
    name: 'one jump beyond the dropout is ignored',
    seqs: [1, 2, 3, 20_000, 4, 5],
    ext: 5,
    lost: 0,
    fraction: 0,
    received: 5,
  },
  {
    name: 'two in sequence after a jump restart the statistics',
    seqs: [1, 2, 3, 20_000, 20_001, 20_002],
    ext: 20_002,
    lost: 0,
    fraction: 0,
    received: 2, // counted again from the second of the two (RFC 3550 A.1 init_seq)
  },
  {
    name: 'a late packet from before the wrap does not add a cycle',
    seqs: [65_534, 65_535, 1, 0, 2],
    ext: 65_536 + 2,
    lost: 0,
    fraction: 0,
    received: 5,
  },
];

t.test('sequence and loss rows', async (t) => {
  for (const r of rows) {
    const { stats, report } = run(r.seqs);
    t.equal(report.extendedHighestSeq, r.ext, `${r.name}: extended highest`);
    t.equal(report.cumulativeLost, r.lost, `${r.name}: cumulative lost`);
    t.equal(report.fractionLost, r.fraction, `${r.name}: fraction`);
    t.equal(stats.received, r.received, `${r.name}: received`);
  }
});

t.test('fraction lost is per interval; cumulative keeps counting', async (t) => {
  const s = new ReceptionStats(SSRC, 90_000);
  let seq = 0;
  const send = (n: number, dropEvery: number): void => {
    for (let i = 0; i < n; i++, seq++) {
      if (dropEvery === 0 || seq % dropEvery !== 0) {
        s.onPacket(seq, seq * 3000, seq * 33);
      }
    }
  };
  send(100, 4); // drops 0, 4, 8, …: 25 of 100 (the very first packet is the base, so 24 of 99 expected)
  const a = s.report(5000)!;
  t.equal(a.cumulativeLost, 24);
  t.equal(a.fractionLost, Math.floor((24 * 256) / 99));
  t.equal(a.expectedInterval, 99);
  t.equal(a.lostInterval, 24);
  send(100, 0);
  const b = s.report(10_000)!;
  t.equal(b.fractionLost, 0, 'a clean interval after a lossy one reports 0');
  t.equal(b.cumulativeLost, 24);
  t.equal(s.report(11_000)!.fractionLost, 0, 'an interval without packets reports 0');
});

t.test('skipGap: an outage leaves the interval fraction, not the cumulative count', async (t) => {
  // Each row: 50 packets, then (skipGap or not) a jump of `skip` sequence numbers, then 50 more in order.
  const cases: { name: string; skip: number; gap: boolean; fraction: number; expected: number }[] = [
    { name: 'a gap of 100 without skipGap is loss', skip: 100, gap: false, fraction: 170, expected: 150 },
    { name: 'a gap of 100 after skipGap is not', skip: 100, gap: true, fraction: 0, expected: 50 },
    { name: 'skipGap with no packet missing changes nothing', skip: 0, gap: true, fraction: 0, expected: 50 },
  ];
  for (const c of cases) {
    const s = new ReceptionStats(SSRC, 90_000);
    for (let seq = 0; seq < 50; seq++) {
      s.onPacket(seq, seq * 3000, seq * 33);
    }
    s.report(2000);
    if (c.gap) {
      s.skipGap();
      s.onPacket(49, 49 * 3000, 3000); // a late duplicate does not use the skip up
    }
    for (let seq = 50 + c.skip; seq < 100 + c.skip; seq++) {
      s.onPacket(seq, seq * 3000, 5000 + seq * 33);
    }
    const r = s.report(10_000)!;
    t.equal(r.fractionLost, c.fraction, `${c.name}: fraction`);
    t.equal(r.expectedInterval, c.expected, `${c.name}: expected in the interval`);
    t.equal(r.cumulativeLost, c.skip - (c.gap ? 1 : 0), `${c.name}: cumulative lost keeps the gap`);
    const next = s.report(11_000)!;
    t.equal(next.fractionLost, 0, `${c.name}: the skip is used once`);
  }
  const fresh = new ReceptionStats(SSRC, 90_000);
  fresh.skipGap();
  fresh.onPacket(10, 0, 0);
  fresh.onPacket(20, 0, 20);
  t.equal(fresh.report(100)!.lostInterval, 9, 'skipGap before the first packet is a no-op');
});

t.test('skipPause: numbers skipped by a paused stream were not sent, not lost', async (t) => {
  // Each row: 50 packets, then (skipPause or not) a jump of `skip` numbers, then 50 more in order.
  const cases: { name: string; pause: boolean; skip: number; fraction: number; cumulative: number }[] = [
    { name: 'without skipPause a jump is loss', pause: false, skip: 100, fraction: 170, cumulative: 100 },
    { name: 'after skipPause it is not', pause: true, skip: 100, fraction: 0, cumulative: 0 },
    { name: 'across the 16-bit wrap', pause: true, skip: 2000, fraction: 0, cumulative: 0 },
    { name: 'skipPause with nothing skipped', pause: true, skip: 0, fraction: 0, cumulative: 0 },
  ];
  for (const c of cases) {
    const s = new ReceptionStats(SSRC, 90_000);
    const start = 65_000; // a large skip crosses the wrap
    for (let i = 0; i < 50; i++) {
      s.onPacket((start + i) & 0xffff, i * 1800, i * 20);
    }
    t.equal(s.lastArrivalMs, 980, `${c.name}: last arrival`);
    s.report(1000);
    if (c.pause) {
      s.skipPause();
      s.onPacket((start + 49) & 0xffff, 49 * 1800, 3000); // a late duplicate does not use the skip up
    }
    for (let i = 0; i < 50; i++) {
      s.onPacket((start + 50 + c.skip + i) & 0xffff, (50 + i) * 1800, 3000 + i * 20);
    }
    const r = s.report(5000)!;
    t.equal(r.fractionLost, c.fraction, `${c.name}: fraction`);
    t.equal(
      r.cumulativeLost,
      c.cumulative - (c.pause ? 1 : 0),
      `${c.name}: cumulative (a duplicate counts as received)`,
    );
    t.equal(r.extendedHighestSeq, start + 99 + c.skip, `${c.name}: extended highest seq`);
  }
  const s = new ReceptionStats(SSRC, 90_000);
  for (let i = 0; i < 10; i++) {
    s.onPacket(i, i * 1800, i * 20);
  }
  s.skipPause();
  s.onPacket(15, 15 * 1800, 700); // resumed: 5 numbers not sent
  s.onPacket(17, 17 * 1800, 720); // then a real loss of one
  t.equal(s.report(2000)!.cumulativeLost, 1, 'a loss right after a pause still counts');
  t.equal(s.report(3000)!.fractionLost, 0, 'the next interval is clean');
  const fresh = new ReceptionStats(SSRC, 90_000);
  t.ok(Number.isNaN(fresh.lastArrivalMs), 'no last arrival before a packet');
  fresh.skipPause();
  fresh.onPacket(10, 0, 0);
  fresh.onPacket(20, 0, 20);
  t.equal(fresh.report(100)!.lostInterval, 9, 'skipPause before the first packet is a no-op');
});

t.test('cumulative lost is clamped to 24 bits signed', async (t) => {
  const s = new ReceptionStats(SSRC, 90_000);
  s.onPacket(0, 0, 0);
  // 2999 ahead each time: one packet per 2999 expected, for ~2900 cycles of 65536 (≈ 1.9e8 expected).
  let seq = 0;
  for (let i = 0; i < 64_000; i++) {
    seq = (seq + 2999) & 0xffff;
    s.onPacket(seq, i * 3000, i);
  }
  const r = s.report(100_000)!;
  t.equal(r.cumulativeLost, 0x7fffff, 'clamped at 2^23 − 1');
  t.equal(r.fractionLost, 255);
});

t.test('jitter: paced exactly → 0; alternating ±d → about 2d; late packets ignored', async (t) => {
  const exact = new ReceptionStats(SSRC, 90_000);
  const base = 0xffff_ffff - 90_000; // the timestamp wraps after 1 s
  for (let i = 0; i < 200; i++) {
    exact.onPacket(i, (base + i * 1800) >>> 0, 10_000 + i * 20);
  }
  t.equal(exact.report(20_000)!.jitter, 0, '0 across the timestamp wrap');

  const wobbly = new ReceptionStats(SSRC, 90_000);
  for (let i = 0; i < 400; i++) {
    wobbly.onPacket(i, i * 1800, 10_000 + i * 20 + (i % 2 === 0 ? 0 : 5)); // every other packet 5 ms late
  }
  const j = wobbly.report(20_000)!.jitter;
  t.ok(Math.abs(j - 450) <= 5, `|D| = 5 ms = 450 ticks each packet: ${String(j)}`);

  const late = new ReceptionStats(SSRC, 48_000);
  for (let i = 0; i < 100; i++) {
    if (i !== 50) {
      late.onPacket(i, i * 960, 1000 + i * 20);
    }
  }
  late.onPacket(50, 50 * 960, 5000); // the retransmission, seconds late
  t.equal(late.report(6000)!.jitter, 0, 'a repaired packet does not count toward jitter');
});

t.test('LSR echoed, DLSR in 1/65536 s; none before an SR', async (t) => {
  const s = new ReceptionStats(SSRC, 90_000);
  t.equal(s.report(0), undefined, 'no report before any packet');
  s.onPacket(1, 0, 0);
  const before = s.report(10)!;
  t.equal(before.lsr, 0);
  t.equal(before.dlsr, 0);
  s.onSenderReport(0x1234_5678, 1000);
  const r = s.report(1500)!;
  t.equal(r.lsr, 0x1234_5678);
  t.equal(r.dlsr, 32_768, '500 ms = 32768 / 65536 s');
});

t.test('invalid input is ignored', async (t) => {
  const s = new ReceptionStats(SSRC, 90_000);
  s.onPacket(-1, 0, 0);
  s.onPacket(70_000, 0, 0);
  s.onPacket(1.5, 0, 0);
  s.onPacket(1, 0, Number.NaN);
  t.equal(s.started, false);
  s.onPacket(1, 0, 0);
  s.onSenderReport(Number.NaN, 0);
  t.equal(s.report(1)!.lsr, 0);
});

const block = (ssrc: number): ReceptionReport => ({
  ssrc,
  fractionLost: 0x40,
  cumulativeLost: -2,
  extendedHighestSeq: 0x0001_0005,
  jitter: 0x1234,
  lsr: 0xaabb_ccdd,
  dlsr: 0x0002_0000,
  expectedInterval: 9,
  lostInterval: 1,
});

t.test('RR bytes: annotated fixture', async (t) => {
  const want = Uint8Array.from([
    0x81, //                           V=2 P=0 RC=1
    0xc9, //                           PT=201 (RR)
    ...[0x00, 0x07], //                length = 8 words - 1
    ...[0x11, 0x22, 0x33, 0x44], //    SSRC of packet sender
    ...[0x0a, 0x0b, 0x0c, 0x0d], //    SSRC_1
    0x40, //                           fraction lost = 64/256
    ...[0xff, 0xff, 0xfe], //          cumulative lost = −2 (24-bit two's complement)
    ...[0x00, 0x01, 0x00, 0x05], //    extended highest seq: 1 cycle, seq 5
    ...[0x00, 0x00, 0x12, 0x34], //    jitter
    ...[0xaa, 0xbb, 0xcc, 0xdd], //    LSR
    ...[0x00, 0x02, 0x00, 0x00], //    DLSR = 2 s
  ]);
  t.strictSame(receiverReportPackets(0x1122_3344, [block(SSRC)]), want);
  t.strictSame(
    receiverReportPackets(0x1122_3344, []),
    Uint8Array.from([0x80, 0xc9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44]),
    'no blocks: an empty RR',
  );
});

t.test('RR bytes read back by werift and readRtcp; 40 blocks make two RRs', async (t) => {
  const one = RtcpPacketConverter.deSerialize(Buffer.from(receiverReportPackets(7, [block(SSRC)])));
  t.equal(one.length, 1);
  const fb = readRtcp(one[0]);
  t.same(fb, { kind: 'rr', reports: [{ ssrc: SSRC, fractionLost: 0x40, lsr: 0xaabb_ccdd, dlsr: 0x20000 }] });
  const blocks = Array.from({ length: 40 }, (_, i) => block(1000 + i));
  const bytes = receiverReportPackets(7, blocks);
  t.equal(bytes.length, 2 * 8 + 40 * 24);
  const parsed = RtcpPacketConverter.deSerialize(Buffer.from(bytes));
  t.equal(parsed.length, 2, 'a compound of two RRs');
  const ssrcs = parsed.flatMap((p) => {
    const r = readRtcp(p);
    return r.kind === 'rr' ? r.reports.map((b) => b.ssrc) : [];
  });
  t.same(
    ssrcs,
    blocks.map((b) => b.ssrc),
    'every block, in order (31 + 9)',
  );
});

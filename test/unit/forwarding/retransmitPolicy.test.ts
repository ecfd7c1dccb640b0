/**
 * Retransmission rules as tables: the de-duplication window from the RTT, the byte budget (90 % of the
 * stream's rate, 0.25 s bursts, 40 bytes overhead per resend, 64 kbit/s floor), NACK answers across the
 * 65535 → 0 wrap, and the RTT from receiver reports' LSR/DLSR.
 */
import t from 'tap';
import {
  DEFAULT_RTT_MS,
  lossFraction,
  resendWindowMs,
  RetransmitBudget,
  Retransmitter,
  RTX_BUFFER_MS,
  RTX_BUFFER_INITIAL_PACKETS,
  RTX_BUFFER_PACKETS,
  RTX_MIN_RATE_BYTES,
  RTX_PACKET_OVERHEAD,
  RttEstimator,
  type RetransmitRefusal,
} from '../../../src/forwarding/retransmitPolicy.js';

t.test('resendWindowMs: 0.8 × RTT, at least 5 ms, 20 ms RTT until measured', async (t) => {
  const rows: [number | undefined, number][] = [
    [undefined, 0.8 * DEFAULT_RTT_MS],
    [0, 5],
    [6, 5],
    [6.25, 5],
    [10, 8],
    [100, 80],
    [2000, 1600],
  ];
  for (const [rtt, want] of rows) {
    t.equal(resendWindowMs(rtt), want, `rtt ${String(rtt)}`);
  }
});

t.test('budget: refill at 90 % of the stream rate, bursts of 0.25 s, floor 8,000 B/s', async (t) => {
  // [stream bytes/s, ms since the last refill, tokens before → tokens after refill]
  const rows: [string, number, number, number][] = [
    ['start: a floor burst', 0, 0, RTX_MIN_RATE_BYTES * 0.25],
    ['unknown rate: floor rate, capped at its burst', 0, 10_000, 2000],
    ['100 kB/s: burst 22,500 B', 100_000, 10_000, 22_500],
    ['100 kB/s for 100 ms: +9,000 B', 100_000, 100, 2000 + 9000],
    ['low rate under the floor', 1000, 1000, 2000],
  ];
  for (const [name, rate, elapsed, want] of rows) {
    const b = new RetransmitBudget(0);
    b.refill(elapsed, rate);
    t.equal(b.tokens, want, name);
  }
  const b = new RetransmitBudget(1000);
  b.refill(500, 100_000);
  t.equal(b.tokens, 2000, 'time running backwards adds nothing');
  b.refill(600, 100_000);
  t.equal(b.tokens, 2000, 'and is not counted twice after it');
  t.equal(b.take(2000 - RTX_PACKET_OVERHEAD), true, 'exactly the tokens');
  t.equal(b.tokens, 0);
  t.equal(b.take(0), false, 'even an empty packet costs its overhead');
});

interface Pkt {
  seq: number;
  bytes: number;
}

/** Runs NACK rows against a Retransmitter that sent `sent` seqs at 0, 1, 2, ... ms (100-byte packets). */
function answers(
  sent: readonly number[],
  nacks: readonly { seq: number; at: number; rtt?: number; rate?: number }[],
): (number | RetransmitRefusal)[] {
  const r = new Retransmitter<Pkt>((p) => p.bytes, 0);
  sent.forEach((seq, i) => {
    r.makeRoom(seq, i); // as the send path does before each packet (the buffer grows up to its size)
    r.remember(seq, i, { seq, bytes: 100 });
  });
  return nacks.map((n) => {
    r.refill(n.at, n.rate ?? 1_000_000);
    const a = r.answer(n.seq, n.at, resendWindowMs(n.rtt));
    return typeof a === 'string' ? a : a.seq;
  });
}

const wrap = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => (from + i) & 0xffff);

t.test('NACK answers (sequence wrap-around rows included)', async (t) => {
  const rows: [string, number[], { seq: number; at: number; rtt?: number; rate?: number }[], unknown[]][] = [
    ['a sent packet', wrap(10, 5), [{ seq: 12, at: 50 }], [12]],
    ['never sent', wrap(10, 5), [{ seq: 15, at: 50 }], ['missing']],
    [
      'across the wrap: 65535 and 0 both answered',
      wrap(65533, 6),
      [
        { seq: 65535, at: 50 },
        { seq: 0, at: 50 },
        { seq: 2, at: 50 },
      ],
      [65535, 0, 2],
    ],
    [
      'across the wrap: 65532 (before) and 3 (after) never sent',
      wrap(65533, 6),
      [
        { seq: 65532, at: 50 },
        { seq: 3, at: 50 },
      ],
      ['missing', 'missing'],
    ],
    [
      'at most once per RTT: again within 0.8 × RTT is a duplicate',
      wrap(65535, 2),
      [
        { seq: 0, at: 50, rtt: 100 },
        { seq: 0, at: 129, rtt: 100 },
        { seq: 0, at: 130, rtt: 100 },
      ],
      [0, 'duplicate', 0],
    ],
    [
      'de-duplication uses the 20 ms default RTT (16 ms window) before one is measured',
      wrap(65535, 2),
      [
        { seq: 65535, at: 50 },
        { seq: 65535, at: 65 },
        { seq: 65535, at: 66 },
      ],
      [65535, 'duplicate', 65535],
    ],
    [
      'older than 1.5 s',
      wrap(0, 3),
      [
        { seq: 1, at: 1 + RTX_BUFFER_MS },
        { seq: 1, at: 2 + RTX_BUFFER_MS },
      ],
      [1, 'too_old'],
    ],
    [
      'a slot reused 512 packets later answers only for the newer packet (across the wrap)',
      wrap(65500, RTX_BUFFER_PACKETS + 1),
      [
        { seq: 65500, at: 600 },
        { seq: (65500 + RTX_BUFFER_PACKETS) & 0xffff, at: 600 },
      ],
      ['missing', (65500 + RTX_BUFFER_PACKETS) & 0xffff],
    ],
    [
      // Floor rate: 2,000-byte burst = 14 resends of 140 bytes; the 15th is refused.
      'the budget runs out: rate_limited, and the refused packet can be answered later',
      wrap(65530, 16),
      [
        ...wrap(65530, 15).map((seq) => ({ seq, at: 20, rate: 0 })),
        { seq: (65530 + 14) & 0xffff, at: 1020, rate: 0 },
      ],
      [...wrap(65530, 14), 'rate_limited', (65530 + 14) & 0xffff],
    ],
  ];
  for (const [name, sent, nacks, want] of rows) {
    t.strictSame(answers(sent, nacks), want, name);
  }
});

t.test('the buffer starts small and grows while its packets are young, up to its size', async (t) => {
  const r = new Retransmitter<Pkt>((p) => p.bytes, 0);
  t.equal(r.capacity, RTX_BUFFER_INITIAL_PACKETS);
  // A slow stream (one packet every 30 ms): the first packet is older than RTX_BUFFER_MS when its slot comes
  // round again, so the buffer never grows.
  const slowSeqs = wrap(65530, RTX_BUFFER_INITIAL_PACKETS + 1);
  let grew = 0;
  slowSeqs.forEach((seq, i) => {
    grew += r.makeRoom(seq, i * 30) ? 1 : 0;
    r.remember(seq, i * 30, { seq, bytes: 100 });
  });
  t.equal(grew, 0, 'a slow stream keeps the initial size');
  t.equal(r.capacity, RTX_BUFFER_INITIAL_PACKETS);
  // A fast one (all within 1.5 s): doubles each time the ring comes round, keeping every packet, then stops.
  const fast = new Retransmitter<Pkt>((p) => p.bytes, 0);
  const fastSeqs = wrap(65000, RTX_BUFFER_PACKETS + 10);
  const sizes: number[] = [];
  fastSeqs.forEach((seq, i) => {
    if (fast.makeRoom(seq, i)) {
      sizes.push(fast.capacity);
    }
    fast.remember(seq, i, { seq, bytes: 100 });
  });
  t.strictSame(sizes, [128, 256, 512], 'doubled up to RTX_BUFFER_PACKETS');
  t.equal(fast.capacity, RTX_BUFFER_PACKETS);
  fast.refill(600, 1_000_000);
  const first = fastSeqs[0]!;
  t.equal(fast.answer(first, 600, 16), 'missing', 'at full size the oldest slot is reused');
  const kept = fastSeqs[10]!;
  t.strictSame(fast.answer(kept, 600, 16), { seq: kept, bytes: 100 }, 'packets from before the growth kept');
});

t.test('a refusal charges nothing and marks nothing resent', async (t) => {
  const r = new Retransmitter<Pkt>((p) => p.bytes, 0);
  r.remember(65535, 0, { seq: 65535, bytes: 5000 });
  r.remember(0, 0, { seq: 0, bytes: 100 });
  r.refill(0, 0);
  t.equal(r.answer(65535, 10, 16), 'rate_limited', 'bigger than the 2,000-byte burst');
  t.equal(r.budgetBytes, 2000, 'not charged');
  t.equal(r.answer(65535, 11, 16), 'rate_limited', 'still over budget, not a duplicate');
  t.strictSame(r.answer(0, 11, 16), { seq: 0, bytes: 100 }, 'a smaller packet fits');
  t.equal(r.budgetBytes, 2000 - 100 - RTX_PACKET_OVERHEAD, 'charged payload + overhead');
  r.clear();
  t.equal(r.answer(0, 40, 16), 'missing', 'cleared');
});

t.test('lossFraction: 8-bit fixed point, clamped', async (t) => {
  const rows: [number, number][] = [
    [0, 0],
    [64, 0.25],
    [255, 255 / 256],
    [256, 255 / 256],
    [-3, 0],
    [25.9, 25 / 256],
    [Number.NaN, 0],
  ];
  for (const [v, want] of rows) {
    t.equal(lossFraction(v), want, String(v));
  }
});

t.test('RTT from LSR/DLSR: matched SRs only, smoothed ¾ old + ¼ new, absurd samples dropped', async (t) => {
  // [sent SRs (lsr, at)], [reports (lsr, dlsr, now)], rtt after each report
  const rows: [string, [number, number][], [number, number, number][], (number | undefined)[]][] = [
    ['no report yet', [[7, 0]], [], []],
    ['lsr 0: no SR seen', [[7, 0]], [[0, 0, 50]], [undefined]],
    ['unknown lsr', [[7, 0]], [[8, 0, 50]], [undefined]],
    ['first sample taken as is', [[7, 1000]], [[7, 65536, 2100]], [100]],
    [
      'then smoothed',
      [
        [7, 1000],
        [9, 2000],
      ],
      [
        [7, 0, 1100],
        [9, 0, 2020],
      ],
      [100, 80],
    ],
    ['negative RTT dropped', [[7, 1000]], [[7, 65536 * 2, 1500]], [undefined]],
    ['10 s or more dropped', [[7, 0]], [[7, 0, 10_000]], [undefined]],
    ['lsr with the top bit set', [[0x8000_0001, 0]], [[0x8000_0001 | 0, 0, 30]], [30]],
    [
      'only the last 4 SRs are remembered',
      [
        [1, 0],
        [2, 10],
        [3, 20],
        [4, 30],
        [5, 40],
      ],
      [
        [1, 0, 100],
        [2, 0, 100],
      ],
      [undefined, 90],
    ],
  ];
  for (const [name, srs, reports, want] of rows) {
    const e = new RttEstimator();
    for (const [lsr, at] of srs) {
      e.onSenderReportSent(lsr, at);
    }
    const got = reports.map(([lsr, dlsr, now]) => {
      e.onReport(lsr, dlsr, now);
      return e.rttMs;
    });
    t.strictSame(got, want, name);
  }
});

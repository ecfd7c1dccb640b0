/**
 * RTP clock arithmetic: signed 32-bit timestamp distance, translating a timestamp between two simulcast
 * layers' clocks through their sender reports (different random RTP offsets, across 2^32 → 0), and the sender
 * report of a forwarded stream.
 */
import t from 'tap';
import { Forwarder } from '../../../src/forwarding/forwarder.js';
import { alignTimestamp, forwardedSenderReport, tsDiff } from '../../../src/forwarding/rtpClock.js';
import type { ForwardedClockState, SenderClock } from '../../../src/forwarding/rtpClock.js';

const TOP = 2 ** 32;

t.test('tsDiff: signed a - b, wrap-aware', async (t) => {
  const rows: [a: number, b: number, want: number, note: string][] = [
    [0, 0, 0, 'equal'],
    [10, 5, 5, 'ahead'],
    [5, 10, -5, 'behind'],
    [0, TOP - 1, 1, '2^32-1 → 0 is +1'],
    [TOP - 1, 0, -1, '0 → 2^32-1 is -1'],
    [1000, TOP - 1000, 2000, 'ahead across the wrap'],
    [TOP - 1000, 1000, -2000, 'behind across the wrap'],
    [0x7fff_ffff, 0, 0x7fff_ffff, 'largest positive distance'],
    [0x8000_0000, 0, -0x8000_0000, 'half the range reads as behind'],
    [TOP + 5, 5, 0, 'inputs are taken mod 2^32'],
  ];
  for (const [a, b, want, note] of rows) {
    t.equal(tsDiff(a, b), want, `${a} - ${b} = ${want}: ${note}`);
  }
});

t.test('alignTimestamp between two layers with different RTP offsets', async (t) => {
  // Layer A's SR: RTP 2^32-296 at NTP 1000 ms; layer B's SR at the same instant: RTP 123456.
  const a: SenderClock = { ntpMs: 1000, rtpTs: TOP - 296 };
  const b: SenderClock = { ntpMs: 1000, rtpTs: 123_456 };
  // Layer C's SR taken 500 ms later, just below the wrap.
  const c: SenderClock = { ntpMs: 1500, rtpTs: TOP - 4500 };
  const rows: [ts: number, from: SenderClock, to: SenderClock, rate: number, want: number, note: string][] = [
    [TOP - 296, a, b, 90000, 123_456, 'the SR instant itself'],
    [(TOP - 296 + 9000) % TOP, a, b, 90000, 132_456, '100 ms later, A has wrapped'],
    [123_456 + 9000, b, a, 90000, (TOP - 296 + 9000) % TOP, 'and back: B → A wraps'],
    [TOP - 296 - 9000, a, b, 90000, 123_456 - 9000, '100 ms before the SR'],
    [TOP - 296 + 49500 - TOP, a, c, 90000, 0, "550 ms later = C's SR + 50 ms: exactly 0"],
    [TOP - 296 + 90000 - TOP, a, c, 90000, 40_500, '1 s later: C wrapped'],
    [TOP - 4500, c, a, 90000, (TOP - 296 + 45000) % TOP, 'C → A'],
    [48, { ntpMs: 0, rtpTs: 0 }, { ntpMs: 0, rtpTs: 1000 }, 48000, 1048, '48 kHz: 1 ms'],
    [1, { ntpMs: 0, rtpTs: 0 }, { ntpMs: 0.01, rtpTs: 0 }, 48000, 1, 'a 0.48-tick NTP skew rounds away'],
    [0, { ntpMs: 0, rtpTs: 0 }, { ntpMs: -0.02, rtpTs: 0 }, 48000, 1, 'a 0.96-tick skew rounds to 1'],
  ];
  for (const [ts, from, to, rate, want, note] of rows) {
    t.equal(alignTimestamp(ts, from, to, rate), want, `${ts} → ${want}: ${note}`);
  }
});

t.test('alignTimestamp: same clock is the identity, and A → B → A round-trips', async (t) => {
  const a: SenderClock = { ntpMs: 1234, rtpTs: TOP - 10 };
  const b: SenderClock = { ntpMs: 1300, rtpTs: 3_000_000_000 };
  for (const ts of [TOP - 10, TOP - 1, 0, 5, TOP - 20, 1_000_000, 2_000_000_000]) {
    t.equal(alignTimestamp(ts, a, a, 90000), ts, `identity at ${ts}`);
    t.equal(alignTimestamp(alignTimestamp(ts, a, b, 90000), b, a, 90000), ts, `round trip at ${ts}`);
  }
});

t.test('alignTimestamp: results are 32-bit unsigned integers, garbage never throws', async (t) => {
  const got = alignTimestamp(5, { ntpMs: 0, rtpTs: 0 }, { ntpMs: 1e9, rtpTs: 0 }, 90000);
  t.ok(Number.isInteger(got) && got >= 0 && got < TOP, 'in range');
  t.doesNotThrow(() => alignTimestamp(Number.NaN, { ntpMs: 0, rtpTs: 0 }, { ntpMs: 0, rtpTs: 0 }, 90000));
  t.doesNotThrow(() => alignTimestamp(5, { ntpMs: 0, rtpTs: 0 }, { ntpMs: 0, rtpTs: 0 }, 0));
});

t.test('forwardedSenderReport without a source SR: local clock + last output extrapolated', async (t) => {
  const rows: [state: ForwardedClockState, now: number, want: SenderClock, note: string][] = [
    [
      { clockRate: 90000, lastOutTs: 1000, lastOutAt: 5000, tsOffset: 777 },
      5100,
      { ntpMs: 5100, rtpTs: 10_000 },
      '+100 ms, offset unused',
    ],
    [
      { clockRate: 90000, lastOutTs: 1000, lastOutAt: 5000, tsOffset: 0 },
      5000,
      { ntpMs: 5000, rtpTs: 1000 },
      'at the last packet',
    ],
    [
      { clockRate: 90000, lastOutTs: TOP - 100, lastOutAt: 5000, tsOffset: 0 },
      5010,
      { ntpMs: 5010, rtpTs: 800 },
      'wraps',
    ],
    [
      { clockRate: 48000, lastOutTs: 0, lastOutAt: 0, tsOffset: 0 },
      0.01,
      { ntpMs: 0.01, rtpTs: 0 },
      '0.48 tick rounds to 0',
    ],
    [{ clockRate: 48000, lastOutTs: 0, lastOutAt: 0, tsOffset: 0 }, 1.5, { ntpMs: 1.5, rtpTs: 72 }, '48 kHz'],
  ];
  for (const [state, now, want, note] of rows) {
    t.strictSame(forwardedSenderReport(state, now), want, note);
  }
});

t.test('forwardedSenderReport with a source SR: its NTP↔RTP mapping, shifted by the offset', async (t) => {
  const src = { ntpMs: 1_700_000_000_000, rtpTs: TOP - 1000, receivedAt: 20_000 };
  const base = { clockRate: 90000, lastOutTs: 42, lastOutAt: 19_000, tsOffset: 5000, sourceSr: src };
  const rows: [state: ForwardedClockState, now: number, want: SenderClock, note: string][] = [
    [base, 20_000, { ntpMs: src.ntpMs, rtpTs: 4000 }, 'at arrival: the SR + offset (wraps)'],
    [base, 20_500, { ntpMs: src.ntpMs + 500, rtpTs: 49_000 }, '500 ms later'],
    [{ ...base, tsOffset: TOP - 1 }, 20_000, { ntpMs: src.ntpMs, rtpTs: TOP - 1001 }, 'offset of -1'],
    [{ ...base, tsOffset: 0 }, 19_900, { ntpMs: src.ntpMs - 100, rtpTs: TOP - 10_000 }, 'before its arrival'],
  ];
  for (const [state, now, want, note] of rows) {
    t.strictSame(forwardedSenderReport(state, now), want, note);
  }
});

t.test("the forwarded SR agrees with the forwarder's rewritten timestamps after a switch", async (t) => {
  const f = new Forwarder({ clockRate: 90000, keyframeGated: true });
  f.setTarget(0);
  const pkt = { marker: true, payloadSize: 100, keyframe: true };
  f.decide({ ...pkt, layer: 0, seq: 1, ts: 500 }, 1000);
  f.setTarget(1);
  const d = f.decide({ ...pkt, layer: 1, seq: 900, ts: TOP - 123 }, 1040);
  t.match(d, { forward: true, switched: true });
  const outTs = d.forward ? d.ts : -1;
  // The publisher's SR for layer 1 says RTP 2^32-123 was sampled at NTP N; it arrived at local time 1050.
  const N = 1_700_000_000_000;
  const sr = forwardedSenderReport(
    {
      clockRate: 90000,
      lastOutTs: f.lastOutTs,
      lastOutAt: f.lastOutAt,
      tsOffset: f.tsOffset,
      sourceSr: { ntpMs: N, rtpTs: TOP - 123, receivedAt: 1050 },
    },
    1050,
  );
  t.strictSame(sr, { ntpMs: N, rtpTs: outTs }, 'the SR maps NTP N to the output timestamp of that sample');
});

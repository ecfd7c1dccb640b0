/**
 * TrunkEstimator scenarios (trunkSim.ts: a paced sender obeying the REMBs, a FIFO bottleneck, the estimator
 * fed in arrival order) and REMB cadence tables:
 * - a link under capacity: no overuse, the estimate rises to the received rate and stays near it (≤ 1.5 ×);
 * - a bottleneck (arrival spacing stretched): overuse within 50 groups, the estimate at ≈ 0.85 × the bottleneck;
 * - recovery once the bottleneck goes; the abs-send-time wrap changes nothing; reordering and bursty
 *   delivery or frame bursts cause no overuse (loss is the sending focus's rule: trunkCcSend.test.ts);
 * - a busy receiving host (reads falling behind for 120 ms every 3 s): overuse, but no cut when the stalls are
 *   reported; the same run unreported cuts;
 * - REMB: at once first, every 500 ms, a ≥ 3 % drop at once, a ≥ 3 % rise not within 200 ms.
 */
import t from 'tap';
import { TrunkEstimator } from '../../../src/forwarding/trunkEstimator.js';
import { sampleAt, simulate } from '../../helpers/trunkSim.js';

const steady = { durationMs: 20_000, demandBps: () => 2_000_000, capacityBps: () => 10_000_000 };
const bottleneckAt5s = (t: number): number => (t < 5000 ? 10_000_000 : 1_500_000);

t.test('under capacity: rises to the received rate and stays', async (t) => {
  const r = simulate(steady);
  t.equal(r.overuseCount, 0, 'no overuse');
  t.ok(sampleAt(r, 1000) < 2_000_000, 'starts below the demand (1 Mbit/s start)');
  for (const at of [15_000, 17_500, 20_000]) {
    const bps = sampleAt(r, at);
    t.ok(bps >= 2_000_000 && bps <= 1.5 * 2_016_000 + 10_000, `at ${String(at)} ms: ${String(bps)}`);
  }
  const decreases = r.samples.filter((s, i) => i > 0 && s.bps < r.samples[i - 1]!.bps);
  t.equal(decreases.length, 0, 'never falls');
});

t.test('bottleneck: overuse, then ≈ 0.85 × the bottleneck', async (t) => {
  const r = simulate({
    durationMs: 10_000,
    openLoop: true,
    demandBps: () => 3_000_000,
    capacityBps: bottleneckAt5s,
  });
  t.ok(r.firstOveruseAt !== undefined && r.firstOveruseAt > 5000, 'overuse only after the bottleneck');
  const before = simulate({ ...steady, durationMs: 5000, openLoop: true, demandBps: () => 3_000_000 });
  const groupsAfter = r.groupsAtFirstOveruse! - before.estimator.delay.groups;
  t.ok(groupsAfter <= 50, `detected ${String(groupsAfter)} groups after the change`);
  for (const at of [7000, 8500, 10_000]) {
    const bps = sampleAt(r, at);
    t.ok(
      Math.abs(bps - 0.85 * 1_500_000) <= 0.05 * 1_500_000,
      `at ${String(at)} ms: ${String(bps)} ≈ 1.275 M`,
    );
  }
});

t.test('closed loop: follows the bottleneck down and recovers', async (t) => {
  const r = simulate({
    durationMs: 40_000,
    demandBps: () => 3_000_000,
    capacityBps: (t) => (t >= 5000 && t < 15_000 ? 1_500_000 : 10_000_000),
  });
  for (const at of [7000, 10_000, 14_900]) {
    const bps = sampleAt(r, at);
    t.ok(bps >= 1_000_000 && bps <= 1_600_000, `under the bottleneck at ${String(at)} ms: ${String(bps)}`);
  }
  const back = r.samples.find((s) => s.at > 15_000 && s.bps >= 3_000_000);
  t.ok(back !== undefined && back.at <= 35_000, `demand fits again at ${String(back?.at)} ms`);
});

t.test('the abs-send-time wrap changes nothing', async (t) => {
  const offset = (1 << 24) - 5 * 262_144; // wraps 5 s in
  for (const [name, o] of [
    ['steady', { ...steady, durationMs: 12_000 }],
    [
      'bottleneck',
      { durationMs: 10_000, openLoop: true, demandBps: () => 3_000_000, capacityBps: bottleneckAt5s },
    ],
  ] as const) {
    const plain = simulate(o);
    const wrapped = simulate({ ...o, absOffset: offset });
    t.same(wrapped.rembs, plain.rembs, `${name}: identical REMBs`);
    t.ok(plain.rembs.length > 20);
  }
});

t.test('reordering and bursts are not congestion', async (t) => {
  const base = { ...steady, durationMs: 12_000 };
  const plain = simulate(base);
  for (const [name, extra] of [
    ['every 7th pair reordered', { reorderEvery: 7 }],
    ['delivered in 20 ms bursts', { deliverEveryMs: 20 }],
    ['frames sent as bursts', { frames: true }],
  ] as const) {
    const r = simulate({ ...base, ...extra });
    t.equal(r.overuseCount, 0, `${name}: no overuse`);
    t.ok(sampleAt(r, 12_000) >= 0.95 * sampleAt(plain, 12_000), `${name}: the estimate rises as without`);
  }
  const bn = simulate({
    durationMs: 10_000,
    openLoop: true,
    reorderEvery: 5,
    demandBps: () => 3_000_000,
    capacityBps: bottleneckAt5s,
  });
  t.ok(
    bn.firstOveruseAt !== undefined && bn.firstOveruseAt < 5500,
    'a bottleneck is still seen under reordering',
  );
});

t.test('REMB cadence', async (t) => {
  // No packets: the delay-based estimate stays at its start.
  const e = new TrunkEstimator({ aimd: { startBps: 1_000_000 } });
  t.equal(e.rembDue(0), 1_000_000, 'the first at once');
  t.equal(e.rembDue(100), undefined);
  t.equal(e.rembDue(499), undefined);
  t.ok(e.rembDue(500) !== undefined, 'every 500 ms');
  t.equal(e.rembDue(999), undefined);
  t.ok(e.rembDue(1000) !== undefined);
  // Drops and rises, from a bottleneck at 5 s and its end at 12 s (REMBs asked at every 100 ms tick).
  const r = simulate({
    durationMs: 20_000,
    demandBps: () => 2_000_000,
    capacityBps: (t) => (t >= 5000 && t < 12_000 ? 1_000_000 : 10_000_000),
  });
  const gaps = r.rembs.slice(1).map((x, i) => ({
    ms: x.at - r.rembs[i]!.at,
    change: x.bps / r.rembs[i]!.bps - 1,
  }));
  t.ok(
    gaps.some((g) => g.change <= -0.03 && g.ms < 200),
    'a ≥ 3 % drop goes at once (sooner than 200 ms after the last)',
  );
  t.ok(
    gaps.filter((g) => g.change > 0.03).every((g) => g.ms >= 200),
    'a ≥ 3 % rise never within 200 ms of the last',
  );
  t.ok(
    gaps.every((g) => g.ms <= 500),
    `none more than 500 ms apart (longest ${String(Math.max(...gaps.map((g) => g.ms)))} ms)`,
  );
  t.ok(gaps.some((g) => g.change > 0.03) && gaps.some((g) => g.change < -0.03), 'both happened');
});

t.test(
  'a step up into a bottleneck: the decrease scales from the recent rate, not the old one',
  async (t) => {
    // 60 kbit/s (audio alone) for 3 s under a 5 Mbit/s start estimate, then 3 Mbit/s into a 1.5 Mbit/s
    // bottleneck, open loop.
    const r = simulate({
      estimator: new TrunkEstimator({ aimd: { startBps: 5_000_000 } }),
      durationMs: 6000,
      openLoop: true,
      demandBps: (at) => (at < 3000 ? 60_000 : 3_000_000),
      capacityBps: () => 1_500_000,
    });
    t.ok(r.firstOveruseAt !== undefined && r.firstOveruseAt > 3000, 'overuse after the step');
    const firstCut = r.rembs.find((x, i) => x.at > 3000 && i > 0 && x.bps < r.rembs[i - 1]!.bps);
    t.ok(firstCut !== undefined, 'a REMB cut');
    t.ok(
      firstCut!.bps >= 0.85 * 0.8 * 1_500_000,
      `the first cut lands near 0.85 × the bottleneck, not 0.85 × the old 60 kbit/s: ${String(firstCut!.bps)}`,
    );
  },
);

t.test('a busy receiving host is not congestion when its stalls are reported', async (t) => {
  const spans = [3000, 6000, 9000].map((at) => ({ at, ms: 120 }));
  const run = (reported: boolean) =>
    simulate({ ...steady, durationMs: 12_000, busyHost: { spans, reported } });
  const unreported = run(false);
  t.ok(
    unreported.overuseCount > 0,
    `the stalls look like queueing delay (${String(unreported.overuseCount)} overuses)`,
  );
  const fell = (r: ReturnType<typeof simulate>) =>
    r.samples.filter((s, i) => i > 0 && s.bps < r.samples[i - 1]!.bps).length;
  t.ok(fell(unreported) > 0, 'unreported: the estimate is cut');
  const reported = run(true);
  t.ok(reported.overuseCount > 0, 'reported: the detector still sees them');
  t.equal(fell(reported), 0, 'reported: never cut');
  t.ok(reported.estimator.stallHolds > 0, 'counted as stall holds');
  t.ok(sampleAt(reported, 12_000) >= 2_000_000, 'and rises to the received rate as without stalls');
  // A real bottleneck 2 s after the last stall still cuts.
  const bn = simulate({
    durationMs: 10_000,
    openLoop: true,
    demandBps: () => 3_000_000,
    capacityBps: bottleneckAt5s,
    busyHost: { spans: [{ at: 2000, ms: 120 }], reported: true },
  });
  t.ok(
    Math.abs(sampleAt(bn, 8500) - 0.85 * 1_500_000) <= 0.05 * 1_500_000,
    `bottleneck still found: ${String(sampleAt(bn, 8500))}`,
  );
});

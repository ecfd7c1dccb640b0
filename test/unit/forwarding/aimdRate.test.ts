/**
 * AimdRate tables: overuse decreases to 0.85 × the received rate (only down) and holds; underuse holds;
 * normal increases 8 % per second while the link capacity is unknown and additively once a decrease measured
 * it; the increase is capped at 1.5 × received + 10 kbit/s; bounds and a backwards clock.
 */
import t from 'tap';
import { AimdRate } from '../../../src/forwarding/aimdRate.js';

t.test('decrease to 0.85 × received, only down, then hold', async (t) => {
  const a = new AimdRate({ startBps: 3_000_000 });
  a.update('normal', 2_000_000, 0);
  t.equal(a.update('overuse', 2_000_000, 0), 1_700_000);
  t.equal(a.state, 'hold');
  t.equal(a.update('overuse', 2_500_000, 100), 1_700_000, '0.85 × 2.5 M is above the estimate: unchanged');
  t.equal(a.update('underuse', 1_000_000, 200), 1_700_000, 'underuse holds');
  t.equal(a.state, 'hold');
  t.equal(a.update('overuse', 0, 300), 1_700_000, 'no received rate known: no decrease');
});

t.test('multiplicative increase while the capacity is unknown', async (t) => {
  const a = new AimdRate({ startBps: 1_000_000 });
  a.update('normal', 5_000_000, 0);
  t.notOk(a.nearConvergence);
  t.equal(Math.round(a.update('normal', 5_000_000, 1000)), 1_080_000, '+8 % in one second');
  for (let now = 1100; now <= 2000; now += 100) {
    a.update('normal', 5_000_000, now);
  }
  t.equal(Math.round(a.estimateBps), Math.round(1_080_000 * 1.08), 'in steps, the same 8 % per second');
});

t.test('additive increase near convergence', async (t) => {
  const a = new AimdRate({ startBps: 2_000_000 });
  a.update('normal', 1_500_000, 0);
  a.update('overuse', 1_500_000, 0); // capacity ≈ 1.5 M measured, estimate 1.275 M
  t.ok(a.nearConvergence);
  t.equal(a.estimateBps, 1_275_000);
  a.update('normal', 1_300_000, 0); // hold → increase
  const after = a.update('normal', 1_300_000, 1000);
  const gain = after - 1_275_000;
  // About one packet (≤ 9600 bits) per response time (RTT 100 ms + 100 ms) per second: ≤ 48 kbit/s.
  t.ok(gain >= 4000 && gain <= 48_000, `additive step ${String(gain)} bit/s in 1 s`);
  // A received rate well above the measured capacity: the path changed, multiplicative again.
  a.update('normal', 3_000_000, 1000);
  t.notOk(a.nearConvergence);
});

t.test('the increase is capped at 1.5 × received + 10 kbit/s', async (t) => {
  const a = new AimdRate({ startBps: 1_000_000 });
  a.update('normal', 500_000, 0);
  for (let now = 100; now <= 60_000; now += 100) {
    a.update('normal', 500_000, now);
  }
  t.equal(a.estimateBps, 1_000_000, 'above the cap already: not raised, not lowered');
  const b = new AimdRate({ startBps: 600_000 });
  for (let now = 0; now <= 60_000; now += 100) {
    b.update('normal', 500_000, now);
  }
  t.equal(b.estimateBps, 760_000);
});

t.test('bounds, RTT and a backwards clock', async (t) => {
  const a = new AimdRate({ startBps: 50_000, minBps: 30_000, maxBps: 2_000_000 });
  a.update('overuse', 10_000, 0);
  t.equal(a.estimateBps, 30_000, 'clamped to minBps');
  const b = new AimdRate({ startBps: 1_900_000, maxBps: 2_000_000 });
  for (let now = 0; now <= 10_000; now += 100) {
    b.update('normal', 1_900_000, now);
  }
  t.equal(b.estimateBps, 2_000_000, 'clamped to maxBps');
  const idle = new AimdRate({ startBps: 1_000_000 });
  for (let now = 0; now <= 10_000; now += 100) {
    idle.update('normal', 0, now);
  }
  t.equal(idle.estimateBps, 1_000_000, 'nothing received: no rise');
  const c = new AimdRate({ startBps: 1_000_000 });
  c.update('normal', 0, 1000);
  t.equal(c.update('normal', 0, 500), 1_000_000, 'time going back: no step');
  c.setRtt(Number.NaN);
  c.setRtt(-5);
  t.equal(c.update('normal', 0, 500), 1_000_000);
});

import t from 'tap';
import { gcPauses } from '../../bench/lib/gcPauses.js';

const reading = (minor: number[], major: number[]) => {
  // [count, sum s, count ≤ 5 ms] per kind, as the cascade host parses /metrics (quotes removed)
  const out: Record<string, number> = {};
  for (const [kind, [count, sumS, le5]] of [
    ['minor', minor],
    ['major', major],
  ] as const) {
    out[`nodejs_gc_duration_seconds_count{kind=${kind}}`] = count ?? 0;
    out[`nodejs_gc_duration_seconds_sum{kind=${kind}}`] = sumS ?? 0;
    out[`nodejs_gc_duration_seconds_bucket{le=0.005,kind=${kind}}`] = le5 ?? 0;
    out[`nodejs_gc_duration_seconds_bucket{le=0.05,kind=${kind}}`] = count ?? 0;
  }
  return out;
};

t.test('pauses in the window, summed over kinds, with those over 5 ms', async (t) => {
  const before = reading([100, 0.2, 100], [3, 0.03, 2]);
  const after = reading([160, 0.29, 159], [5, 0.071, 3]);
  t.same(gcPauses(before, after), { count: 62, totalMs: 131, over5ms: 2 });
});

t.test('no histogram (an older focus): undefined', async (t) => {
  t.equal(gcPauses({}, { sfu_x_total: 1 }), undefined);
});

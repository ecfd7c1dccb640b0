/**
 * FloodBound: refused items pile up, drain at the forgiveness rate, and the first refusal past the bound is
 * reported once; a client that overshoots now and then never gets there.
 */
import t from 'tap';
import { FloodBound } from '../../../src/util/floodBound.js';

t.test('table: the refusal that passes the bound, reported once', async (t) => {
  const rows: [string, number, number, number[], number | undefined][] = [
    // [name, bound, forgive/s, refusal times (ms), index of the refusal that reports (undefined: none)]
    ['bound 3: the fourth at once', 3, 1, [0, 0, 0, 0, 0], 3],
    ['bound 3: three never', 3, 1, [0, 0, 0], undefined],
    ['forgiven in between: never', 3, 1, [0, 0, 0, 1000, 2000, 3000, 4000], undefined],
    ['forgiveness slower than refusals: 1, 1.9, 2.8, 3.7', 3, 1, [0, 100, 200, 300, 400, 500], 3],
    ['time running backwards forgives nothing', 2, 1000, [1000, 0, 0, 0], 2],
  ];
  for (const [name, bound, forgive, times, reportAt] of rows) {
    const f = new FloodBound(bound, forgive, 0);
    const reports = times.map((at) => f.refuse(at));
    t.same(
      reports.map((r, i) => (r ? i : -1)).filter((i) => i >= 0),
      reportAt === undefined ? [] : [reportAt],
      name,
    );
    t.equal(f.over, reportAt !== undefined, `${name}: over`);
  }
});

t.test('several items refused at once', async (t) => {
  const f = new FloodBound(100, 10, 0);
  t.notOk(f.refuse(0, 60), '60 of 100');
  t.notOk(f.refuse(1000, 49), '60 − 10 forgiven + 49 = 99');
  t.ok(f.refuse(1000, 2), '101: past the bound');
  t.equal(f.pile, 101);
});

t.test('sustained at twice the rate vs bursts within it', async (t) => {
  // A DC rate of 100/s: bound 1,000, forgiving 10/s (dcChannel.ts).
  const flood = new FloodBound(1000, 10, 0);
  let at: number | undefined;
  for (let ms = 0; ms < 60_000 && at === undefined; ms += 10) {
    if (flood.refuse(ms)) {
      at = ms; // 100 refused per second over the rate
    }
  }
  t.ok(
    at !== undefined && at > 10_000 && at < 12_000,
    `a client at 2× the rate is cut off after ≈ 11 s (${at})`,
  );
  const bursty = new FloodBound(1000, 10, 0);
  let reported = false;
  for (let s = 0; s < 600; s++) {
    // 50 refused at once every 10 s: 5/s on average, under the 10/s forgiven.
    if (s % 10 === 0) {
      for (let i = 0; i < 50; i++) {
        reported ||= bursty.refuse(s * 1000);
      }
    }
  }
  t.notOk(reported, 'bursts of 50 every 10 s are forgiven');
  t.ok(bursty.pile <= 51, `the pile stays small (${bursty.pile})`);
});

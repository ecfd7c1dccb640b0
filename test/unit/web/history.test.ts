/** The status page's sample history (web/status/history.ts): window, alignment for uPlot, series coming and going. */
import t from 'tap';
import { History } from '../../../web/status/history.js';

const v = (entries: Record<string, number>) =>
  new Map(Object.entries(entries).map(([k, value]) => [k, { label: `label ${k}`, value }]));

t.test('aligned columns with null where a series had no sample', async (t) => {
  const h = new History(10_000);
  h.add(1000, v({ a: 1 }));
  h.add(2000, v({ a: 2, b: 5 }));
  h.add(3000, v({ b: 6 }));
  t.same(h.series(), [
    { key: 'a', label: 'label a' },
    { key: 'b', label: 'label b' },
  ]);
  t.same(h.aligned(), [
    [1, 2, 3],
    [1, 2, null],
    [null, 5, 6],
  ]);
});

t.test('samples older than the window go, and series with them', async (t) => {
  const h = new History(5000);
  h.add(0, v({ old: 1 }));
  h.add(3000, v({ x: 1 }));
  h.add(6000, v({ x: 2 }));
  t.equal(h.size, 2);
  t.same(
    h.series().map((s) => s.key),
    ['x'],
  );
  t.same(h.aligned(), [
    [3, 6],
    [1, 2],
  ]);
});

t.test('at most maxSamples are kept', async (t) => {
  const h = new History(1e9, 3);
  for (let i = 0; i < 10; i++) {
    h.add(i * 1000, v({ a: i }));
  }
  t.same(h.aligned(), [
    [7, 8, 9],
    [7, 8, 9],
  ]);
});

/**
 * RecentMax: the highest value recorded within a window before `now`; samples older than the window, recorded
 * after `now`, at non-finite times, or overwritten when the ring is full do not count; none: 0.
 */
import t from 'tap';
import { RecentMax } from '../../../src/forwarding/recentMax.js';

t.test('window rows', async (t) => {
  const r = new RecentMax(4);
  t.equal(r.max(0, 1000), 0, 'nothing recorded: 0');
  r.record(0, 500);
  r.record(100, 200);
  r.record(Number.NaN, 9999);
  r.record(1200, 300);
  const rows: [now: number, windowMs: number, want: number, name: string][] = [
    [1000, 1000, 500, 'both early samples within 1 s'],
    [1050, 1000, 200, 'the 0 ms sample just left the window'],
    [1100, 1000, 200, 'the 100 ms sample exactly at the edge counts'],
    [1101, 1000, 0, 'both gone; the 1200 ms sample is still ahead'],
    [1200, 1000, 300, 'the 1200 ms sample at its own time'],
    [1200, 0, 300, 'a 0 ms window: only samples at now'],
  ];
  for (const [now, w, want, name] of rows) {
    t.equal(r.max(now, w), want, name);
  }
});

t.test('a full ring forgets the oldest', async (t) => {
  const r = new RecentMax(2);
  r.record(0, 900);
  r.record(10, 100);
  r.record(20, 200);
  t.equal(r.max(20, 1000), 200, 'the 900 was overwritten');
});

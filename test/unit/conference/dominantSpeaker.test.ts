/**
 * DominantSpeaker tables on a fake timeline (100 ms intervals): the first speaker, a clean hand-over and
 * how long it takes, short bursts that must not take over, a speaker who leaves, silence keeping the last
 * speaker, and garbage input; plus the RFC 6464 loudness mapping.
 */
import t from 'tap';
import { DominantSpeaker } from '../../../src/conference/dominantSpeaker.js';
import { loudness } from '../../../src/rtp/audioLevel.js';

/** Feeds `levels(tMs)` → loudness per source every 100 ms from `from` to `to`; returns the changes. */
function run(
  d: DominantSpeaker,
  from: number,
  to: number,
  levels: (t: number) => Record<string, number>,
): [at: number, who: string][] {
  const changes: [number, string][] = [];
  for (let now = from; now < to; now += 100) {
    for (const [k, v] of Object.entries(levels(now))) {
      d.observe(k, v, now);
    }
    const c = d.evaluate(now);
    if (c !== undefined) {
      changes.push([now, c]);
    }
  }
  return changes;
}

t.test('loudness', async (t) => {
  const rows: [number, number][] = [
    [0, 1],
    [35, 0.5],
    [70, 0],
    [127, 0],
    [-5, 1],
    [200, 0],
    [NaN, 0],
  ];
  for (const [level, want] of rows) {
    t.equal(loudness(level), want, `−${level} dBov → ${want}`);
  }
  t.equal(loudness(10, 0), 0, 'a zero floor: silence');
});

t.test('the first speaker, after the hold time', async (t) => {
  const d = new DominantSpeaker();
  const changes = run(d, 0, 3000, () => ({ a: 0.9, b: 0, c: 0 }));
  // Score 0.09 at 0 ms (one bin of ten) is under the 0.1 minimum; 0.18 at 100 ms; held 400 ms → 500 ms.
  t.same(changes, [[500, 'a']], 'a after 0.5 s: over the minimum score, then held for 0.4 s');
  t.equal(d.current, 'a');
});

t.test('a hand-over is reported within about a second', async (t) => {
  const d = new DominantSpeaker();
  run(d, 0, 3000, () => ({ a: 0.9, b: 0 }));
  const changes = run(d, 3000, 6000, () => ({ a: 0, b: 0.9 }));
  t.equal(changes.length, 1, 'one change');
  const [at, who] = changes[0]!;
  t.equal(who, 'b');
  t.ok(at - 3000 <= 1100, `b after ${at - 3000} ms`);
  t.ok(at - 3000 >= 400, 'not before the hold time');
});

t.test('short bursts do not take over an active speaker', async (t) => {
  for (const burstMs of [100, 300, 500]) {
    const d = new DominantSpeaker();
    run(d, 0, 2000, () => ({ a: 0.6, b: 0 }));
    const changes = run(d, 2000, 8000, (now) => ({
      a: 0.6,
      b: (now - 2000) % 1500 < burstMs ? 1 : 0,
    }));
    t.same(changes, [], `bursts of ${burstMs} ms every 1.5 s: no change`);
  }
});

t.test('silence keeps the last speaker; a loud newcomer takes over a silent room', async (t) => {
  const d = new DominantSpeaker();
  run(d, 0, 2000, () => ({ a: 0.9, b: 0 }));
  t.same(
    run(d, 2000, 6000, () => ({ a: 0, b: 0 })),
    [],
    'nobody speaks: no change',
  );
  t.equal(d.current, 'a');
  const c = run(d, 6000, 8000, () => ({ a: 0, b: 0.3 }));
  // b's score: 0.03, 0.06, 0.09, 0.12 (≥ 0.1 from 6300 ms), held 400 ms → 6700 ms.
  t.same(c, [[6700, 'b']], 'b takes over once it is above the minimum score for the hold time');
});

t.test('a speaker that leaves', async (t) => {
  const d = new DominantSpeaker();
  run(d, 0, 2000, () => ({ a: 0.9, b: 0.2 }));
  d.remove('a');
  t.equal(d.current, undefined, 'forgotten');
  const c = run(d, 2000, 3000, () => ({ b: 0.2 }));
  t.same(c, [[2400, 'b']], 'the next one is chosen');
  t.equal(d.score('a', 3000), 0, 'no score for a removed source');
});

t.test('garbage and gaps', async (t) => {
  const d = new DominantSpeaker();
  d.observe('a', NaN, 0);
  d.observe('b', Infinity, 0);
  d.observe('c', -3, 0);
  d.observe('e', 7, 0);
  t.equal(d.score('a', 0), 0, 'NaN → 0');
  t.equal(d.score('b', 0), 0, 'Infinity → 0');
  t.equal(d.score('c', 0), 0, 'negative → 0');
  t.equal(d.score('e', 0), 0.1, 'above 1 → 1, over 10 bins');
  t.equal(d.score('e', 5000), 0, 'a long gap empties the window');
  t.equal(d.score('e', 4000), 0, 'time going back does not throw');
});

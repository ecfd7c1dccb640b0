// UpstreamGaps: numbers skipped in what a trunk SSRC sent (loss before the trunk) — gaps counted, a late number
// from a gap taken back, across the 16-bit wrap; a jump past MAX_GAP or across a pause (restart) not counted;
// the share over about the last second; the report's fraction lost less that share.
import t from 'tap';
import { MAX_GAP, UpstreamGaps, WINDOW_MS } from '../../../src/forwarding/upstreamGaps.js';

const T0 = 1_700_000_000_000;

t.test('table: gaps, late fills, the wrap, big jumps, restarts', async (t) => {
  // [sequence numbers sent at T0, gaps expected]
  const rows: [string, number[], number][] = [
    ['consecutive', [1, 2, 3, 4], 0],
    ['a gap of three', [10, 14], 3],
    ['a gap, then one of its numbers late (repaired upstream)', [10, 14, 12], 2],
    ['across the wrap: 65535 and 0 skipped', [65533, 65534, 1], 2],
    ['late from before the wrap', [65534, 1, 65535], 1],
    ['a jump past MAX_GAP is not loss', [5, 5 + MAX_GAP + 1], 0],
    ['a jump of exactly MAX_GAP is', [5, 5 + MAX_GAP], MAX_GAP - 1],
    ['an old number with no gap open: nothing taken back', [20, 21, 19], 0],
  ];
  for (const [name, seqs, gaps] of rows) {
    const g = new UpstreamGaps();
    for (const s of seqs) {
      g.onSent(s, T0);
    }
    const total = gaps + seqs.length;
    t.equal(g.share(T0), gaps / total, name);
  }
  const g = new UpstreamGaps();
  g.onSent(100, T0);
  g.restart();
  g.onSent(140, T0);
  t.equal(g.share(T0), 0, 'a gap across a pause (restart) is not loss');
});

t.test('the share covers the current and the last bucket, and an idle second forgets both', async (t) => {
  const g = new UpstreamGaps();
  let seq = 0;
  let now = T0;
  // 10 % skipped upstream: every tenth number never arrives, 100 packets a second
  for (let i = 0; i < 300; i++, now += 10) {
    seq++;
    if (seq % 10 === 0) {
      seq++;
    }
    g.onSent(seq & 0xffff, now);
  }
  const share = g.share(now);
  t.ok(share > 0.08 && share < 0.11, `≈ 10 % (${share.toFixed(3)})`);
  t.equal(
    g.downstreamFraction(Math.round(0.1 * 256), now),
    0,
    'a report of 10 % is all upstream: the trunk lost none',
  );
  t.equal(g.downstreamFraction(Math.round(0.3 * 256), now) > 40, true, 'of 30 %, about 20 % is the trunk’s');
  t.equal(g.share(now + 2 * WINDOW_MS + 1), 0, 'nothing sent for two buckets: forgotten');
});

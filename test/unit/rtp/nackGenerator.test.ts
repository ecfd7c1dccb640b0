/**
 * NackGenerator tables: nothing for a stream without loss (including across the 65535→0 wrap), gaps become
 * NACKs after the reorder wait, retries every max(minRetry, 1.5 × RTT), the retry cap and the age limit, late
 * and repaired packets, resync on huge jumps (no NACK flood), the memory bound, and the RTT from repairs.
 * Rows run from several start offsets so every case is also exercised across the wrap.
 */
import t from 'tap';
import { NackGenerator } from '../../../src/rtp/nackGenerator.js';
import type { TapTest } from '../../../harness/sfu.js';

const OFFSETS = [0, 1000, 65530, 65535, 32767];
const OPTS = { reorderMs: 5, minRetryMs: 15, maxRetries: 3, maxAgeMs: 1000, maxMissing: 8, maxGap: 100 };

/** Steps: [seq offset (added to the start), at ms] to feed, or ['due', at, expected offsets]. */
type Step = ['pkt', number, number, string?] | ['due', number, number[], string?];

function run(start: number, steps: Step[], t: TapTest, opts = OPTS): NackGenerator {
  const g = new NackGenerator({ ...opts, initialRttMs: 1 });
  for (const s of steps) {
    if (s[0] === 'pkt') {
      const arrival = g.onPacket((start + s[1]) & 0xffff, s[2]);
      if (s[3] !== undefined) {
        t.equal(arrival, s[3], `start ${start}: seq +${s[1]} at ${s[2]} is ${s[3]}`);
      }
    } else {
      t.same(
        g.due(s[1]),
        s[2].map((x) => (start + x) & 0xffff),
        `start ${start}: due at ${s[1]} ${s[3] ?? ''}`,
      );
    }
  }
  return g;
}

t.test('no loss: never a NACK, also across the wrap', async (t) => {
  for (const start of OFFSETS) {
    const steps: Step[] = [];
    for (let i = 0; i < 40; i++) {
      steps.push(['pkt', i, i * 10]);
    }
    steps.push(['due', 1000, []]);
    const g = run(start, steps, t);
    t.equal(g.missingCount, 0, `start ${start}: nothing missing`);
  }
});

t.test('a gap: first NACK after the reorder wait, retries, cap', async (t) => {
  for (const start of OFFSETS) {
    run(
      start,
      [
        ['pkt', 0, 0, 'first'],
        ['pkt', 3, 10, 'in_order'],
        ['due', 14, [], 'reorder wait not over'],
        ['due', 15, [1, 2], 'both missing NACKed'],
        ['due', 20, [], 'retry not due (min 15 ms)'],
        ['due', 30, [1, 2], 'retry 1'],
        ['due', 45, [1, 2], 'retry 2: cap 3 reached'],
        ['due', 100, [], 'given up after 3 NACKs'],
      ],
      t,
    );
  }
});

t.test('late and repaired packets', async (t) => {
  for (const start of OFFSETS) {
    const g = run(
      start,
      [
        ['pkt', 0, 0, 'first'],
        ['pkt', 2, 1, 'in_order'],
        ['pkt', 1, 3, 'late'],
        ['due', 50, [], 'reordered packet: no NACK'],
        ['pkt', 5, 60, 'in_order'],
        ['due', 66, [3, 4]],
        ['pkt', 4, 70, 'repair'],
        ['due', 90, [3], 'only the one still missing'],
        ['pkt', 4, 91, 'late'],
        ['pkt', 5, 92, 'duplicate'],
      ],
      t,
    );
    t.equal(g.missingCount, 1, `start ${start}: one left`);
  }
});

t.test('a jump larger than maxGap is a resync, not loss', async (t) => {
  for (const start of OFFSETS) {
    const g = run(
      start,
      [
        ['pkt', 0, 0, 'first'],
        ['pkt', 2, 1],
        ['pkt', 500, 2, 'resync'],
        ['pkt', 501, 3, 'in_order'],
        ['due', 100, [], 'the old gap was forgotten too'],
        ['pkt', 300, 4, 'resync'],
      ],
      t,
    );
    t.equal(g.missingCount, 0);
  }
});

t.test('age limit and memory bound', async (t) => {
  const g = new NackGenerator({ ...OPTS, maxRetries: 100, initialRttMs: 1 });
  g.onPacket(0, 0);
  g.onPacket(2, 0);
  t.same(g.due(10), [1]);
  t.same(g.due(1001), [], 'older than maxAgeMs: forgotten');
  t.equal(g.gaveUp, 1);
  const h = new NackGenerator({ ...OPTS, initialRttMs: 1 });
  h.onPacket(65530, 0);
  h.onPacket(20, 1); // 25 missing (65531…19), bound 8
  t.equal(h.missingCount, 8, 'bounded by maxMissing');
  t.same(h.due(10), [12, 13, 14, 15, 16, 17, 18, 19], 'the newest are kept');
  t.equal(h.gaveUp, 17);
});

t.test('RTT from repairs sets the retry interval', async (t) => {
  const g = new NackGenerator({ ...OPTS, minRetryMs: 1, maxRetries: 10, initialRttMs: 100 });
  t.equal(g.rttMs, 100);
  let seq = 0;
  let now = 0;
  g.onPacket(seq, now);
  for (let i = 0; i < 40; i++) {
    seq += 2;
    now += 50;
    g.onPacket(seq, now);
    t.same(g.due(now + 5), [(seq - 1) & 0xffff]);
    t.equal(g.onPacket(seq - 1, now + 25), 'repair');
  }
  t.ok(Math.abs(g.rttMs - 20) < 2, `RTT converges to the 20 ms repair delay (${g.rttMs.toFixed(1)})`);
  seq += 2;
  now += 50;
  g.onPacket(seq, now);
  t.same(g.due(now + 5), [seq - 1]);
  t.same(g.due(now + 5 + 29), [], 'retry waits 1.5 × RTT');
  t.same(g.due(now + 5 + 31), [seq - 1], 'then retries');
  t.equal(g.nextDueAt(), now + 36 + g.rttMs * 1.5);
});

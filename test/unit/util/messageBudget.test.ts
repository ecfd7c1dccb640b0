import t from 'tap';
import { FLOOD_FACTOR, MessageBudget, type Admission } from '../../../src/util/messageBudget.js';

t.test('a burst of two seconds’ worth, then the rate; one reply a second; the flood said once', async (t) => {
  const rate = 10;
  const b = new MessageBudget(rate, 0);
  const at = (now: number, n: number): Admission[] => Array.from({ length: n }, () => b.admit(now));
  const first = at(0, 2 * rate + 3);
  t.same(first.slice(0, 2 * rate), Array(2 * rate).fill('ok'), 'the burst');
  t.same(first.slice(2 * rate), ['refused_reply', 'refused', 'refused'], 'over it: one reply');
  t.same(at(500, 6), ['ok', 'ok', 'ok', 'ok', 'ok', 'refused'], 'half a second refills five; no reply yet');
  t.same(
    at(1000, 6),
    ['ok', 'ok', 'ok', 'ok', 'ok', 'refused_reply'],
    'a second after the last reply: another',
  );
  t.notOk(b.flooded);
  // FLOOD_FACTOR × rate more refusals at one instant pass the bound (4 refused so far, a little forgiven).
  const flood = at(1000, FLOOD_FACTOR * rate);
  t.equal(flood.filter((a) => a === 'flood').length, 1, 'the bound passed once');
  t.equal(flood.at(-1), 'closed');
  t.ok(b.flooded);
  t.same(at(60_000, 3), ['closed', 'closed', 'closed'], 'within the rate again: still nothing admitted');
});

t.test('a sender that overshoots now and then is never a flood', async (t) => {
  const rate = 10;
  const b = new MessageBudget(rate, 0);
  let floods = 0;
  let refused = 0;
  for (let s = 0; s < 600; s++) {
    // 11 in even seconds, 9 in odd ones: over the rate now and then, within it on average.
    const n = s % 2 === 0 ? 11 : 9;
    for (let i = 0; i < n; i++) {
      const a = b.admit(s * 1000 + i);
      if (a === 'flood') {
        floods++;
      }
      if (a !== 'ok') {
        refused++;
      }
    }
  }
  t.equal(floods, 0);
  t.notOk(b.flooded);
  t.ok(refused < 50, `few refused (${refused})`);
});

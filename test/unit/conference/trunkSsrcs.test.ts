/**
 * Trunk SSRCs (protocol.md §8.2): stable per (stream, track, rid), unique in the link direction, never 0, and
 * still unique when the random source repeats itself or returns 0.
 */
import t from 'tap';
import { randomSsrc, TrunkSsrcs } from '../../../src/conference/trunkSsrcs.js';

t.test('stable per track and layer, unique across them', async (t) => {
  const s = new TrunkSsrcs();
  const a = s.get('s', 'a');
  const q = s.get('s', 'v', 'q');
  const f = s.get('s', 'v', 'f');
  t.equal(s.get('s', 'a'), a);
  t.equal(s.get('s', 'v', 'q'), q);
  t.equal(new Set([a, q, f]).size, 3);
  t.not(s.get('s', 'a', 'q'), a, 'an audio track and a layer rid are different keys');
  t.equal(s.size, 4);
});

t.test('a repeating or zero random source still yields unique non-zero SSRCs', async (t) => {
  const draws = [7, 7, 7, 0, 7];
  let i = 0;
  const stuck = new TrunkSsrcs(() => draws[i++ % draws.length] ?? 7);
  const got = [stuck.get('a', '1'), stuck.get('a', '2'), stuck.get('a', '3'), stuck.get('a', '4')];
  t.equal(new Set(got).size, 4, `unique: ${got.join(', ')}`);
  t.ok(got.every((x) => x > 0 && x < 2 ** 32));
  const zero = new TrunkSsrcs(() => 0);
  t.same(
    [zero.get('a', '1'), zero.get('a', '2')],
    [1, 2],
    'a source of zeros falls back to the smallest free',
  );
});

t.test('randomSsrc is a 32-bit unsigned non-zero integer', async (t) => {
  for (let n = 0; n < 1000; n++) {
    const x = randomSsrc();
    if (!(Number.isInteger(x) && x >= 1 && x <= 0xffffffff)) {
      t.fail(`bad ssrc ${x}`);
      return;
    }
  }
  t.pass('1000 draws in range');
});

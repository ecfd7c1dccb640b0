import t from 'tap';
import { TokenBucket } from '../../../src/util/rateLimiter.js';

t.test('a burst is allowed, then the rate', async (t) => {
  const b = new TokenBucket(10, 3, 0);
  t.same([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  t.equal(b.take(99), false, '0.99 token');
  t.equal(b.take(100), true, 'one token per 100 ms');
  t.equal(b.take(100), false);
  t.same(
    [b.take(10_000), b.take(10_000), b.take(10_000), b.take(10_000)],
    [true, true, true, false],
    'refill caps at the burst',
  );
});

t.test('time going backwards does not mint tokens', async (t) => {
  const b = new TokenBucket(1, 1, 1000);
  t.equal(b.take(1000), true);
  t.equal(b.take(0), false);
  t.equal(b.take(1000), false);
  t.equal(b.take(2000), true);
});

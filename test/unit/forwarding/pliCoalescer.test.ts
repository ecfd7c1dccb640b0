/**
 * PliCoalescer tables (§8.6): one PLI per trunk SSRC per interval; a request inside it is sent when the
 * interval ends unless a keyframe answered it; SSRCs are independent; a flood gives one PLI per interval;
 * a backwards clock; forget.
 */
import t from 'tap';
import { PliCoalescer } from '../../../src/forwarding/pliCoalescer.js';

t.test('one per interval, the coalesced one when it ends', async (t) => {
  const c = new PliCoalescer(500);
  t.ok(c.request(4111, 0), 'first goes');
  t.notOk(c.request(4111, 100), 'inside the interval: coalesced');
  t.notOk(c.request(4111, 200));
  t.equal(c.coalesced, 2);
  t.equal(c.nextDueAt(), 500);
  t.same(c.due(499), []);
  t.same(c.due(500), [4111], 'sent once when the interval ends');
  t.same(c.due(600), [], 'not again');
  t.equal(c.nextDueAt(), undefined);
  t.notOk(c.request(4111, 900), 'the deferred PLI at 500 starts a new interval');
  t.ok(c.request(4111, 1000), 'a request once the interval is over goes at once');
  t.same(c.due(1000), [], 'and answers the one waiting');
});

t.test('a keyframe after the request answers it', async (t) => {
  const c = new PliCoalescer(500);
  c.request(4111, 0);
  c.onKeyframe(4111, 50); // answers the first PLI; nothing waits
  c.request(4111, 100);
  c.onKeyframe(4111, 80); // (out-of-order time) before the request: does not answer it
  t.equal(c.nextDueAt(), 500);
  c.onKeyframe(4111, 150);
  t.equal(c.nextDueAt(), undefined, 'answered');
  t.same(c.due(500), []);
});

t.test('SSRCs are independent', async (t) => {
  const c = new PliCoalescer(500);
  t.ok(c.request(1, 0));
  t.ok(c.request(2, 10));
  t.notOk(c.request(1, 20));
  t.notOk(c.request(2, 30));
  t.same(c.due(505), [1]);
  t.same(c.due(510), [2]);
});

t.test('a flood gives one PLI per interval', async (t) => {
  const c = new PliCoalescer(500);
  let sent = 0;
  for (let now = 0; now < 10_000; now += 1) {
    sent += c.request(7, now) ? 1 : 0;
    sent += c.due(now).length;
  }
  t.equal(sent, 20, '10 s / 500 ms');
  t.equal(c.coalesced, 10_000 - 20, 'every other request coalesced');
});

t.test('a backwards clock, interval 0 and forget', async (t) => {
  const c = new PliCoalescer(500);
  c.request(1, 1000);
  t.ok(c.request(1, 400), 'time went back: send rather than wait');
  const z = new PliCoalescer(0);
  t.ok(z.request(1, 0));
  t.ok(z.request(1, 0), 'no interval: every request goes');
  const n = new PliCoalescer(Number.NaN);
  t.ok(n.request(1, 0) && n.request(1, 1));
  c.request(1, 450);
  c.forget(1);
  t.equal(c.nextDueAt(), undefined);
  t.ok(c.request(1, 460), 'forgotten: goes at once');
});

/**
 * KeyframeThrottle tables: one request per SSRC per interval; a refused request does not restart the
 * interval (it is coalesced into the one already sent); a clock that goes backwards never blocks.
 */
import t from 'tap';
import { KeyframeThrottle } from '../../../src/forwarding/keyframeThrottle.js';
import type { TapTest } from '../../../harness/sfu.js';

const A = 0x1111_1111;
const B = 0xffff_ffff;

type Row = [ssrc: number, now: number, allowed: boolean, note?: string];

function check(t: TapTest, interval: number, rows: Row[]): void {
  const k = new KeyframeThrottle(interval);
  for (const [ssrc, now, allowed, note] of rows) {
    t.equal(
      k.allow(ssrc, now),
      allowed,
      `interval ${interval}: ssrc ${ssrc.toString(16)} at ${now} → ${allowed} ${note ?? ''}`,
    );
  }
}

t.test('one request per interval, boundary exactly at the interval', async (t) => {
  const rows: Row[] = [
    [A, 0, true, 'first'],
    [A, 1, false],
    [A, 500, false],
    [A, 999, false, '1 ms short'],
    [A, 999.999, false],
    [A, 1000, true, 'exactly the interval'],
    [A, 1500, false, 'the interval restarts at the one sent'],
    [A, 1999, false],
    [A, 2000, true],
    [A, 5000, true, 'long after'],
  ];
  for (const base of [0, 1_000_000, 1.7e12]) {
    check(
      t,
      1000,
      rows.map(([ssrc, now, allowed, note]): Row => [ssrc, base + now, allowed, note ?? '']),
    );
  }
});

t.test('refused requests do not push the next one back', async (t) => {
  check(t, 1000, [
    [A, 0, true],
    [A, 900, false],
    [A, 999, false],
    [A, 1000, true, 'counted from 0, not from 999'],
  ]);
});

t.test('SSRCs are independent', async (t) => {
  check(t, 1000, [
    [A, 0, true],
    [B, 10, true, 'another SSRC is not throttled by A'],
    [A, 20, false],
    [B, 30, false],
    [0, 40, true, 'SSRC 0'],
    [A, 1000, true],
    [B, 1009, false, 'B still inside its own interval'],
    [B, 1010, true],
  ]);
});

t.test('a clock going backwards is allowed and restarts the interval from the new time', async (t) => {
  check(t, 1000, [
    [A, 5000, true],
    [A, 4000, true, 'earlier than the last request'],
    [A, 4500, false, 'inside the interval from 4000'],
    [A, 4999, false],
    [A, 5000, true],
    [A, 4999.5, true, 'backwards by half a ms'],
  ]);
});

t.test('interval 0 (or negative) never throttles', async (t) => {
  for (const interval of [0, -100]) {
    check(t, interval, [
      [A, 0, true],
      [A, 0, true, 'same instant'],
      [A, 1, true],
      [B, 1, true],
    ]);
  }
});

t.test('forget lets the next request through at once, for that SSRC only', async (t) => {
  const k = new KeyframeThrottle(1000);
  t.equal(k.allow(A, 0), true);
  t.equal(k.allow(B, 0), true);
  k.forget(A);
  t.equal(k.allow(A, 1), true, 'A forgotten');
  t.equal(k.allow(B, 1), false, 'B still throttled');
  t.equal(k.allow(A, 2), false, 'A throttled again from 1');
  t.doesNotThrow(() => {
    k.forget(12345);
  }, 'forgetting an unknown SSRC');
});

t.test('garbage times do not throw', async (t) => {
  const k = new KeyframeThrottle(1000);
  t.doesNotThrow(() => k.allow(A, Number.NaN));
  t.doesNotThrow(() => k.allow(A, Infinity));
  t.doesNotThrow(() => new KeyframeThrottle(Number.NaN).allow(A, 0));
});

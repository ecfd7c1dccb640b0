/**
 * ICE re-checks of a link while nothing is nominated (media/link/iceRecheck.ts, protocol.md §8.7):
 * - the pure step as a table: stop when closed, nominated or past the window; re-check failed idle pairs, else
 *   wait, every 500 ms;
 * - IceRecheck on a fake clock against a fake werift connection: re-checks only failed pairs with no check in
 *   flight, every 500 ms from the arm; stops at the nomination, at `stop()` (no timer left) and after the 30 s
 *   window; a re-arm (the next negotiation) starts a new window; a non-connection is refused.
 */
import t from 'tap';
import {
  ICE_RECHECK_INTERVAL_MS,
  ICE_RECHECK_WINDOW_MS,
  IceRecheck,
  iceRecheckStep,
  type IcePairLike,
  type IceRecheckStep,
  type IceRecheckView,
} from '../../../../src/media/link/iceRecheck.js';
import { FakeClock } from '../../../helpers/fakeClock.js';

const T0 = 1_000_000;
const view = (v: Partial<IceRecheckView>): IceRecheckView => ({
  armedAt: T0,
  now: T0 + 500,
  nominated: false,
  closed: false,
  failedIdle: 1,
  ...v,
});

t.test('iceRecheckStep', async (t) => {
  const rows: { name: string; v: Partial<IceRecheckView>; step: IceRecheckStep }[] = [
    { name: 'failed idle pair', v: {}, step: { kind: 'recheck', next: T0 + 1000 } },
    { name: 'only checks in flight', v: { failedIdle: 0 }, step: { kind: 'wait', next: T0 + 1000 } },
    { name: 'nominated', v: { nominated: true }, step: { kind: 'stop' } },
    { name: 'closed', v: { closed: true }, step: { kind: 'stop' } },
    {
      name: 'last moment of the window',
      v: { now: T0 + ICE_RECHECK_WINDOW_MS - 1 },
      step: { kind: 'recheck', next: T0 + ICE_RECHECK_WINDOW_MS - 1 + ICE_RECHECK_INTERVAL_MS },
    },
    { name: 'window over', v: { now: T0 + ICE_RECHECK_WINDOW_MS }, step: { kind: 'stop' } },
  ];
  for (const r of rows) {
    t.same(iceRecheckStep(view(r.v)), r.step, r.name);
  }
});

/** A werift-like ICE connection: pairs with a state (4 = failed) and the checks started on them. */
function fakeConnection(states: number[]) {
  const pairs: (IcePairLike & { state: number })[] = states.map((state) => ({ state, handle: undefined }));
  const started: number[] = [];
  const conn = {
    state: 'checking',
    nominated: undefined as unknown,
    checkList: pairs,
    checkStart(pair: IcePairLike) {
      started.push(pairs.indexOf(pair));
      (pair as { state: number }).state = 2; // in progress
      return { resolve: () => undefined };
    },
  };
  return { conn, pairs, started };
}

t.test('IceRecheck re-checks failed idle pairs every 500 ms until nominated', async (t) => {
  const clock = new FakeClock(T0);
  const errors: unknown[] = [];
  const r = new IceRecheck(clock, (e) => errors.push(e));
  // failed, failed with a check in flight, succeeded, waiting
  const { conn, pairs, started } = fakeConnection([4, 4, 3, 1]);
  pairs[1]!.handle = {};
  t.ok(r.arm(conn));
  clock.advance(499);
  t.same(started, [], 'nothing before 500 ms');
  clock.advance(1);
  t.same(started, [0], 'the failed idle pair only');
  t.ok(pairs[0]!.handle !== undefined, 'its handle is kept, as werift does');
  clock.advance(500);
  t.same(started, [0], 'in progress now: nothing to re-check');
  pairs[0]!.state = 4; // that check failed too
  pairs[0]!.handle = undefined;
  clock.advance(500);
  t.same(started, [0, 0], 'checked again');
  conn.nominated = pairs[0];
  pairs[0]!.state = 4;
  pairs[0]!.handle = undefined;
  clock.advance(5000);
  t.same(started, [0, 0], 'nominated: stopped');
  t.equal(clock.pendingTimers, 0, 'no timer left');
  t.equal(r.rechecks, 2);
  t.same(errors, []);
});

t.test('IceRecheck: bounded by the window, stop() clears the timer, re-arm starts anew', async (t) => {
  const clock = new FakeClock(T0);
  const r = new IceRecheck(clock, () => undefined);
  const { conn, pairs, started } = fakeConnection([4]);
  const fail = (): void => {
    pairs[0]!.state = 4;
    pairs[0]!.handle = undefined;
  };
  r.arm(conn);
  for (let i = 0; i < 100; i++) {
    clock.advance(ICE_RECHECK_INTERVAL_MS);
    fail();
  }
  t.equal(started.length, ICE_RECHECK_WINDOW_MS / ICE_RECHECK_INTERVAL_MS - 1, 'every 500 ms within 30 s');
  t.equal(clock.pendingTimers, 0, 'no timer after the window');
  r.arm(conn); // the next negotiation (an ICE restart)
  clock.advance(ICE_RECHECK_INTERVAL_MS);
  t.equal(started.length, ICE_RECHECK_WINDOW_MS / ICE_RECHECK_INTERVAL_MS, 're-armed: checked again');
  fail();
  r.stop();
  t.equal(clock.pendingTimers, 0, 'stop() cancels the timer');
  clock.advance(5000);
  t.equal(started.length, ICE_RECHECK_WINDOW_MS / ICE_RECHECK_INTERVAL_MS, 'nothing after stop()');
  t.notOk(r.arm(conn), 'no arming after stop()');
  t.notOk(new IceRecheck(clock, () => undefined).arm({ checkList: 'x' }), 'not a connection: refused');
});

t.test('IceRecheck: a closed connection stops it; a throwing checkStart is reported', async (t) => {
  const clock = new FakeClock(T0);
  const errors: unknown[] = [];
  const r = new IceRecheck(clock, (e) => errors.push(e));
  const { conn } = fakeConnection([4]);
  conn.checkStart = () => {
    throw new Error('boom');
  };
  r.arm(conn);
  clock.advance(500);
  t.equal(errors.length, 1, 'reported');
  conn.state = 'closed';
  clock.advance(500);
  clock.advance(5000);
  t.equal(errors.length, 1, 'closed: no more re-checks');
  t.equal(clock.pendingTimers, 0);
});

/**
 * ICE re-checks of a link while nothing is nominated (media/link/iceRecheck.ts, protocol.md §8.7):
 * - the pure policy as tables: stop when closed, nominated or past the 30 s window, else look again in 500 ms;
 *   a pair is due when its check failed, or when the check in flight is 700 ms old (only its silent tail left);
 * - IceRecheck on a fake clock against a fake werift connection: failed pairs re-checked at the next tick, a
 *   check in flight re-checked once 700 ms old (werift's own: counted from when it was first seen), succeeded
 *   and waiting pairs left alone; stops at the nomination, when closed, at `stop()` (no timer left) and after
 *   the window; a re-arm (the next negotiation) starts a new window; a non-connection is refused; a throwing
 *   `checkStart` is reported.
 */
import t from 'tap';
import {
  ICE_CHECK_TAIL_MS,
  ICE_RECHECK_INTERVAL_MS,
  ICE_RECHECK_WINDOW_MS,
  IceRecheck,
  iceRecheckStep,
  pairDue,
  type IcePairLike,
  type IcePairView,
  type IceRecheckStep,
  type IceRecheckView,
} from '../../../../src/media/link/iceRecheck.js';
import { FakeClock } from '../../../helpers/fakeClock.js';

const T0 = 1_000_000;

t.test('iceRecheckStep', async (t) => {
  const rows: { name: string; v: Partial<IceRecheckView>; step: IceRecheckStep }[] = [
    { name: 'not nominated', v: {}, step: { kind: 'run', next: T0 + 500 + ICE_RECHECK_INTERVAL_MS } },
    { name: 'nominated', v: { nominated: true }, step: { kind: 'stop' } },
    { name: 'closed', v: { closed: true }, step: { kind: 'stop' } },
    {
      name: 'last moment of the window',
      v: { now: T0 + ICE_RECHECK_WINDOW_MS - 1 },
      step: { kind: 'run', next: T0 + ICE_RECHECK_WINDOW_MS - 1 + ICE_RECHECK_INTERVAL_MS },
    },
    { name: 'window over', v: { now: T0 + ICE_RECHECK_WINDOW_MS }, step: { kind: 'stop' } },
  ];
  for (const r of rows) {
    const v: IceRecheckView = { armedAt: T0, now: T0 + 500, nominated: false, closed: false, ...r.v };
    t.same(iceRecheckStep(v), r.step, r.name);
  }
});

t.test('pairDue', async (t) => {
  const now = T0 + 10_000;
  const rows: { name: string; p: IcePairView; due: boolean }[] = [
    { name: 'failed', p: { state: 'failed', startedAt: undefined }, due: true },
    { name: 'failed, started long ago', p: { state: 'failed', startedAt: now - 5000 }, due: true },
    { name: 'in flight, just started', p: { state: 'in_progress', startedAt: now }, due: false },
    {
      name: 'in flight, sends left',
      p: { state: 'in_progress', startedAt: now - ICE_CHECK_TAIL_MS + 1 },
      due: false,
    },
    {
      name: 'in flight, only the tail left',
      p: { state: 'in_progress', startedAt: now - ICE_CHECK_TAIL_MS },
      due: true,
    },
    { name: 'in flight, start unknown', p: { state: 'in_progress', startedAt: undefined }, due: false },
    { name: 'succeeded or waiting', p: { state: 'other', startedAt: now - 5000 }, due: false },
  ];
  for (const r of rows) {
    t.equal(pairDue(r.p, now), r.due, r.name);
  }
});

/** A werift-like ICE connection: pairs with a state (1 waiting, 2 in progress, 3 succeeded, 4 failed). */
function fakeConnection(states: number[]) {
  const pairs: (IcePairLike & { state: number })[] = states.map((state) => ({ state, handle: undefined }));
  const started: number[] = [];
  const conn = {
    state: 'checking',
    nominated: undefined as unknown,
    checkList: pairs,
    checkStart(pair: IcePairLike) {
      started.push(pairs.indexOf(pair));
      (pair as { state: number }).state = 2;
      return { resolve: () => undefined };
    },
  };
  return { conn, pairs, started };
}

t.test('IceRecheck: failed pairs at once, checks in flight once 700 ms old, until nominated', async (t) => {
  const clock = new FakeClock(T0);
  const errors: unknown[] = [];
  const r = new IceRecheck(clock, (e) => errors.push(e));
  // failed, in flight (werift's own), succeeded, waiting
  const { conn, pairs, started } = fakeConnection([4, 2, 3, 1]);
  t.ok(r.arm(conn));
  clock.advance(ICE_RECHECK_INTERVAL_MS - 1);
  t.same(started, [], 'nothing before the first tick');
  clock.advance(1); // +500: pair 1 first seen in flight
  t.same(started, [0], 'the failed pair');
  clock.advance(500); // +1000: pair 0 in flight for 500 ms, pair 1 seen 500 ms ago
  t.same(started, [0], 'checks in flight with sends left are left alone');
  clock.advance(500); // +1500: both ≥ 700 ms
  t.same(started, [0, 0, 1], 'checks in their silent tail get a second one');
  pairs[0]!.state = 4; // failed meanwhile
  clock.advance(500); // +2000
  t.same(started, [0, 0, 1, 0], 'failed: checked again at the next tick');
  conn.nominated = pairs[1];
  pairs[0]!.state = 4;
  clock.advance(5000);
  t.same(started, [0, 0, 1, 0], 'nominated: stopped');
  t.equal(clock.pendingTimers, 0, 'no timer left');
  t.equal(r.rechecks, 4);
  t.ok(pairs[0]!.handle !== undefined, 'the handle is kept on the pair, as werift does');
  t.same(errors, []);
});

t.test('IceRecheck: bounded by the window, stop() clears the timer, re-arm starts anew', async (t) => {
  const clock = new FakeClock(T0);
  const r = new IceRecheck(clock, () => undefined);
  const { conn, pairs, started } = fakeConnection([4]);
  r.arm(conn);
  for (let i = 0; i < 100; i++) {
    clock.advance(ICE_RECHECK_INTERVAL_MS);
    pairs[0]!.state = 4; // every check fails before the next tick
  }
  const perWindow = ICE_RECHECK_WINDOW_MS / ICE_RECHECK_INTERVAL_MS - 1;
  t.equal(started.length, perWindow, 'every 500 ms within 30 s');
  t.equal(clock.pendingTimers, 0, 'no timer after the window');
  r.arm(conn); // the next negotiation (an ICE restart)
  clock.advance(ICE_RECHECK_INTERVAL_MS);
  t.equal(started.length, perWindow + 1, 're-armed: checked again');
  pairs[0]!.state = 4;
  r.stop();
  t.equal(clock.pendingTimers, 0, 'stop() cancels the timer');
  clock.advance(5000);
  t.equal(started.length, perWindow + 1, 'nothing after stop()');
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
  clock.advance(5500);
  t.equal(errors.length, 1, 'closed: no more re-checks');
  t.equal(clock.pendingTimers, 0);
});

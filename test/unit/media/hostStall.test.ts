/**
 * HostStallMonitor on this process's real event loop: a 60 ms busy loop is a stall within the next two polls
 * (also one right after a fold, which a single histogram's reset would lose); an idle loop (timers only) is
 * none; polls within `foldMs` return the last answer without folding; not polled for `idleStopMs` it stops and
 * the next poll starts it again.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostStallMonitor } from '../../../src/media/hostStall.js';

const block = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: the loop cannot turn
  }
};

t.test('a blocked loop is a stall; an idle one is not', async (t) => {
  const m = new HostStallMonitor({ stallMs: 15, foldMs: 50 });
  t.teardown(() => {
    m.close();
  });
  await sleep(60);
  t.equal(m.poll(1000), Number.NEGATIVE_INFINITY, 'idle: no stall');
  t.equal(m.poll(1100), Number.NEGATIVE_INFINITY, 'idle: no stall (the other histogram)');
  await sleep(20);
  block(60);
  await sleep(30); // the monitor's timers fire late, once the loop turns
  const seen = Math.max(m.poll(2000), m.poll(2100));
  t.ok(seen === 2000 || seen === 2100, `the blocked loop is a stall within two polls (${String(seen)})`);
  t.ok(m.stalls >= 1, 'counted');
  await sleep(60);
  m.poll(3000);
  await sleep(30); // folds are apart in real time too (the link's tick)
  t.equal(m.poll(3100), seen, 'idle again: the last stall stays');
  t.equal(m.poll(3120), seen, 'within foldMs of the last fold: not folded');
  block(60); // right after a fold
  await sleep(30);
  const again = Math.max(m.poll(3200), m.poll(3300));
  t.ok(again === 3200 || again === 3300, `a stall just after a fold is seen too (${String(again)})`);
});

t.test(
  'not polled for idleStopMs: stopped (no timers); the next poll starts it again and still sees stalls',
  async (t) => {
    const m = new HostStallMonitor({ stallMs: 15, foldMs: 50, idleStopMs: 150 });
    t.teardown(() => {
      m.close();
    });
    t.equal(m.running, true, 'running from the start');
    m.poll(0);
    await sleep(500);
    t.equal(m.running, false, 'stopped after 150 ms without a poll');
    t.equal(
      m.poll(1000),
      Number.NEGATIVE_INFINITY,
      'a poll after the stop: no stall from the time it was stopped',
    );
    t.equal(m.running, true, 'the poll started it again');
    await sleep(20);
    block(60);
    await sleep(30);
    const seen = Math.max(m.poll(2000), m.poll(2100));
    t.ok(seen === 2000 || seen === 2100, `a stall after the restart is seen (${String(seen)})`);
    m.close();
    t.equal(m.running, false, 'closed: stopped');
  },
);

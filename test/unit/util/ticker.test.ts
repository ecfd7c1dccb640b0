import t from 'tap';
import { Ticker, type TickerJob } from '../../../src/util/ticker.js';
import { FakeClock } from '../../helpers/fakeClock.js';

const noError = (e: unknown): void => {
  throw e;
};

t.test('every job runs each interval on one timer, in the order added', async (t) => {
  const clock = new FakeClock();
  const ticker = new Ticker(clock, 100);
  const runs: string[] = [];
  ticker.add((now) => runs.push(`a@${now - 1_700_000_000_000}`), noError);
  ticker.add((now) => runs.push(`b@${now - 1_700_000_000_000}`), noError);
  t.equal(clock.pendingTimers, 1, 'two jobs, one timer');
  clock.advance(250);
  t.same(runs, ['a@100', 'b@100', 'a@200', 'b@200']);
  t.equal(clock.pendingTimers, 1);
});

t.test('no timer without jobs; removing the last job cancels it; adding again re-arms', async (t) => {
  const clock = new FakeClock();
  const ticker = new Ticker(clock, 100);
  t.equal(clock.pendingTimers, 0);
  let n = 0;
  const job = ticker.add(() => n++, noError);
  clock.advance(100);
  job.remove();
  job.remove(); // idempotent
  t.equal(clock.pendingTimers, 0);
  t.equal(ticker.size, 0);
  clock.advance(1000);
  t.equal(n, 1, 'not run after removal');
  ticker.add(() => n++, noError);
  clock.advance(100);
  t.equal(n, 2);
});

t.test('a job added during a tick starts next tick; one removed during a tick is skipped', async (t) => {
  const clock = new FakeClock();
  const ticker = new Ticker(clock, 100);
  const runs: string[] = [];
  const jobs: TickerJob[] = [];
  ticker.add(() => {
    runs.push('a');
    if (runs.length === 1) {
      ticker.add(() => runs.push('c'), noError);
      jobs[0]?.remove();
    }
  }, noError);
  jobs.push(ticker.add(() => runs.push('b'), noError));
  clock.advance(100);
  t.same(runs, ['a'], 'b removed by a in the same tick; c not yet');
  clock.advance(100);
  t.same(runs, ['a', 'a', 'c']);
});

t.test('a throwing job is reported to its own onError; the others and the timer go on', async (t) => {
  const clock = new FakeClock();
  const ticker = new Ticker(clock, 100);
  const errors: unknown[] = [];
  let good = 0;
  ticker.add(
    () => {
      throw new Error('boom');
    },
    (e) => errors.push(e),
  );
  ticker.add(
    () => {
      throw new Error('again');
    },
    () => {
      throw new Error('the report fails too');
    },
  );
  ticker.add(() => good++, noError);
  clock.advance(300);
  t.equal(good, 3);
  t.equal(errors.length, 3);
  t.match(String(errors[0]), /boom/);
});

t.test('shared: one ticker per clock and interval', async (t) => {
  const a = new FakeClock();
  const b = new FakeClock();
  t.equal(Ticker.shared(a, 100), Ticker.shared(a, 100));
  t.not(Ticker.shared(a, 100), Ticker.shared(a, 50));
  t.not(Ticker.shared(a, 100), Ticker.shared(b, 100));
  const jobs = [1, 2, 3].map(() => Ticker.shared(a, 100).add(() => undefined, noError));
  t.equal(a.pendingTimers, 1, 'three jobs on one shared timer');
  for (const j of jobs) {
    j.remove();
  }
  t.equal(a.pendingTimers, 0);
});

/**
 * One timer for every periodic job of the same interval on one clock. Each peer's media tick, each link's and
 * each conference's speaker tick used to arm a timer of its own, at its own phase: at 20 connected peers the
 * process woke ≈ 220 times a second with nothing to do but tick (the idle cost, bench/README.md "Idle cost").
 * Jobs added to a shared ticker all run in one timer callback, in the order they were added.
 * - A job added while the ticker runs starts with the next tick; one removed is not run again (not even later
 *   in the tick under way).
 * - A job that throws is reported to its own `onError` and the others still run.
 * - The timer is armed only while there is a job: an idle process with no peers keeps none.
 * `Ticker.shared(clock, ms)` is the ticker of that clock and interval (tests' fake clocks get their own).
 */
import type { Clock, TimerHandle } from './clock.js';

export interface TickerJob {
  /** Stops the job (idempotent). */
  remove(): void;
}

interface Job {
  run: (now: number) => void;
  onError: (e: unknown) => void;
  removed: boolean;
}

const shared = new WeakMap<Clock, Map<number, Ticker>>();

export class Ticker {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #jobs = new Set<Job>();
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, intervalMs: number) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
  }

  /** The one ticker of `clock` at `intervalMs`. */
  static shared(clock: Clock, intervalMs: number): Ticker {
    let byInterval = shared.get(clock);
    if (byInterval === undefined) {
      byInterval = new Map();
      shared.set(clock, byInterval);
    }
    let t = byInterval.get(intervalMs);
    if (t === undefined) {
      t = new Ticker(clock, intervalMs);
      byInterval.set(intervalMs, t);
    }
    return t;
  }

  /** How many jobs tick. */
  get size(): number {
    return this.#jobs.size;
  }

  /** Runs `run(now)` every interval from the next tick on, until removed. */
  add(run: (now: number) => void, onError: (e: unknown) => void): TickerJob {
    const job: Job = { run, onError, removed: false };
    this.#jobs.add(job);
    this.#arm();
    return {
      remove: () => {
        job.removed = true;
        this.#jobs.delete(job);
        if (this.#jobs.size === 0) {
          this.#timer?.cancel();
          this.#timer = undefined;
        }
      },
    };
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#jobs.size === 0) {
      return;
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#tick();
      this.#arm();
    }, this.#intervalMs);
  }

  /** The jobs of the tick under way (reused: no array per tick). */
  readonly #snapshot: Job[] = [];
  readonly #take = (job: Job): void => {
    this.#snapshot.push(job);
  };

  #tick(): void {
    const now = this.#clock.now();
    // A snapshot: jobs added by a job start next time; the removed flag skips those removed meanwhile.
    const jobs = this.#snapshot;
    jobs.length = 0;
    this.#jobs.forEach(this.#take);
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as Job;
      if (job.removed) {
        continue;
      }
      try {
        job.run(now);
      } catch (e) {
        try {
          job.onError(e);
        } catch {
          // a failing error report must not stop the other jobs or the timer
        }
      }
    }
    jobs.length = 0; // holds no job past the tick
  }
}

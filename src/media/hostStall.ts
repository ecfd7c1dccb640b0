/**
 * This process's event-loop stalls, for trunk congestion control (forwarding/trunkEstimator.ts `onHostStall`):
 * where a trunk packet's arrival time is when it was read (node:dgram's reading), a loop that stalled looks
 * like queueing delay on the path; where the add-on reads, the arrival time is the kernel's, but on a shared
 * host a stall of this process tends to come with delays of the processes on the path (the sender, a relay),
 * so an overuse right after one is still held. Made at its first poll (link/trunkCcLink.ts: once trunk RTP came).
 * Node's event-loop delay histogram (`perf_hooks.monitorEventLoopDelay`, a libuv timer every `resolutionMs`,
 * no JavaScript wake-ups) records how late its timer fired. A histogram's reset drops the first lateness after
 * it (Node restarts its timer reference), so a stall just after a fold would be lost: two histograms are read
 * and reset in turn, each covering the last two fold periods, so every timer firing is in one of them.
 * `poll(now)` folds (at most every `foldMs`) into the time of the last stall: a worst delay exceeding the
 * resolution by `stallMs` or more counts as a stall at `now` (its exact moment lies within the last two fold
 * periods). One monitor per process (`sharedHostStalls`), read by every link; not polled for `idleStopMs`, it
 * stops (no timers), and the next poll starts it again.
 */
import { performance } from 'node:perf_hooks';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface HostStallOptions {
  readonly resolutionMs: number;
  /** Timer lateness that counts as a stall (beyond the resolution). */
  readonly stallMs: number;
  readonly foldMs: number;
  /** Not polled for this long (real time): the histograms stop (their timers wake the process); a poll restarts them. */
  readonly idleStopMs: number;
}

export const DEFAULT_HOST_STALL_OPTIONS: HostStallOptions = {
  resolutionMs: 10,
  stallMs: 15,
  foldMs: 50,
  idleStopMs: 5000,
};

export interface HostStalls {
  /** The time (the caller's clock) of the last stall seen, or -Infinity. */
  poll(now: number): number;
}

export class HostStallMonitor implements HostStalls {
  readonly #o: HostStallOptions;
  readonly #hs: readonly [IntervalHistogram, IntervalHistogram];
  #turn: 0 | 1 = 0;
  #lastFoldAt = Number.NEGATIVE_INFINITY;
  #lastStallAt = Number.NEGATIVE_INFINITY;
  #stalls = 0;

  #running = false;
  #lastPollReal = 0;
  #idleCheck: ReturnType<typeof setInterval> | undefined;

  constructor(options: Partial<HostStallOptions> = {}) {
    this.#o = { ...DEFAULT_HOST_STALL_OPTIONS, ...options };
    const resolution = Math.max(1, Math.round(this.#o.resolutionMs));
    this.#hs = [monitorEventLoopDelay({ resolution }), monitorEventLoopDelay({ resolution })];
    this.#start();
  }

  /** Stalls seen so far (folds with one). */
  get stalls(): number {
    return this.#stalls;
  }

  /** Whether the histograms run now (they stop when not polled for `idleStopMs`). */
  get running(): boolean {
    return this.#running;
  }

  #start(): void {
    this.#running = true;
    this.#lastPollReal = performance.now();
    this.#lastFoldAt = Number.NEGATIVE_INFINITY;
    for (const h of this.#hs) {
      h.reset();
      h.enable();
    }
    const every = Math.max(10, this.#o.idleStopMs);
    this.#idleCheck = setInterval(() => {
      if (performance.now() - this.#lastPollReal >= this.#o.idleStopMs) {
        this.#stop();
      }
    }, every);
    this.#idleCheck.unref();
  }

  #stop(): void {
    this.#running = false;
    clearInterval(this.#idleCheck);
    this.#idleCheck = undefined;
    for (const h of this.#hs) {
      h.disable();
    }
  }

  poll(now: number): number {
    if (!this.#running) {
      this.#start(); // what happened while stopped is not known: the next folds start from now
    }
    this.#lastPollReal = performance.now();
    if (!(now - this.#lastFoldAt < this.#o.foldMs)) {
      this.#lastFoldAt = now;
      const h = this.#hs[this.#turn];
      this.#turn = this.#turn === 0 ? 1 : 0;
      const worstMs = h.count > 0 ? h.max / 1e6 : 0;
      h.reset();
      if (worstMs >= this.#o.resolutionMs + this.#o.stallMs) {
        this.#lastStallAt = now;
        this.#stalls++;
      }
    }
    return this.#lastStallAt;
  }

  close(): void {
    this.#stop();
  }
}

let shared: HostStallMonitor | undefined;

/** The process's monitor (created at the first call; its timer does not keep the process alive). */
export function sharedHostStalls(): HostStalls {
  shared ??= new HostStallMonitor();
  return shared;
}

/**
 * One `setImmediate` per event-loop turn for every queue that sends when the turn ends, run in a fixed order:
 * the link trunks first (`'trunk'`), then the subscribers' sockets (`'subscribers'`). Why an order: a trunk
 * packet feeds a whole remote focus, whose subscribers receive it only after that focus has run; sending the
 * trunk batch first lets the remote focus wake and start its fan-out while this focus still sends to its own
 * subscribers, instead of after every local subscriber's receiver was woken (on a shared host those receivers
 * would take the cores first). Nothing is allocated per turn once the lists have grown; a callback scheduled
 * while the turn's callbacks run goes to the next turn.
 *
 * Held at most MAX_HOLD_MS: the ingest calls `settle()` after each received packet's forwarding, and once the
 * oldest callback has waited that long they run at once (the deferred run then finds what was queued since).
 * Without the bound a packet waited for the whole turn: a publisher's frame fanned out to 20 subscribers is
 * ≈ 180 forwarded datagrams, several ms of work at either focus of a cascade hop, and the wait grows with the
 * room. One clock read per turn start and per received packet while something waits.
 *
 * A batch of received datagrams (udpReceive.ts) is one turn of its own: between `hold()` and `release()` no
 * `setImmediate` is scheduled, and `release()` runs what waits at once — one system call per socket for the
 * whole batch, without the immediate's own wake-up.
 */
import { performance } from 'node:perf_hooks';
export type TurnEndPhase = 'trunk' | 'subscribers';

export type Schedule = (fn: () => void) => void;

/** How long queued sends wait for the turn to end before they leave anyway (ms). */
export const MAX_HOLD_MS = 1;

export class TurnEnd {
  readonly #defer: Schedule;
  #trunk = new Callbacks();
  #subscribers = new Callbacks();
  #spareTrunk = new Callbacks();
  #spareSubscribers = new Callbacks();
  #deferred = false;
  /** Nesting of hold() calls: while above 0, nothing is deferred (release() runs it). */
  #held = 0;
  readonly #now: () => number;
  readonly #maxHoldMs: number;
  /** When the oldest waiting callback was scheduled. */
  #since = 0;
  /** Callbacks that threw (a flush counts its own send failures and never throws: each one is a bug). */
  failed = 0;

  /**
   * `defer` runs the turn's callbacks after the turn (default `setImmediate`), `now` is the clock in ms
   * (default `performance.now`); tests pass their own.
   */
  constructor(
    defer: Schedule = (fn) => void setImmediate(fn),
    now: () => number = () => performance.now(),
    maxHoldMs: number = MAX_HOLD_MS,
  ) {
    this.#defer = defer;
    this.#now = now;
    this.#maxHoldMs = maxHoldMs;
  }

  /** Runs `fn` when this turn ends, in `phase`'s place (callers schedule once per turn: no duplicate check). */
  schedule(phase: TurnEndPhase, fn: () => void): void {
    if (this.#trunk.n === 0 && this.#subscribers.n === 0) {
      this.#since = this.#now();
    }
    (phase === 'trunk' ? this.#trunk : this.#subscribers).push(fn);
    if (!this.#deferred && this.#held === 0) {
      this.#deferred = true;
      this.#defer(this.#run);
    }
  }

  /** After a received packet's forwarding: runs the waiting callbacks now if the oldest waited MAX_HOLD_MS. */
  settle(): void {
    if (this.#trunk.n === 0 && this.#subscribers.n === 0) {
      return;
    }
    if (this.#now() - this.#since >= this.#maxHoldMs) {
      this.#runNow();
    }
  }

  /** Starts a batch: what is scheduled until the matching `release()` runs then, not after the turn. */
  hold(): void {
    this.#held++;
  }

  /** Ends a batch; the outermost runs every waiting callback now. */
  release(): void {
    if (this.#held > 0) {
      this.#held--;
    }
    if (this.#held === 0 && (this.#trunk.n > 0 || this.#subscribers.n > 0)) {
      this.#runNow();
    }
  }

  /** A Schedule for one phase (what TrunkQueue and TurnSendQueue take). */
  scheduler(phase: TurnEndPhase): Schedule {
    return (fn) => {
      this.schedule(phase, fn);
    };
  }

  readonly #run = (): void => {
    this.#deferred = false;
    this.#runNow();
  };

  #runNow(): void {
    const trunk = this.#trunk;
    const subscribers = this.#subscribers;
    this.#trunk = this.#spareTrunk;
    this.#subscribers = this.#spareSubscribers;
    this.failed += trunk.runAll() + subscribers.runAll();
    this.#spareTrunk = trunk;
    this.#spareSubscribers = subscribers;
  }
}

const NOOP = (): void => undefined;

/**
 * Callbacks in the order given, in an array that keeps its size: emptied by a count, not by `length = 0`
 * (which gives the array's storage back, so the next turn's first push allocated it again).
 */
class Callbacks {
  readonly #fns: (() => void)[] = [];
  n = 0;

  push(fn: () => void): void {
    this.#fns[this.n++] = fn;
  }

  /** Runs and empties the list; how many threw (one that did must not starve the others). */
  runAll(): number {
    const fns = this.#fns;
    const n = this.n;
    let failed = 0;
    for (let i = 0; i < n; i++) {
      const fn = fns[i] ?? NOOP;
      fns[i] = NOOP; // no reference kept to a flush's owner
      try {
        fn();
      } catch {
        failed++;
      }
    }
    this.n = 0;
    return failed;
  }
}

/** The process's turn end, shared by every trunk and the subscribers' send queue. */
export const turnEnd = new TurnEnd();

/**
 * ICE re-checks while a link has no nominated pair (protocol.md §8.7). werift 0.24.4 runs one round of
 * connectivity checks per ICE generation: a check gives up after 5 sends (50 … 800 ms apart, ≈ 1.55 s) and its
 * pair stays *failed*; nothing checks it again unless the remote's own check arrives (a triggered check). So an
 * outage longer than that round (ICE-restart offer during a trunk outage, or a relink's new call set up while the
 * path is still down) left both foci waiting for each other until the relink or the call's set-up timeout, however
 * soon the path came back. Here, after each negotiation (new call, ICE restart) and until a pair is nominated,
 * the failed pairs are checked again every `ICE_RECHECK_INTERVAL_MS`, for at most `ICE_RECHECK_WINDOW_MS`; each
 * re-check is werift's own check (USE-CANDIDATE from the controlling side), so nomination, consent freshness and
 * the DTLS session over the new pair proceed as after the first round. The other focus answers a re-check and
 * runs a triggered check of its own, so one side re-checking is enough; both do.
 *
 * The policy (`iceRecheckStep`) is pure; `IceRecheck` applies it to werift's ICE connection (its `checkList`,
 * pair `state` / `handle`, `checkStart` and `nominated`: internals, docs/werift-notes.md §4) on a Clock timer,
 * cancelled on `stop()`.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';

/** Failed pairs are checked again this often while nothing is nominated. */
export const ICE_RECHECK_INTERVAL_MS = 500;
/** How long after a negotiation re-checks may go on (beyond the relink of §8.7 and a call's set-up timeout). */
export const ICE_RECHECK_WINDOW_MS = 30_000;

export interface IceRecheckView {
  /** When the watch was armed (the last negotiation). */
  readonly armedAt: number;
  readonly now: number;
  /** A pair is nominated: ICE has what it needs. */
  readonly nominated: boolean;
  /** The ICE connection (or the link) is closed. */
  readonly closed: boolean;
  /** Pairs whose check failed and that have no check in flight. */
  readonly failedIdle: number;
}

export type IceRecheckStep =
  /** Check the failed idle pairs again now; look again at `next`. */
  | { readonly kind: 'recheck'; readonly next: number }
  /** Nothing to re-check now (checks in flight); look again at `next`. */
  | { readonly kind: 'wait'; readonly next: number }
  /** Done: nominated, closed, or the window is over. */
  | { readonly kind: 'stop' };

export function iceRecheckStep(v: IceRecheckView): IceRecheckStep {
  if (v.closed || v.nominated || v.now - v.armedAt >= ICE_RECHECK_WINDOW_MS) {
    return { kind: 'stop' };
  }
  const next = v.now + ICE_RECHECK_INTERVAL_MS;
  return v.failedIdle > 0 ? { kind: 'recheck', next } : { kind: 'wait', next };
}

/** werift's `CandidatePairState.FAILED` (not exported by the package). */
const PAIR_FAILED = 4;

/** The part of werift's ICE `Connection` (lib/ice/src/ice.js) that re-checks use. */
export interface IceConnectionLike {
  readonly state: string;
  readonly nominated?: unknown;
  readonly checkList: readonly IcePairLike[];
  checkStart(pair: IcePairLike): unknown;
}

export interface IcePairLike {
  readonly state: number;
  handle?: unknown;
}

function isConnection(x: unknown): x is IceConnectionLike {
  const c = x as Partial<IceConnectionLike> | null;
  return (
    typeof c === 'object' && c !== null && Array.isArray(c.checkList) && typeof c.checkStart === 'function'
  );
}

function failedIdle(conn: IceConnectionLike): IcePairLike[] {
  return conn.checkList.filter((p) => p.state === PAIR_FAILED && p.handle === undefined);
}

/** Re-checks one ICE connection's failed pairs after each `arm()` until nominated, `stop()`ped or timed out. */
export class IceRecheck {
  readonly #clock: Clock;
  readonly #onError: (e: unknown) => void;
  #conn: IceConnectionLike | undefined;
  #armedAt = 0;
  #timer: TimerHandle | undefined;
  #stopped = false;
  /** Re-checks started (diagnostics, tests). */
  rechecks = 0;

  constructor(clock: Clock, onError: (e: unknown) => void) {
    this.#clock = clock;
    this.#onError = onError;
  }

  /** Watches `connection` (werift's ICE connection) from now on; false if it does not look like one. */
  arm(connection: unknown): boolean {
    if (this.#stopped || !isConnection(connection)) {
      return false;
    }
    this.#conn = connection;
    this.#armedAt = this.#clock.now();
    this.#schedule(this.#armedAt + ICE_RECHECK_INTERVAL_MS);
    return true;
  }

  /** Cancels the timer for good (the link is closing). */
  stop(): void {
    this.#stopped = true;
    this.#conn = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(at: number): void {
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#tick();
    }, at - this.#clock.now());
  }

  #tick(): void {
    const conn = this.#conn;
    if (conn === undefined) {
      return;
    }
    const idle = failedIdle(conn);
    const step = iceRecheckStep({
      armedAt: this.#armedAt,
      now: this.#clock.now(),
      nominated: conn.nominated !== undefined,
      closed: conn.state === 'closed',
      failedIdle: idle.length,
    });
    if (step.kind === 'stop') {
      this.#conn = undefined;
      return;
    }
    if (step.kind === 'recheck') {
      for (const pair of idle) {
        try {
          pair.handle = conn.checkStart(pair);
          this.rechecks++;
        } catch (e) {
          this.#onError(e);
        }
      }
    }
    this.#schedule(step.next);
  }
}

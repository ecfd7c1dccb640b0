/**
 * ICE re-checks while a link has no nominated pair (protocol.md §8.7). werift 0.24.4 runs one round of
 * connectivity checks per ICE generation: a check gives up after 5 sends (50 … 800 ms apart, ≈ 1.55 s) and its
 * pair stays *failed*; nothing checks it again unless the remote's own check arrives (a triggered check). So an
 * outage longer than that round (ICE-restart offer during a trunk outage, or a relink's new call set up while the
 * path is still down) left both foci waiting for each other until the relink or the call's set-up timeout, however
 * soon the path came back. Here, after each negotiation (new call, ICE restart) and until a pair is nominated,
 * for at most `ICE_RECHECK_WINDOW_MS`, every `ICE_RECHECK_INTERVAL_MS` each pair is checked again when its check
 * failed, or when its check has been in flight for `ICE_CHECK_TAIL_MS` (700 ms: only the last 800 ms wait of the
 * transaction is left, no more sends — a second check then keeps the sends on the pair at most ≈ 400 ms apart,
 * so the path is found within about that once it is back). Each re-check is werift's own check (USE-CANDIDATE
 * from the controlling side), so nomination, consent freshness and the DTLS session over the new pair proceed as
 * after the first round; a check that times out after a newer one succeeded only marks the pair failed, the
 * nomination stays. The other focus answers a re-check and runs a triggered check of its own, so one side
 * re-checking is enough; both do.
 *
 * The policy (`iceRecheckStep`, `pairDue`) is pure; `IceRecheck` applies it to werift's ICE connection (its
 * `checkList`, a pair's `state` and `handle`, `checkStart`, `nominated`, `state`: internals, docs/werift-notes.md
 * §4) on a Clock timer, cancelled on `stop()`.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';

/** Pairs are looked at this often while nothing is nominated. */
export const ICE_RECHECK_INTERVAL_MS = 500;
/** How long after a negotiation re-checks may go on (beyond the relink of §8.7 and a call's set-up timeout). */
export const ICE_RECHECK_WINDOW_MS = 30_000;
/** A check in flight this long has sent its last request (werift: at 750 ms) and only waits for an answer. */
export const ICE_CHECK_TAIL_MS = 700;

export interface IceRecheckView {
  /** When the watch was armed (the last negotiation). */
  readonly armedAt: number;
  readonly now: number;
  /** A pair is nominated: ICE has what it needs. */
  readonly nominated: boolean;
  /** The ICE connection (or the link) is closed. */
  readonly closed: boolean;
}

export type IceRecheckStep =
  /** Check the pairs `pairDue` picks now; look again at `next`. */
  | { readonly kind: 'run'; readonly next: number }
  /** Done: nominated, closed, or the window is over. */
  | { readonly kind: 'stop' };

export function iceRecheckStep(v: IceRecheckView): IceRecheckStep {
  if (v.closed || v.nominated || v.now - v.armedAt >= ICE_RECHECK_WINDOW_MS) {
    return { kind: 'stop' };
  }
  return { kind: 'run', next: v.now + ICE_RECHECK_INTERVAL_MS };
}

export interface IcePairView {
  readonly state: 'failed' | 'in_progress' | 'other';
  /** When its check in flight was started (or first seen in flight); undefined: not known. */
  readonly startedAt: number | undefined;
}

/** Whether a pair is checked again now: its check failed, or the one in flight has no send left. */
export function pairDue(p: IcePairView, now: number): boolean {
  return (
    p.state === 'failed' ||
    (p.state === 'in_progress' && p.startedAt !== undefined && now - p.startedAt >= ICE_CHECK_TAIL_MS)
  );
}

/** werift's `CandidatePairState` (not exported by the package): IN_PROGRESS 2, FAILED 4. */
const PAIR_IN_PROGRESS = 2;
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

/** Re-checks one ICE connection's pairs after each `arm()` until nominated, `stop()`ped or timed out. */
export class IceRecheck {
  readonly #clock: Clock;
  readonly #onError: (e: unknown) => void;
  #conn: IceConnectionLike | undefined;
  #armedAt = 0;
  #timer: TimerHandle | undefined;
  #stopped = false;
  /** When the check in flight on a pair was started by a re-check, or first seen in flight. */
  #startedAt = new WeakMap<IcePairLike, number>();
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
    this.#startedAt = new WeakMap();
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
    const now = this.#clock.now();
    const step = iceRecheckStep({
      armedAt: this.#armedAt,
      now,
      nominated: conn.nominated !== undefined,
      closed: conn.state === 'closed',
    });
    if (step.kind === 'stop') {
      this.#conn = undefined;
      return;
    }
    for (const pair of [...conn.checkList]) {
      const state =
        pair.state === PAIR_FAILED ? 'failed' : pair.state === PAIR_IN_PROGRESS ? 'in_progress' : 'other';
      let startedAt = this.#startedAt.get(pair);
      if (state === 'in_progress' && startedAt === undefined) {
        startedAt = now; // werift's own check (first round, triggered): seen in flight from now
        this.#startedAt.set(pair, now);
      }
      if (!pairDue({ state, startedAt }, now)) {
        continue;
      }
      try {
        pair.handle = conn.checkStart(pair);
        this.#startedAt.set(pair, now);
        this.rechecks++;
      } catch (e) {
        this.#onError(e);
      }
    }
    this.#schedule(step.next);
  }
}

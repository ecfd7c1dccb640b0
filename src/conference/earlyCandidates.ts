/**
 * Candidates that arrive before their invite (to-device events travel separately, §4.2): kept per call for the
 * invite that follows, at most EARLY_CANDIDATE_KEYS calls at once and for `holdMs` each; what is never claimed
 * (or does not fit) is counted as an event for an unknown call.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { sessionIndexKey } from './session.js';

export const EARLY_CANDIDATE_KEYS = 256;

interface Entry<C> {
  candidates: C[];
  timer: TimerHandle;
}

export class EarlyCandidates<C> {
  readonly #early = new Map<string, Entry<C>>();
  readonly #clock: Clock;
  readonly #holdMs: number;
  readonly #dropped: () => void;

  /** `dropped` counts candidates of a call that did not fit or whose invite never came. */
  constructor(clock: Clock, holdMs: number, dropped: () => void) {
    this.#clock = clock;
    this.#holdMs = holdMs;
    this.#dropped = dropped;
  }

  /** Keeps `list` for the call `(sender, deviceId, callId, sessionId)`. */
  keep(sender: string, deviceId: string, callId: string, sessionId: string, list: readonly C[]): void {
    const key = sessionIndexKey(sender, deviceId, callId, sessionId);
    const entry = this.#early.get(key);
    if (entry !== undefined) {
      entry.candidates.push(...list);
      return;
    }
    if (this.#early.size >= EARLY_CANDIDATE_KEYS) {
      this.#dropped();
      return;
    }
    const timer = this.#clock.setTimeout(() => {
      if (this.#early.delete(key)) {
        this.#dropped();
      }
    }, this.#holdMs);
    this.#early.set(key, { candidates: [...list], timer });
  }

  /** The candidates kept for this call (empty when none), forgotten here. */
  take(sender: string, deviceId: string, callId: string, sessionId: string): C[] {
    const key = sessionIndexKey(sender, deviceId, callId, sessionId);
    const entry = this.#early.get(key);
    if (entry === undefined) {
      return [];
    }
    entry.timer.cancel();
    this.#early.delete(key);
    return entry.candidates;
  }

  clear(): void {
    for (const e of this.#early.values()) {
      e.timer.cancel();
    }
    this.#early.clear();
  }
}

/**
 * The highest of the values recorded within a time window (e.g. the trunk's rate over the last second, for the
 * loss rules in trunkEstimator.ts and media/link/trunkCcSend.ts), pure: a fixed ring of `capacity` samples
 * (time, value), no allocation after construction. Samples at non-finite times are ignored; a sample recorded
 * after `now` does not count at `now`.
 */
export class RecentMax {
  readonly #at: Float64Array;
  readonly #value: Float64Array;
  #next = 0;

  constructor(capacity: number) {
    const n = Math.max(1, Math.floor(capacity));
    this.#at = new Float64Array(n).fill(Number.NaN);
    this.#value = new Float64Array(n);
  }

  record(now: number, value: number): void {
    if (!Number.isFinite(now)) {
      return;
    }
    const i = this.#next;
    this.#at[i] = now;
    this.#value[i] = value;
    this.#next = (i + 1) % this.#at.length;
  }

  /** The highest value recorded within `windowMs` before `now` (0: none). */
  max(now: number, windowMs: number): number {
    let max = 0;
    for (let i = 0; i < this.#at.length; i++) {
      const at = this.#at[i] ?? Number.NaN;
      if (at <= now && now - at <= windowMs) {
        max = Math.max(max, this.#value[i] ?? 0);
      }
    }
    return max;
  }
}

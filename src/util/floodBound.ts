/**
 * How much refused excess a sender may pile up before it is cut off (issue "Reliability": a flooding client is
 * limited, and past a bound hung up). Each refused item adds one; the pile drains at `forgivePerSecond` (a client
 * that overshoots now and then never reaches the bound); the first refusal that takes it past `bound` says so,
 * once. Pure: time is passed in, nothing is allocated per call.
 */
export class FloodBound {
  readonly #bound: number;
  readonly #forgivePerMs: number;
  #pile = 0;
  #at: number;
  #over = false;

  constructor(bound: number, forgivePerSecond: number, now: number) {
    this.#bound = bound;
    this.#forgivePerMs = forgivePerSecond / 1000;
    this.#at = now;
  }

  /** `n` more items (default one) refused at `now`: true exactly once, when the pile first goes past the bound. */
  refuse(now: number, n = 1): boolean {
    const elapsed = Math.max(0, now - this.#at);
    this.#at = Math.max(this.#at, now);
    this.#pile = Math.max(0, this.#pile - elapsed * this.#forgivePerMs) + n;
    if (!this.#over && this.#pile > this.#bound) {
      this.#over = true;
      return true;
    }
    return false;
  }

  /** The bound was passed (it stays passed). */
  get over(): boolean {
    return this.#over;
  }

  /** Refused items not yet forgiven, as of the last call. */
  get pile(): number {
    return this.#pile;
  }
}

/**
 * Keyframe-request throttle (protocol.md §7, `media.pli_min_interval_ms`): at most one request per publisher
 * stream (SSRC) per interval; requests inside the interval are coalesced into the one already sent. Pure.
 */
export class KeyframeThrottle {
  readonly #minIntervalMs: number;
  readonly #last = new Map<number, number>();

  constructor(minIntervalMs: number) {
    this.#minIntervalMs = Math.max(0, minIntervalMs);
  }

  /** True if a request for `ssrc` may be sent now (and records it as sent). */
  allow(ssrc: number, now: number): boolean {
    const last = this.#last.get(ssrc);
    if (last !== undefined && now - last < this.#minIntervalMs && now >= last) {
      return false;
    }
    this.#last.set(ssrc, now);
    return true;
  }

  forget(ssrc: number): void {
    this.#last.delete(ssrc);
  }
}

/**
 * Keyframe requests per SSRC, pure: at most one PLI per SSRC per `media.pli_min_interval_ms`, and none lost —
 * used towards publishers (media/publishedTrack.ts: subscribers' starts, switches, retries and PLI/FIR) and
 * towards a link per trunk SSRC (protocol.md §8.6: subscribers' PLI/FIR for a relayed layer):
 *
 * - The first request for an SSRC, or one at least the interval after the last PLI sent for it, goes at once.
 * - A request inside the interval is coalesced: it is remembered (once) and sent when the interval ends
 *   (`due`) — unless a keyframe of that SSRC arrives after the request, which answers it.
 * - A clock that runs backwards sends at once (never a stuck request). The caller passes only SSRCs it knows
 *   (a track's layers, a link's trunk SSRCs), so the state is bounded by them; `forget` drops one.
 * - `coalesced` counts requests that did not cause a PLI of their own (a link flood of PLIs shows there).
 */

interface SsrcState {
  lastSentAt: number;
  /** When the oldest unanswered coalesced request came; NaN when none waits. */
  pendingSince: number;
}

export class PliCoalescer {
  readonly #intervalMs: number;
  readonly #ssrcs = new Map<number, SsrcState>();
  #coalesced = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = Number.isFinite(intervalMs) ? Math.max(0, intervalMs) : 0;
  }

  get coalesced(): number {
    return this.#coalesced;
  }

  /** A request for `ssrc`: true when a PLI should be sent now. */
  request(ssrc: number, now: number): boolean {
    const s = this.#ssrcs.get(ssrc);
    if (s === undefined) {
      this.#ssrcs.set(ssrc, { lastSentAt: now, pendingSince: Number.NaN });
      return true;
    }
    if (now - s.lastSentAt >= this.#intervalMs || now < s.lastSentAt) {
      s.lastSentAt = now;
      s.pendingSince = Number.NaN;
      return true;
    }
    if (Number.isNaN(s.pendingSince)) {
      s.pendingSince = now;
    }
    this.#coalesced++;
    return false;
  }

  /** A keyframe of `ssrc` arrived: it answers the requests made before it. */
  onKeyframe(ssrc: number, now: number): void {
    const s = this.#ssrcs.get(ssrc);
    if (s !== undefined && !Number.isNaN(s.pendingSince) && now >= s.pendingSince) {
      s.pendingSince = Number.NaN;
    }
  }

  /** The SSRCs whose coalesced request is due now (each recorded as sent), appended to `out`. */
  due(now: number, out: number[] = []): number[] {
    for (const [ssrc, s] of this.#ssrcs) {
      if (!Number.isNaN(s.pendingSince) && (now - s.lastSentAt >= this.#intervalMs || now < s.lastSentAt)) {
        s.lastSentAt = now;
        s.pendingSince = Number.NaN;
        out.push(ssrc);
      }
    }
    return out;
  }

  /** When the earliest coalesced request becomes due, or undefined when none waits. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const s of this.#ssrcs.values()) {
      if (!Number.isNaN(s.pendingSince)) {
        const at = s.lastSentAt + this.#intervalMs;
        next = next === undefined ? at : Math.min(next, at);
      }
    }
    return next;
  }

  forget(ssrc: number): void {
    this.#ssrcs.delete(ssrc);
  }
}

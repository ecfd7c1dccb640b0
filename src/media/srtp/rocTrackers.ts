/**
 * The rollover counters of one SRTP association's direction, one RocTracker (srtpIndex.ts) per SSRC, at most
 * `MAX_SSRCS` of them: past it the oldest is forgotten (its SSRC then starts again at ROC 0).
 */
import { RocTracker } from './srtpIndex.js';

export const MAX_SSRCS = 4096;

export class RocTrackers {
  readonly #rocs = new Map<number, RocTracker>();

  get(ssrc: number): RocTracker | undefined {
    return this.#rocs.get(ssrc);
  }

  /** The tracker of `ssrc`, made (and the oldest forgotten when full) if there is none. */
  getOrCreate(ssrc: number): RocTracker {
    let r = this.#rocs.get(ssrc);
    if (r === undefined) {
      if (this.#rocs.size >= MAX_SSRCS) {
        const oldest = this.#rocs.keys().next().value;
        if (oldest !== undefined) {
          this.#rocs.delete(oldest);
        }
      }
      r = new RocTracker();
      this.#rocs.set(ssrc, r);
    }
    return r;
  }
}

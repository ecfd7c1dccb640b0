/**
 * Per-SSRC state of one SRTP association's direction — the sender's RocTracker (srtpIndex.ts), the receiver's
 * rollover counter and replay list, SRTCP's replay list — at most `MAX_SSRCS` of them: past it the oldest is
 * forgotten (its SSRC then starts again from nothing: ROC 0, an empty replay list).
 */

export const MAX_SSRCS = 4096;

export class SsrcTable<T> {
  readonly #bySsrc = new Map<number, T>();
  readonly #make: () => T;

  constructor(make: () => T) {
    this.#make = make;
  }

  get(ssrc: number): T | undefined {
    return this.#bySsrc.get(ssrc);
  }

  /** The state of `ssrc`, made (and the oldest forgotten when full) if there is none. */
  getOrCreate(ssrc: number): T {
    let r = this.#bySsrc.get(ssrc);
    if (r === undefined) {
      if (this.#bySsrc.size >= MAX_SSRCS) {
        const oldest = this.#bySsrc.keys().next().value;
        if (oldest !== undefined) {
          this.#bySsrc.delete(oldest);
        }
      }
      r = this.#make();
      this.#bySsrc.set(ssrc, r);
    }
    return r;
  }
}

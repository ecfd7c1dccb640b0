/**
 * The replay list of one SRTP or SRTCP stream (RFC 3711 §3.3.2): which packet indexes were already accepted,
 * as a sliding window of `REPLAY_WINDOW` indexes ending at the highest one accepted. A packet whose index is
 * in the window and marked, or older than the window, is a replay and is dropped before it is decrypted. The
 * window is 1,024 (libsrtp's default is 128; WebRTC's receivers use 1,024 so that a retransmission answering a
 * NACK still fits behind a second of video). An index is marked only once its packet authenticated (`accept`),
 * so a forged packet cannot burn a number. Indexes are the 48-bit SRTP index (ROC · 2^16 + SEQ, srtpIndex.ts:
 * exact in a double, so a sequence wrap is just the next number) or the 31-bit SRTCP index. No allocation per
 * packet: the marks are one ring of bits, slot = index mod the window.
 */

export const REPLAY_WINDOW = 1024;
const WORDS = REPLAY_WINDOW / 32;

export class ReplayWindow {
  /** The highest index accepted; -1 before the first. */
  #top = -1;
  readonly #bits = new Uint32Array(WORDS);

  /** The highest index accepted so far (-1: none yet). */
  get top(): number {
    return this.#top;
  }

  /** Whether a packet with `index` may be accepted: newer than every one so far, or in the window and unmarked. */
  fresh(index: number): boolean {
    const top = this.#top;
    if (index > top) {
      return true;
    }
    if (top - index >= REPLAY_WINDOW) {
      return false; // older than the window: it cannot be told from a replay
    }
    const slot = index % REPLAY_WINDOW;
    return ((this.#bits[slot >>> 5] as number) & (1 << (slot & 31))) === 0;
  }

  /** Marks `index` (a packet that authenticated and that `fresh` let through); the window slides to it. */
  accept(index: number): void {
    const top = this.#top;
    const bits = this.#bits;
    if (index > top) {
      if (top < 0 || index - top >= REPLAY_WINDOW) {
        bits.fill(0);
      } else {
        for (let i = top + 1; i < index; i++) {
          const slot = i % REPLAY_WINDOW;
          bits[slot >>> 5] = (bits[slot >>> 5] as number) & ~(1 << (slot & 31)); // numbers skipped: not yet seen
        }
      }
      this.#top = index;
    }
    const slot = index % REPLAY_WINDOW;
    bits[slot >>> 5] = (bits[slot >>> 5] as number) | (1 << (slot & 31));
  }
}

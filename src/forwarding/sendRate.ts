/**
 * What one forwarded stream sends, in bytes per second over fixed windows of 0.5 s (the retransmission
 * budget and the bandwidth allocation read it). Pure: time is passed in; `add` is a field increment (called
 * per packet sent).
 */

export const RATE_WINDOW_MS = 500;

export class SendRate {
  #bytesPerS = 0;
  #windowStart: number;
  #windowBytes = 0;

  constructor(now: number) {
    this.#windowStart = now;
  }

  /** Bytes per second of the last complete window (0 before one). */
  get bytesPerS(): number {
    return this.#bytesPerS;
  }

  add(bytes: number): void {
    this.#windowBytes += bytes;
  }

  /** Closes the window when it is at least {@link RATE_WINDOW_MS} old. */
  tick(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed >= RATE_WINDOW_MS) {
      this.#bytesPerS = (this.#windowBytes * 1000) / elapsed;
      this.#windowBytes = 0;
      this.#windowStart = now;
    }
  }
}

/**
 * The packets a subscriber stream was sent, by output sequence number, for answering its NACKs with the exact
 * packet first sent: a ring of `capacity` slots (a power of two) that also forgets entries older than
 * `maxAgeMs`, so memory is bounded by capacity × packet size and time. Each entry remembers when it was last
 * resent, so a NACK repeated within one RTT is not answered twice. Pure: time is passed in; items are opaque.
 */

export type ResendVerdict = 'send' | 'missing' | 'too_old' | 'duplicate';

export class RetransmitBuffer<T> {
  readonly #mask: number;
  readonly #maxAgeMs: number;
  readonly #seq: Int32Array;
  readonly #at: Float64Array;
  readonly #resentAt: Float64Array;
  readonly #items: (T | undefined)[];

  constructor(capacity: number, maxAgeMs: number) {
    let size = 1;
    while (size < capacity && size < 1 << 15) {
      size <<= 1;
    }
    this.#mask = size - 1;
    this.#maxAgeMs = maxAgeMs;
    this.#seq = new Int32Array(size).fill(-1);
    this.#at = new Float64Array(size);
    this.#resentAt = new Float64Array(size).fill(Number.NEGATIVE_INFINITY);
    this.#items = new Array<T | undefined>(size);
  }

  get capacity(): number {
    return this.#mask + 1;
  }

  /** Remembers the packet sent with output sequence number `seq` at `now`. */
  put(seq: number, now: number, item: T): void {
    const s = seq & 0xffff;
    const i = s & this.#mask;
    this.#seq[i] = s;
    this.#at[i] = now;
    this.#resentAt[i] = Number.NEGATIVE_INFINITY;
    this.#items[i] = item;
  }

  /** Whether a NACK for `seq` should be answered now; `minResendMs` is the de-duplication window. */
  check(seq: number, now: number, minResendMs: number): ResendVerdict {
    const s = seq & 0xffff;
    const i = s & this.#mask;
    if (this.#seq[i] !== s || this.#items[i] === undefined) {
      return 'missing';
    }
    if (now - (this.#at[i] ?? 0) > this.#maxAgeMs) {
      return 'too_old';
    }
    if (now - (this.#resentAt[i] ?? 0) < minResendMs) {
      return 'duplicate';
    }
    return 'send';
  }

  /** The stored packet (call after `check` said `send`). */
  get(seq: number): T | undefined {
    const s = seq & 0xffff;
    const i = s & this.#mask;
    return this.#seq[i] === s ? this.#items[i] : undefined;
  }

  markResent(seq: number, now: number): void {
    const s = seq & 0xffff;
    const i = s & this.#mask;
    if (this.#seq[i] === s) {
      this.#resentAt[i] = now;
    }
  }

  clear(): void {
    this.#seq.fill(-1);
    this.#items.fill(undefined);
  }
}

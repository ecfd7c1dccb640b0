/**
 * The packets a subscriber stream was sent, by output sequence number, for answering its NACKs with the exact
 * packet first sent: a ring of `capacity` slots (a power of two) that also forgets entries older than
 * `maxAgeMs`, so memory is bounded by capacity × packet size and time. It can start small and `grow`
 * (doubling, entries kept) when `evictsYoung` says the stream sends more than it holds for `maxAgeMs`. Each
 * entry remembers when it was last resent, so a NACK repeated within one RTT is not answered twice. Pure: time
 * is passed in; items are opaque.
 */

export type ResendVerdict = 'send' | 'missing' | 'too_old' | 'duplicate';

/** The smallest power of two ≥ `n`, at most 2^15 (half the sequence space). */
function powerOfTwo(n: number): number {
  let size = 1;
  while (size < n && size < 1 << 15) {
    size <<= 1;
  }
  return size;
}

export class RetransmitBuffer<T> {
  #mask: number;
  readonly #maxAgeMs: number;
  #seq: Int32Array;
  #at: Float64Array;
  #resentAt: Float64Array;
  #items: (T | undefined)[];

  constructor(capacity: number, maxAgeMs: number) {
    const size = powerOfTwo(capacity);
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

  /**
   * Whether `put(seq, now)` would push out a packet still inside `maxAgeMs`: the ring is smaller than the
   * stream's rate × the age kept (a buffer that starts small and `grow`s finds its size this way).
   */
  evictsYoung(seq: number, now: number): boolean {
    const s = seq & 0xffff;
    const i = s & this.#mask;
    const held = this.#seq[i] as number;
    return held >= 0 && held !== s && now - (this.#at[i] as number) <= this.#maxAgeMs;
  }

  /**
   * Doubles the ring (up to 2^15 slots), every entry kept at its sequence number's slot in the larger ring
   * (two entries cannot meet there: their slots differed in the smaller one, so their low bits do).
   */
  grow(): void {
    const size = this.#mask + 1;
    if (size >= 1 << 15) {
      return;
    }
    const next = size * 2;
    const mask = next - 1;
    const seq = new Int32Array(next).fill(-1);
    const at = new Float64Array(next);
    const resentAt = new Float64Array(next).fill(Number.NEGATIVE_INFINITY);
    const items = new Array<T | undefined>(next);
    for (let i = 0; i < size; i++) {
      const s = this.#seq[i] as number;
      if (s < 0) {
        continue;
      }
      const j = s & mask;
      seq[j] = s;
      at[j] = this.#at[i] as number;
      resentAt[j] = this.#resentAt[i] as number;
      items[j] = this.#items[i];
    }
    this.#mask = mask;
    this.#seq = seq;
    this.#at = at;
    this.#resentAt = resentAt;
    this.#items = items;
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

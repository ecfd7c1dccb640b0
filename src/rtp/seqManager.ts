/**
 * Maps a wrapping input counter (RTP seq, VP8 picture id, TL0PICIDX) to a gap-free output counter, the
 * mediasoup SeqManager semantics: `sync(input)` rebases so the NEXT input continues right after the last
 * output (layer switch); `drop(input)` removes an input from the output space (filtered or padding-only
 * packets) so outputs stay contiguous; `insert(n)` reserves n outputs right after the last one for packets
 * the SFU makes itself (padding probes), so later inputs move up by n while earlier (late) inputs keep their
 * outputs; `input(x)` returns the output, or undefined for a dropped input.
 * Late and out-of-order inputs map consistently. Pure, no allocation on the hot path but the adjustment list.
 */
import { seqDiff, seqHigherThan, seqMask, type SeqBits } from './seq.js';

/** Adjustments (drops, inserts) kept for out-of-order mapping; older ones are folded into the base. */
const MAX_ADJUSTMENTS = 512;

/** Inputs after `at` (in wrap order) move by `delta`; a drop also removes `at` itself. */
interface Adjustment {
  at: number;
  delta: number;
  drop: boolean;
}

export class SeqManager {
  readonly #bits: SeqBits;
  readonly #mask: number;
  #base = 0;
  #maxInput = 0;
  #maxOutput = 0;
  #started = false;
  /** Drops and inserts after the last sync, in increasing wrap order of `at`. */
  #adj: Adjustment[] = [];

  constructor(bits: SeqBits) {
    this.#bits = bits;
    this.#mask = seqMask(bits);
  }

  get maxOutput(): number {
    return this.#maxOutput;
  }

  /** The next input after `input` maps to the last output + 1. */
  sync(input: number): void {
    this.#base = (input - this.#maxOutput) & this.#mask;
    this.#maxInput = input & this.#mask;
    this.#adj = [];
    this.#started = true;
  }

  /** `input` will never be forwarded: later inputs close the gap. */
  drop(input: number): void {
    const x = input & this.#mask;
    if (!this.#started) {
      this.sync((x - 1) & this.#mask);
    }
    if (!seqHigherThan(x, this.#maxInput, this.#bits)) {
      return; // old or duplicate inputs do not move the output space
    }
    this.#maxInput = x;
    this.#push({ at: x, delta: -1, drop: true });
  }

  /**
   * Reserves `n` outputs right after the last one (undefined before the first input): returns the first;
   * the next input continues after them.
   */
  insert(n: number): number | undefined {
    const count = Math.floor(n);
    if (!this.#started || count <= 0) {
      return undefined;
    }
    const first = (this.#maxOutput + 1) & this.#mask;
    this.#maxOutput = (this.#maxOutput + count) & this.#mask;
    this.#push({ at: this.#maxInput, delta: count, drop: false });
    return first;
  }

  #push(a: Adjustment): void {
    this.#adj.push(a);
    if (this.#adj.length > MAX_ADJUSTMENTS) {
      // Fold the oldest into the base: inputs older than it are too late to matter.
      const old = this.#adj.shift();
      if (old !== undefined) {
        this.#base = (this.#base - old.delta) & this.#mask;
      }
    }
  }

  /** The output for `input`, or undefined if it was dropped. */
  input(input: number): number | undefined {
    const x = input & this.#mask;
    if (!this.#started) {
      this.#started = true;
      this.#maxInput = x;
      this.#maxOutput = x;
      return x;
    }
    let shift = 0;
    for (const a of this.#adj) {
      if (a.drop && a.at === x) {
        return undefined;
      }
      if (seqDiff(x, a.at, this.#bits) > 0) {
        shift += a.delta;
      } else {
        break;
      }
    }
    const out = (x - this.#base + shift) & this.#mask;
    if (seqHigherThan(x, this.#maxInput, this.#bits)) {
      this.#maxInput = x;
    }
    if (seqHigherThan(out, this.#maxOutput, this.#bits)) {
      this.#maxOutput = out;
    }
    return out;
  }
}

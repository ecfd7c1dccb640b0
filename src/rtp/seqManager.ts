/**
 * Maps a wrapping input counter (RTP seq, VP8 picture id, TL0PICIDX) to a gap-free output counter, the
 * mediasoup SeqManager semantics: `sync(input)` rebases so the NEXT input continues right after the last
 * output (layer switch); `drop(input)` removes an input from the output space (filtered or padding-only
 * packets) so outputs stay contiguous; `input(x)` returns the output, or undefined for a dropped input.
 * Late and out-of-order inputs map consistently. Pure, no allocation on the hot path but the drop list.
 */
import { seqDiff, seqHigherThan, seqMask, type SeqBits } from './seq.js';

/** Dropped inputs kept for out-of-order mapping; older ones are folded into the base. */
const MAX_DROPPED = 512;

export class SeqManager {
  readonly #bits: SeqBits;
  readonly #mask: number;
  #base = 0;
  #maxInput = 0;
  #maxOutput = 0;
  #started = false;
  /** Dropped inputs after the last sync, in increasing wrap order. */
  #dropped: number[] = [];

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
    this.#dropped = [];
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
    this.#dropped.push(x);
    if (this.#dropped.length > MAX_DROPPED) {
      // Fold the oldest drop into the base: inputs older than it are too late to matter.
      this.#dropped.shift();
      this.#base = (this.#base + 1) & this.#mask;
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
    let skipped = 0;
    for (const d of this.#dropped) {
      if (d === x) {
        return undefined;
      }
      if (seqDiff(x, d, this.#bits) > 0) {
        skipped++;
      } else {
        break;
      }
    }
    const out = (x - this.#base - skipped) & this.#mask;
    if (seqHigherThan(x, this.#maxInput, this.#bits)) {
      this.#maxInput = x;
    }
    if (seqHigherThan(out, this.#maxOutput, this.#bits)) {
      this.#maxOutput = out;
    }
    return out;
  }
}

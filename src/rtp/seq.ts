/** Wrapping counter arithmetic for 8-, 15- and 16-bit fields (RTP seq, VP8 picture id, TL0PICIDX). Pure. */
export type SeqBits = 8 | 15 | 16;

export function seqMask(bits: SeqBits): number {
  return (1 << bits) - 1;
}

/** `a` is after `b` in wrap order (within half the range). */
export function seqHigherThan(a: number, b: number, bits: SeqBits): boolean {
  const diff = (a - b) & seqMask(bits);
  return diff !== 0 && diff < 1 << (bits - 1);
}

/** Signed distance from `b` to `a` in wrap order, in (-half, half]. */
export function seqDiff(a: number, b: number, bits: SeqBits): number {
  const mask = seqMask(bits);
  const d = (a - b) & mask;
  return d > 1 << (bits - 1) ? d - mask - 1 : d;
}

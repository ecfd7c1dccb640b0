/**
 * Orders a published video track's simulcast layers from lowest to highest quality (protocol.md §7): rid
 * names never fix the order. Criteria, the first one known for EVERY layer wins: resolution from `a=rid`
 * restrictions; resolution measured from keyframes; a known rid naming scheme (`q<h<f`, `l<m<h`, ...);
 * measured bitrate; else the order of the offer's `a=rid` lines. Pure.
 */

export interface Size {
  width: number;
  height: number;
}

export interface LayerFacts {
  rid: string | undefined;
  /** max-width/max-height from the `a=rid` line. */
  restricted?: Size;
  /** From the last keyframe. */
  measured?: Size;
  bitrateBps?: number;
}

const RID_SCHEMES: readonly (readonly string[])[] = [
  ['q', 'h', 'f'],
  ['l', 'm', 'h'],
  ['low', 'mid', 'high'],
  ['low', 'medium', 'high'],
  ['0', '1', '2'],
  ['r0', 'r1', 'r2'],
];

function area(s: Size): number {
  return s.width * s.height;
}

function byKey(indices: number[], key: (i: number) => number): number[] {
  return [...indices].sort((a, b) => key(a) - key(b) || a - b);
}

/** Indices of `layers`, lowest quality first. */
export function orderLayers(layers: readonly LayerFacts[]): number[] {
  const idx = layers.map((_, i) => i);
  if (layers.length <= 1) {
    return idx;
  }
  const restricted = layers.map((l) => l.restricted);
  if (restricted.every((r) => r !== undefined)) {
    return byKey(idx, (i) => area(restricted[i] as Size));
  }
  const measured = layers.map((l) => l.measured);
  if (measured.every((m) => m !== undefined)) {
    return byKey(idx, (i) => area(measured[i] as Size));
  }
  const rids = layers.map((l) => l.rid?.toLowerCase() ?? '');
  for (const scheme of RID_SCHEMES) {
    if (rids.every((r) => scheme.includes(r))) {
      return byKey(idx, (i) => scheme.indexOf(rids[i] ?? ''));
    }
  }
  const bitrates = layers.map((l) => l.bitrateBps ?? 0);
  if (bitrates.every((b) => b > 0)) {
    return byKey(idx, (i) => bitrates[i] ?? 0);
  }
  return idx;
}

/**
 * The resolution to choose a layer by: measured, else the rid restriction, else derived from the size the
 * publisher declared in its metadata (the top layer has it, each lower one half of the next), else undefined.
 * `rank` is the layer's position in {@link orderLayers} order and `count` the number of layers.
 */
export function effectiveSize(
  facts: LayerFacts,
  rank: number,
  count: number,
  declared: Size | undefined,
): Size | undefined {
  if (facts.measured !== undefined) {
    return facts.measured;
  }
  if (facts.restricted !== undefined) {
    return facts.restricted;
  }
  return declaredSizeAt(rank, count, declared);
}

/**
 * The size the publisher's declared (top-layer) size implies for the layer at `rank` of `count`: each lower
 * layer half of the next. Undefined without a usable declared size.
 */
export function declaredSizeAt(rank: number, count: number, declared: Size | undefined): Size | undefined {
  if (declared !== undefined && declared.width > 0 && declared.height > 0) {
    const div = 2 ** (count - 1 - rank);
    return { width: Math.round(declared.width / div), height: Math.round(declared.height / div) };
  }
  return undefined;
}

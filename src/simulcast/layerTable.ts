/**
 * The layer table of one published video track: every simulcast layer (one row without simulcast) with
 * what is known about it — rid, SSRC, the size its `a=rid` line restricts it to, the size measured from its
 * keyframes, the size the publisher's declared track size implies, its bitrate, whether RTP flows — in
 * quality order (layerOrder.ts), with the size layer choice uses (selectLayer.ts). Built from the
 * publisher side's bookkeeping whenever a choice is made; pure.
 */
import { declaredSizeAt, effectiveSize, orderLayers, type LayerFacts, type Size } from './layerOrder.js';
import type { SelectableLayer } from './selectLayer.js';

/** What the publisher side knows about one layer (`id` is its stable index in the track). */
export interface LayerState {
  readonly id: number;
  readonly rid: string | undefined;
  readonly ssrc: number | undefined;
  readonly restricted: Size | undefined;
  readonly measured: Size | undefined;
  readonly bitrateBps: number | undefined;
  readonly active: boolean;
}

export interface LayerRow extends SelectableLayer {
  readonly id: number;
  /** Position in quality order, 0 = lowest. */
  readonly rank: number;
  readonly rid: string | undefined;
  readonly ssrc: number | undefined;
  readonly restricted: Size | undefined;
  readonly measured: Size | undefined;
  /** Implied by the track's declared size for this rank (undefined without one). */
  readonly declared: Size | undefined;
}

export interface LayerTable {
  /** Layer ids, lowest quality first. */
  readonly ids: readonly number[];
  /** The rows in the same order (what selection reads: size, active, bitrate). */
  readonly layers: readonly LayerRow[];
  /**
   * Simulcast layers none of whose sizes is known yet while they are expected soon (the first keyframes, a
   * link's announcement with sizes): selection starts a subscriber that asked for a size on the lowest layer.
   */
  readonly sizesPending?: boolean;
}

function facts(l: LayerState): LayerFacts {
  const f: LayerFacts = { rid: l.rid };
  if (l.restricted !== undefined) {
    f.restricted = l.restricted;
  }
  if (l.measured !== undefined) {
    f.measured = l.measured;
  }
  if (l.bitrateBps !== undefined) {
    f.bitrateBps = l.bitrateBps;
  }
  return f;
}

/**
 * `layers` in any order (by id); `declared` is the publisher's declared size of the track (its top layer);
 * `awaitingSizes`: the track is young enough that its layers' sizes are still expected (see `sizesPending`).
 */
export function layerTable(
  layers: readonly LayerState[],
  declared: Size | undefined,
  awaitingSizes = false,
): LayerTable {
  const all = layers.map(facts);
  const order = orderLayers(all);
  const ids: number[] = [];
  const rows: LayerRow[] = [];
  for (let rank = 0; rank < order.length; rank++) {
    const i = order[rank] ?? -1;
    const l = layers[i];
    const f = all[i];
    if (l === undefined || f === undefined) {
      continue;
    }
    ids.push(l.id);
    const row: { -readonly [K in keyof LayerRow]: LayerRow[K] } = {
      id: l.id,
      rank,
      rid: l.rid,
      ssrc: l.ssrc,
      restricted: l.restricted,
      measured: l.measured,
      declared: declaredSizeAt(rank, order.length, declared),
      size: effectiveSize(f, rank, order.length, declared),
      active: l.active,
    };
    if (l.bitrateBps !== undefined) {
      row.bitrateBps = l.bitrateBps;
    }
    rows.push(row);
  }
  fillFromNeighbours(rows);
  const sizesPending = awaitingSizes && rows.length > 1 && rows.every((r) => r.size === undefined);
  return { ids, layers: rows, sizesPending };
}

/**
 * A layer whose size is not known yet (no keyframe measured, no restriction, no declared size) while another
 * layer's is: derived from the nearest layer with a known size, twice as small per rank below it (twice as large
 * per rank above), the usual simulcast ladder. Without it a subscriber asking 320×180 of a track whose top layer
 * was measured first would be given the top layer until the lower ones' first keyframes (on a link, the top layer
 * was then requested across the trunk and held there for the demand's 2 s).
 */
function fillFromNeighbours(rows: { size: Size | undefined }[]): void {
  const known = rows.map((r) => r.size);
  if (known.every((s) => s !== undefined) || known.every((s) => s === undefined)) {
    return;
  }
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row === undefined || row.size !== undefined) {
      continue;
    }
    for (let d = 1; d < rows.length; d++) {
      const above = known[i + d];
      const below = known[i - d];
      const from = above ?? below;
      if (from !== undefined) {
        const f = above !== undefined ? 2 ** -d : 2 ** d;
        row.size = { width: Math.round(from.width * f), height: Math.round(from.height * f) };
        break;
      }
    }
  }
}

/** A layer's position in quality order (0 = lowest), -1 if it is not in the table. */
export function rankOf(table: LayerTable, id: number): number {
  return table.ids.indexOf(id);
}

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

/** `layers` in any order (by id); `declared` is the publisher's declared size of the track (its top layer). */
export function layerTable(layers: readonly LayerState[], declared: Size | undefined): LayerTable {
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
  return { ids, layers: rows };
}

/** A layer's position in quality order (0 = lowest), -1 if it is not in the table. */
export function rankOf(table: LayerTable, id: number): number {
  return table.ids.indexOf(id);
}

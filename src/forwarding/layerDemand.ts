/**
 * The receiving focus's demand for one relayed video track, as a set of layers (protocol.md §8.3), pure.
 *
 * - Demanded: the union of the layers currently selected for its local subscribers (after their bandwidth
 *   caps) and the layers pending switches target; a layer stays demanded `lingerMs` (2 s) after the update
 *   that first saw it without a user (so a subscriber bouncing between layers does not flap the trunk).
 * - `keepLowestLayer` (`cascade.keep_lowest_layer`) adds the lowest layer whenever any layer is demanded
 *   (an empty set stays empty: the track is then unsubscribed as a whole).
 * - Rids not in the track's metadata are ignored; the set is reported in metadata order (lowest first).
 * - `update` says whether the set changed since the last one reported; `nextChangeAt` is when a lingering
 *   layer expires (the caller's next update, without a timer here).
 * - `relayedDemand` is the whole request for a relayed track: the subscribers' current, target and *wanted*
 *   layers (what each would choose if every layer flowed), then `withFallbacks`. A layer the sending focus
 *   paused (§8.5) thus stays demanded while anyone wants it — so the sender keeps probing for it and resumes
 *   it once it fits — and the layers below it down to one that flows are demanded too, so subscribers have
 *   something to watch meanwhile. §8.3 read literally (only selected layers) deadlocks: a paused layer is no
 *   one's selection, drops out of the demand after 2 s, and nothing probes for it again.
 */

export interface LayerDemandOptions {
  lingerMs: number;
  keepLowestLayer: boolean;
}

export const DEFAULT_LAYER_DEMAND_OPTIONS: LayerDemandOptions = { lingerMs: 2000, keepLowestLayer: false };

export interface LayerDemandResult {
  /** Rids to request, lowest first; empty = nothing (unsubscribe the track). */
  readonly layers: readonly string[];
  readonly changed: boolean;
}

export class LayerDemand {
  readonly #o: LayerDemandOptions;
  #rids: readonly string[];
  /** Per demanded rid: NaN while in use, else when it was first seen without a user. */
  readonly #released = new Map<string, number>();
  #last: readonly string[] = [];

  constructor(rids: readonly string[], options: Partial<LayerDemandOptions> = {}) {
    this.#o = { ...DEFAULT_LAYER_DEMAND_OPTIONS, ...options };
    this.#rids = [...rids];
  }

  /** The last reported set. */
  get layers(): readonly string[] {
    return this.#last;
  }

  /** The track's layers changed (metadata): rids no longer present are forgotten at the next update. */
  setRids(rids: readonly string[]): void {
    this.#rids = [...rids];
  }

  update(selected: Iterable<string>, pending: Iterable<string>, now: number): LayerDemandResult {
    const used = new Set<string>();
    for (const r of selected) {
      used.add(r);
    }
    for (const r of pending) {
      used.add(r);
    }
    const known = new Set(this.#rids);
    for (const rid of [...this.#released.keys()]) {
      if (!known.has(rid)) {
        this.#released.delete(rid);
      }
    }
    for (const rid of this.#rids) {
      if (used.has(rid)) {
        this.#released.set(rid, Number.NaN);
        continue;
      }
      const at = this.#released.get(rid);
      if (at === undefined) {
        continue;
      }
      if (Number.isNaN(at)) {
        this.#released.set(rid, now); // its last user just went
      } else if (now - at >= this.#o.lingerMs) {
        this.#released.delete(rid);
      }
    }
    const lowest = this.#rids[0];
    const keepLowest = this.#o.keepLowestLayer && this.#released.size > 0;
    const layers = this.#rids.filter((rid) => this.#released.has(rid) || (keepLowest && rid === lowest));
    const changed = !sameList(layers, this.#last);
    this.#last = layers;
    return { layers, changed };
  }

  /** When the earliest lingering layer expires, or undefined when none lingers. */
  nextChangeAt(): number | undefined {
    let next: number | undefined;
    for (const at of this.#released.values()) {
      if (!Number.isNaN(at)) {
        const end = at + this.#o.lingerMs;
        next = next === undefined ? end : Math.min(next, end);
      }
    }
    return next;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The demand with fallbacks (protocol.md §8.3): for every demanded layer the sender announced paused (§8.5: not in
 * `sending`), the layers below it down to the first one the sender does send (or the lowest), so the receiving
 * focus's subscribers have a flowing layer to switch down to while the paused one waits for the estimate. Without
 * an announcement (`sending` undefined) the demand is unchanged. `ordered`: the track's rids, lowest first. The
 * result keeps `ordered`'s order; rids not in `ordered` are kept as they are, at the end.
 */
export function withFallbacks(
  demanded: readonly string[],
  ordered: readonly string[],
  sending: ReadonlySet<string> | undefined,
): string[] {
  if (sending === undefined || demanded.length === 0) {
    return [...demanded];
  }
  const want = new Set(demanded);
  for (let i = ordered.length - 1; i > 0; i--) {
    const rid = ordered[i];
    if (rid === undefined || !want.has(rid) || sending.has(rid)) {
      continue;
    }
    for (let j = i - 1; j >= 0; j--) {
      const lower = ordered[j];
      if (lower === undefined) {
        break;
      }
      want.add(lower);
      if (sending.has(lower)) {
        break;
      }
    }
  }
  const out = ordered.filter((r) => want.has(r));
  for (const r of demanded) {
    if (!ordered.includes(r)) {
      out.push(r);
    }
  }
  return out;
}

/** What one local subscriber of a relayed track uses (rids; undefined: none). */
export interface LayerUse {
  readonly current: string | undefined;
  readonly target: string | undefined;
  readonly wanted: string | undefined;
}

/**
 * The rids to request for a relayed video track with local subscribers (see the header): never empty — with
 * no layer used, the lowest `available` (else the lowest announced) layer, so a subscriber that has nothing
 * yet gets a start. `constrained` (the link's sender is pausing demanded layers, relayedTracks.ts): the
 * lowest layer is demanded too. The sender's allocation (§8.5) puts each track's lowest *demanded* layer
 * first and upgrades after; a track whose subscriber wants only 1280×720 had that as its lowest, so under a
 * tight budget the first tracks' top layers went before the last tracks' smallest ones and those subscribers
 * got no video at all (`cascade-cpu` at a 12 Mbit/s cap: 2 of 8 for 30 s). With the lowest layer demanded,
 * every track's smallest layer goes first and the top layers are the upgrades.
 */
export function relayedDemand(
  demand: LayerDemand,
  uses: readonly LayerUse[],
  ordered: readonly string[],
  sending: ReadonlySet<string> | undefined,
  available: readonly string[],
  now: number,
  constrained = false,
): string[] {
  const selected: string[] = [];
  const pending: string[] = [];
  for (const u of uses) {
    if (u.current !== undefined) {
      selected.push(u.current);
    }
    if (u.target !== undefined) {
      pending.push(u.target);
    }
    if (u.wanted !== undefined && u.wanted !== u.target) {
      pending.push(u.wanted);
    }
  }
  const layers = withFallbacks(demand.update(selected, pending, now).layers, ordered, sending);
  if (layers.length > 0) {
    const lowest = ordered[0];
    return constrained && lowest !== undefined && !layers.includes(lowest) ? [lowest, ...layers] : layers;
  }
  const lowest = available[0] ?? ordered[0];
  return lowest === undefined ? [] : [lowest];
}

/**
 * The layer table of one published track: its simulcast layers (one per rid, else a single layer), each
 * bound to the SSRC it currently arrives on, with per-layer activity (a layer without RTP for 2 s is not
 * flowing, protocol.md §7; for a track relayed over a link, a layer is selectable iff it is announced and in the
 * remote focus's sending set, protocol.md §8.3, whether RTP flows or not), bitrate window, measured keyframe size, `a=rid` restriction, last sender report
 * and loss tracking (NACK, receiver report statistics); for `SIZE_WAIT_MS` after its first layer, whether layer sizes are still awaited. Selection
 * order comes from simulcast/layerOrder.ts. No I/O.
 */
import type { SenderClock } from '../forwarding/rtpClock.js';
import type { NackGenerator } from '../rtp/nackGenerator.js';
import type { ReceptionStats } from '../rtp/receptionStats.js';
import type { Size } from '../simulcast/layerOrder.js';
import { layerTable } from '../simulcast/layerTable.js';
import type { SelectableView } from './track.js';

/** A layer without RTP for this long is not flowing (protocol.md §7). */
export const LAYER_STALL_MS = 2000;
/**
 * How long after its first layer a simulcast track's layer sizes are waited for (protocol.md §7): until one is
 * known or this passes, a subscriber asking for a size starts on the lowest layer.
 */
export const SIZE_WAIT_MS = 1000;
const BITRATE_WINDOW_MS = 1000;

export interface Layer {
  readonly id: number;
  readonly rid: string | undefined;
  ssrc: number | undefined;
  lastPacketAt: number | undefined;
  active: boolean;
  measured: Size | undefined;
  restricted: Size | undefined;
  windowStart: number;
  windowBytes: number;
  bitrateBps: number | undefined;
  sr: (SenderClock & { receivedAt: number }) | undefined;
  /** Loss tracking of the layer's current SSRC (only when the m-line negotiated `nack`). */
  nack: NackGenerator | undefined;
  /** Reception statistics of the current SSRC, for receiver reports (layerReception.ts; when the track reports). */
  reception: ReceptionStats | undefined;
  /** When a packet of the layer was last decrypted, and a keyframe of it last asked for (layerSkip.ts). */
  decryptedAt: number | undefined;
  keyframeAskedAt: number | undefined;
}

/** What a layer showed when the cached table was built (TrackLayers.selectable). */
interface Seen {
  readonly active: boolean;
  readonly ssrc: number | undefined;
  readonly measured: Size | undefined;
  readonly restricted: Size | undefined;
  readonly bitrateBps: number | undefined;
}

/**
 * How a layer's activity is decided: `rtp` — by RTP flow (a client's layers); `announced` — by what the sender
 * announces it sends (`setAvailable`; a relayed track: an undemanded layer carries no RTP yet stays selectable).
 */
export type LayerActivity = 'rtp' | 'announced';

export class TrackLayers {
  readonly activity: LayerActivity;
  readonly #layers: Layer[] = [];
  readonly #byRid = new Map<string, Layer>();
  readonly #bySsrc = new Map<number, Layer>();
  #startedAt: number | undefined;
  #awaitingSizes = true;
  /** The last table `selectable` built, and what it was built from. */
  #table: SelectableView | undefined;
  #tableDeclared: Size | undefined;
  #tableAwaiting = true;
  readonly #seen: Seen[] = [];

  constructor(activity: LayerActivity = 'rtp') {
    this.activity = activity;
  }

  /**
   * `announced` mode: the layers whose rid is in `rids` are selectable, the others not (a layer without rid
   * always is). True when a layer's activity changed. Ignored in `rtp` mode.
   */
  setAvailable(rids: ReadonlySet<string>): boolean {
    if (this.activity !== 'announced') {
      return false;
    }
    let changed = false;
    for (const l of this.#layers) {
      const active = l.rid === undefined || rids.has(l.rid);
      if (active !== l.active) {
        l.active = active;
        changed = true;
      }
    }
    return changed;
  }

  /** Adds layers for new rids (existing ones keep their state; restrictions are updated). */
  updateRids(rids: readonly string[], restrictions: ReadonlyMap<string, Size>, now: number): void {
    for (const rid of rids) {
      const existing = this.#byRid.get(rid);
      if (existing !== undefined) {
        existing.restricted = restrictions.get(rid);
        continue;
      }
      const layer = this.#newLayer(rid, now);
      layer.restricted = restrictions.get(rid);
      this.#byRid.set(rid, layer);
    }
    if (this.#layers.length === 0) {
      this.#newLayer(undefined, now);
    }
  }

  get simulcast(): boolean {
    return this.#byRid.size > 0;
  }

  get all(): readonly Layer[] {
    return this.#layers;
  }

  get(id: number): Layer | undefined {
    return this.#layers[id];
  }

  bySsrc(ssrc: number): Layer | undefined {
    return this.#bySsrc.get(ssrc);
  }

  /** The SSRCs currently bound to layers. */
  ssrcs(): number[] {
    return [...this.#bySsrc.keys()];
  }

  /**
   * The layer of a packet: by rid (re-binding the rid's layer to a new SSRC), else by a bound SSRC; without
   * simulcast a new SSRC (e.g. a restarted encoder) replaces the single layer's. Undefined: not this track's.
   */
  layerFor(ssrc: number, rid: string | undefined): Layer | undefined {
    if (rid !== undefined) {
      const layer = this.#byRid.get(rid);
      if (layer !== undefined && layer.ssrc !== ssrc) {
        this.#bind(layer, ssrc);
      }
      return layer;
    }
    const known = this.#bySsrc.get(ssrc);
    if (known !== undefined || this.simulcast) {
      return known;
    }
    const only = this.#layers[0];
    if (only !== undefined) {
      this.#bind(only, ssrc);
      only.sr = undefined;
    }
    return only;
  }

  /**
   * Layers lowest quality first, with what selection needs (`declared`: the size from metadata). The table is
   * built again only when something it shows changed (a layer's activity, SSRC, sizes or bitrate window, the
   * declared size, the wait for sizes); else the last one is returned — it is never modified. Layer choice,
   * allocation, REMB, link metadata and trunk congestion control read it several times a tick per track; built
   * per call it was most of a link tick's garbage (bench/README.md).
   */
  selectable(declared: Size | undefined): SelectableView {
    const t = this.#table;
    if (
      t !== undefined &&
      declared === this.#tableDeclared &&
      this.#awaitingSizes === this.#tableAwaiting &&
      this.#same()
    ) {
      return t;
    }
    const table = layerTable(this.#layers, declared, this.#awaitingSizes);
    this.#table = table;
    this.#tableDeclared = declared;
    this.#tableAwaiting = this.#awaitingSizes;
    this.#seen.length = 0;
    for (const l of this.#layers) {
      this.#seen.push({
        active: l.active,
        ssrc: l.ssrc,
        measured: l.measured,
        restricted: l.restricted,
        bitrateBps: l.bitrateBps,
      });
    }
    return table;
  }

  /** Whether every layer shows what it showed when the cached table was built. */
  #same(): boolean {
    const seen = this.#seen;
    const layers = this.#layers;
    if (seen.length !== layers.length) {
      return false;
    }
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i] as Layer;
      const v = seen[i] as Seen;
      if (
        l.active !== v.active ||
        l.ssrc !== v.ssrc ||
        l.measured !== v.measured ||
        l.restricted !== v.restricted ||
        l.bitrateBps !== v.bitrateBps
      ) {
        return false;
      }
    }
    return true;
  }

  /** Layer stalls and bitrate windows; true when a layer's activity changed. */
  tick(now: number): boolean {
    let changed = false;
    if (this.#awaitingSizes && this.#startedAt !== undefined && now - this.#startedAt >= SIZE_WAIT_MS) {
      this.#awaitingSizes = false;
      // No size came: a sized choice goes back to the largest for unknown sizes (a change only if none is known).
      changed =
        this.#layers.length > 1 &&
        this.#layers.every((l) => l.measured === undefined && l.restricted === undefined);
    }
    for (const l of this.#layers) {
      const active =
        this.activity === 'announced'
          ? l.active
          : l.lastPacketAt !== undefined && now - l.lastPacketAt < LAYER_STALL_MS;
      if (active !== l.active) {
        l.active = active;
        changed = true;
      }
      const elapsed = now - l.windowStart;
      if (elapsed >= BITRATE_WINDOW_MS) {
        l.bitrateBps =
          l.lastPacketAt === undefined ? undefined : Math.round((l.windowBytes * 8000) / elapsed);
        l.windowBytes = 0;
        l.windowStart = now;
      }
    }
    return changed;
  }

  #bind(layer: Layer, ssrc: number): void {
    if (layer.ssrc !== undefined) {
      this.#bySsrc.delete(layer.ssrc);
    }
    layer.ssrc = ssrc;
    layer.nack = undefined;
    layer.reception = undefined;
    layer.decryptedAt = undefined;
    this.#bySsrc.set(ssrc, layer);
  }

  #newLayer(rid: string | undefined, now: number): Layer {
    this.#startedAt ??= now;
    const layer: Layer = {
      id: this.#layers.length,
      rid,
      ssrc: undefined,
      lastPacketAt: undefined,
      active: false,
      measured: undefined,
      restricted: undefined,
      windowStart: now,
      windowBytes: 0,
      bitrateBps: undefined,
      sr: undefined,
      nack: undefined,
      reception: undefined,
      decryptedAt: undefined,
      keyframeAskedAt: undefined,
    };
    this.#layers.push(layer);
    return layer;
  }
}

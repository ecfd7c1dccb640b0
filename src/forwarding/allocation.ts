/**
 * Bandwidth allocation for one subscriber connection (README "Subscriber bandwidth"), pure: the estimate is
 * shared evenly by the connection's forwarded video tracks after what its audio takes, and each video track's
 * share caps its layer choice (simulcast/selectLayer.ts). A cap that holds a track below the layer its
 * requested size wants is what a probe (forwarding/probePolicy.ts) tries to lift.
 */
import { selectLayer, type SelectableLayer } from '../simulcast/selectLayer.js';

/** One forwarded stream of the connection: its kind and what it sends now (bit/s). */
export interface StreamRate {
  readonly video: boolean;
  readonly rateBps: number;
}

export interface SendTotals {
  /** Everything the connection's streams send (media, without probes), bit/s. */
  readonly sendBps: number;
  readonly audioBps: number;
  readonly videoCount: number;
}

export function sendTotals(streams: readonly StreamRate[]): SendTotals {
  let sendBps = 0;
  let audioBps = 0;
  let videoCount = 0;
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i] as StreamRate; // indexed: no iterator objects where this runs unoptimized
    sendBps += s.rateBps;
    if (s.video) {
      videoCount++;
    } else {
      audioBps += s.rateBps;
    }
  }
  return { sendBps, audioBps, videoCount };
}

/**
 * Each video track's share of `estimateBps` (bit/s): what audio leaves (at least 1 bit/s) split evenly;
 * Infinity (no cap) while the estimate is unknown.
 */
export function videoCapBps(estimateBps: number, totals: SendTotals): number {
  if (!Number.isFinite(estimateBps)) {
    return estimateBps;
  }
  return Math.max(1, estimateBps - totals.audioBps) / Math.max(1, totals.videoCount);
}

/** What the subscriber asked of one video track. */
export interface LayerWant {
  readonly width: number;
  readonly height: number;
  readonly muted: boolean;
}

/**
 * The layer (index into `layers`, lowest first) for `want` under `capBps` (Infinity or ≤ 0: no cap);
 * `sizesPending`: the table's (layerTable.ts).
 */
export function layerUnderCap(
  layers: readonly SelectableLayer[],
  want: LayerWant,
  capBps: number,
  sizesPending = false,
): number | undefined {
  return selectLayer(layers, {
    width: want.width,
    height: want.height,
    muted: want.muted,
    ...(Number.isFinite(capBps) && capBps > 0 ? { maxBitrateBps: capBps } : {}),
    ...(sizesPending ? { sizesPending } : {}),
  });
}

/**
 * The layer `want` would get under `capBps` if every layer flowed (a stalled or paused one counted as flowing):
 * on a link, what a subscriber of a relayed track keeps demanded while the sending focus pauses it (§8.5).
 */
export function layerIfAllFlowed(
  layers: readonly SelectableLayer[],
  want: LayerWant,
  capBps: number,
  sizesPending = false,
): number | undefined {
  return layerUnderCap(
    layers.map((l) => (l.active ? l : { ...l, active: true })),
    want,
    capBps,
    sizesPending,
  );
}

/**
 * When `capBps` holds the choice below the layer `want` alone gets: the bitrate of the next flowing layer
 * above the capped one whose rate is measured (what a probe must show fits). Undefined when nothing is held
 * back, there is no cap, or no such rate is known.
 */
export function heldBackBitrate(
  layers: readonly SelectableLayer[],
  want: LayerWant,
  capBps: number,
): number | undefined {
  if (!Number.isFinite(capBps) || capBps <= 0) {
    return undefined;
  }
  const uncapped = layerUnderCap(layers, want, Number.POSITIVE_INFINITY);
  const capped = layerUnderCap(layers, want, capBps);
  if (uncapped === undefined || capped === undefined || capped >= uncapped) {
    return undefined;
  }
  for (let i = capped + 1; i <= uncapped; i++) {
    const l = layers[i];
    if (l?.active === true && l.bitrateBps !== undefined) {
      return l.bitrateBps;
    }
  }
  return undefined;
}

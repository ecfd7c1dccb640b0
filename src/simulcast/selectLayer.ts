/**
 * Layer choice for one subscriber of one video track (protocol.md §7, waterfall getOptimalLayer): the
 * smallest layer whose resolution is at least the requested width × height (the largest if none is, or if no
 * size was requested; the lowest while no layer's size is known but sizes are expected soon), then lowered
 * while it exceeds the subscriber's bitrate cap (the seam for bandwidth estimation). Layers without RTP for a while are skipped unless the track is muted; when the preferred layer
 * is not flowing, the best flowing layer below it is used, else the lowest flowing one above it. Pure.
 */
import type { Size } from './layerOrder.js';

export interface SelectableLayer {
  /** Resolution used for the choice; undefined = unknown (never "fits" a requested size). */
  size: Size | undefined;
  /** RTP seen recently. */
  active: boolean;
  bitrateBps?: number;
}

export interface LayerRequest {
  /** 0 = unconstrained. */
  width: number;
  height: number;
  /** The track is muted: stalled layers are not skipped (no packets is expected). */
  muted?: boolean;
  /** Bitrate cap from bandwidth estimation; undefined = none. */
  maxBitrateBps?: number;
  /** No layer's size is known yet but sizes are expected soon (layerTable `sizesPending`): a sized request starts on the lowest layer. */
  sizesPending?: boolean;
}

function fits(size: Size | undefined, req: LayerRequest): boolean {
  return size !== undefined && size.width >= req.width && size.height >= req.height;
}

/**
 * `layers` lowest quality first. Returns the chosen index, or undefined when no layer can be forwarded
 * (none at all, or none flowing and the track is not muted).
 */
export function selectLayer(layers: readonly SelectableLayer[], req: LayerRequest): number | undefined {
  const n = layers.length;
  if (n === 0) {
    return undefined;
  }
  const usable = (i: number): boolean => req.muted === true || layers[i]?.active === true;
  let preferred = n - 1;
  if ((req.width > 0 || req.height > 0) && req.sizesPending === true) {
    preferred = 0; // start small; the choice moves up once the layers' sizes are known
  } else if (req.width > 0 || req.height > 0) {
    for (let i = 0; i < n; i++) {
      if (fits(layers[i]?.size, req)) {
        preferred = i;
        break;
      }
    }
  }
  if (req.maxBitrateBps !== undefined) {
    while (preferred > 0) {
      const br = layers[preferred]?.bitrateBps;
      if (br === undefined || br <= req.maxBitrateBps) {
        break;
      }
      preferred--;
    }
  }
  for (let i = preferred; i >= 0; i--) {
    if (usable(i)) {
      return i;
    }
  }
  for (let i = preferred + 1; i < n; i++) {
    if (usable(i)) {
      return i;
    }
  }
  return undefined;
}

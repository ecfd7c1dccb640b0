/**
 * What to tell a publisher it may send (issue 16 step 6: let publishers stop what nobody watches): the REMB to
 * a client as a publisher follows what its video layers are wanted for, instead of a fixed
 * `media.publisher_remb_bps`. Browsers allocate a simulcast track's bitrate from the lowest layer up and pause
 * a layer the estimate cannot cover (Chromium: each lower layer's target, then the next layer's minimum), and
 * they cap their estimate by the REMB — so a REMB covering the layers up to the highest one wanted, and not
 * the next one's minimum beyond them, makes the browser stop encoding and sending the layers above.
 *
 * - A track's need: its layers up to the highest one anyone wants (for a subscriber, what its size asks for if
 *   every layer flowed — not what its bandwidth allows: a subscriber held down by its estimate climbs back by
 *   probing toward a layer that flows, so a layer it wants by size keeps being sent; a link's demanded layers), each at the larger of its measured rate and what a browser gives a layer of its
 *   size (`layerBudgetBps`, Chromium's simulcast table); nobody wants the track: its lowest layer. Without
 *   simulcast there is nothing to pause, and the track needs the cap.
 * - The REMB: the tracks' needs × `REMB_HEADROOM`, plus `AUDIO_ALLOWANCE_BPS` when the client publishes audio,
 *   at most the cap.
 * - `RembHold`: the REMB is the highest need of the last `REMB_HOLD_MS`: a rise is sent at once, a fall only once
 *   the need stayed lower that long (a subscriber resizing for a moment does not cost the publisher its top
 *   layer; measured with Chromium 156, a paused top layer was encoded again ≈ 1 s after the REMB rose), and a
 *   new publisher gets the cap for that long, so its browser's start-up phase reaches every layer.
 */
import type { Size } from '../simulcast/layerOrder.js';
import { RecentMax } from './recentMax.js';

export const REMB_HEADROOM = 1.1;
export const AUDIO_ALLOWANCE_BPS = 50_000;
export const REMB_HOLD_MS = 10_000;

/** One layer of a published video track, lowest quality first. */
export interface DemandLayer {
  readonly size: Size | undefined;
  /** Measured over the last window (0 or undefined while it does not flow). */
  readonly bitrateBps?: number | undefined;
}

export interface TrackDemand {
  readonly layers: readonly DemandLayer[];
  /** The rank (0 = lowest) of the highest layer anyone wants; undefined: nobody wants the track. */
  readonly wantedRank: number | undefined;
}

/**
 * What a browser sends on a layer of this size at most (Chromium's simulcast table, by height: 180p 200 kbit/s,
 * 270p 450, 360p 700, 540p 1,200, 720p 2,500, above 5,000); a layer of unknown size: the 720p figure.
 */
export function layerBudgetBps(size: Size | undefined): number {
  const h = size === undefined ? 720 : Math.min(size.width, size.height);
  if (h <= 180) {
    return 200_000;
  }
  if (h <= 270) {
    return 450_000;
  }
  if (h <= 360) {
    return 700_000;
  }
  if (h <= 540) {
    return 1_200_000;
  }
  if (h <= 720) {
    return 2_500_000;
  }
  return 5_000_000;
}

/** A track's need (bit/s): its layers up to the wanted one (the lowest if none), each at max(measured, budget). */
export function trackNeedBps(t: TrackDemand, capBps: number): number {
  if (t.layers.length <= 1) {
    return capBps;
  }
  const top = Math.min(Math.max(t.wantedRank ?? 0, 0), t.layers.length - 1);
  let sum = 0;
  for (let r = 0; r <= top; r++) {
    const l = t.layers[r] as DemandLayer;
    sum += Math.max(l.bitrateBps ?? 0, layerBudgetBps(l.size));
  }
  return sum;
}

/** The REMB for one publisher transport's video tracks (and whether it publishes audio), within its bounds. */
export function demandRembBps(tracks: readonly TrackDemand[], audio: boolean, capBps: number): number {
  let need = 0;
  for (const t of tracks) {
    need += trackNeedBps(t, capBps);
    if (need >= capBps) {
      return capBps;
    }
  }
  const remb = Math.round(need * REMB_HEADROOM) + (audio ? AUDIO_ALLOWANCE_BPS : 0);
  return Math.min(capBps, remb);
}

/** Needs are computed about once a second: the hold's ring keeps this many (a faster caller holds less). */
const HOLD_SAMPLES = 32;

/**
 * The REMB actually sent: the highest need computed over the last `REMB_HOLD_MS` (a rise is sent at once, a
 * fall once the higher needs are that old), and the cap for the first `REMB_HOLD_MS`.
 */
export class RembHold {
  readonly #capBps: number;
  readonly #since: number;
  readonly #needs = new RecentMax(HOLD_SAMPLES);

  constructor(capBps: number, now: number) {
    this.#capBps = capBps;
    this.#since = now;
  }

  /** The REMB to send now for a computed need `bps`. */
  next(bps: number, now: number): number {
    this.#needs.record(now, bps);
    if (now - this.#since < REMB_HOLD_MS) {
      return this.#capBps;
    }
    return this.#needs.max(now, REMB_HOLD_MS);
  }
}

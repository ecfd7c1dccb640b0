/**
 * The REMB each publisher transport gets (publisherDemand.ts): with `media.publisher_remb_from_demand`, what its
 * video tracks' layers are wanted for — a track's sinks say which layer they would take if every layer flowed
 * (a subscriber's `wantedLayer` by its size alone; a link's highest demanded layer; a sink that cannot say
 * takes the top) — held
 * per transport (`RembHold`) and capped by `media.publisher_remb_bps`; without it, the cap itself.
 */
import {
  demandRembBps,
  RembHold,
  type DemandLayer,
  type TrackDemand,
} from '../forwarding/publisherDemand.js';
import type { PublishedTrack } from './publishedTrack.js';

/** What one published video track's layers are wanted for. */
export function trackDemand(track: PublishedTrack): TrackDemand {
  const view = track.selectable();
  const layers: readonly DemandLayer[] = view.layers;
  let wanted: number | undefined;
  for (const sink of track.sinks()) {
    const rank =
      sink.wantedLayer === undefined ? layers.length - 1 : view.ids.indexOf(sink.wantedLayer(false) ?? -1);
    if (rank >= 0 && (wanted === undefined || rank > wanted)) {
      wanted = rank;
    }
  }
  return { layers, wantedRank: wanted };
}

export class PublisherRemb {
  readonly #capBps: number;
  readonly #fromDemand: boolean;
  readonly #holds = new WeakMap<object, RembHold>();

  constructor(capBps: number, fromDemand: boolean) {
    this.#capBps = capBps;
    this.#fromDemand = fromDemand;
  }

  /** The REMB for `transport` now, given its published video tracks and whether it publishes audio. */
  bps(transport: object, video: readonly PublishedTrack[], audio: boolean, now: number): number {
    if (!this.#fromDemand) {
      return this.#capBps;
    }
    let hold = this.#holds.get(transport);
    if (hold === undefined) {
      hold = new RembHold(this.#capBps, now);
      this.#holds.set(transport, hold);
    }
    return hold.next(demandRembBps(video.map(trackDemand), audio, this.#capBps), now);
  }
}

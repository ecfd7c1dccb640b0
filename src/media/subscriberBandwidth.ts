/**
 * The bandwidth of one subscriber connection: its estimate (forwarding/bandwidthEstimator.ts, fed from the
 * subscriber's REMB and receiver-report loss), shared every media tick among the connection's forwarded
 * tracks as caps on their layer choice (forwarding/allocation.ts), and the padding probes that try to lift a
 * cap (forwarding/probePolicy.ts). The policies are pure; this class applies them to the DownTracks.
 */
import { sendTotals, videoCapBps } from '../forwarding/allocation.js';
import { BandwidthEstimator } from '../forwarding/bandwidthEstimator.js';
import { planProbe } from '../forwarding/probePolicy.js';
import type { DownTrack } from './downTrack.js';
import type { MediaCounters } from './mediaMetrics.js';

/** The connection's forwarded tracks: an array, or the values of a map (only `forEach` is used). */
export interface TrackList {
  forEach(cb: (d: DownTrack) => void): void;
}

export class SubscriberBandwidth {
  readonly #counters: MediaCounters;
  readonly #tickMs: number;
  readonly #bwe = new BandwidthEstimator();
  #changes = 0;
  #probeTrack: DownTrack | undefined;

  /** `tickMs`: how often {@link allocate} runs. */
  constructor(counters: MediaCounters, tickMs: number) {
    this.#counters = counters;
    this.#tickMs = tickMs;
  }

  /** bit/s; Infinity = no limit seen. */
  get estimateBps(): number {
    return this.#bwe.estimateBps;
  }

  onRemb(bps: number, now: number): void {
    this.#bwe.onRemb(bps, now);
  }

  /** The worst loss fraction (0–1) a receiver report gave for our streams. */
  onLoss(fraction: number, now: number): void {
    this.#bwe.onLoss(fraction, now);
  }

  /** Scratch reused by {@link allocate} every tick (no arrays, objects or closures per tick). */
  #open = 0;
  readonly #video: DownTrack[] = [];
  readonly #rates: { video: boolean; rateBps: number }[] = [];
  #now = 0;
  readonly #probe: {
    probingTargetBps: number | undefined;
    probeActive: boolean;
    sendBps: number;
    tickMs: number;
    video: readonly DownTrack[];
    rateBps: (d: DownTrack) => number;
    heldBackBps: (d: DownTrack) => number | undefined;
    mayProbe: (target: number) => boolean;
  } = {
    probingTargetBps: undefined,
    probeActive: false,
    sendBps: 0,
    tickMs: 0,
    video: this.#video,
    rateBps: (d) => d.rateBytesPerS * 8,
    heldBackBps: (d) => d.heldBackLayerBitrate(),
    mayProbe: (target) => this.#bwe.mayProbe(target, this.#now),
  };

  /** Adds one of `allocate`'s tracks to the tick's scratch (made once: no closure per tick). */
  readonly #collect = (d: DownTrack): void => {
    if (d.closed) {
      return;
    }
    const isVideo = d.track.kind === 'video';
    const rates = this.#rates;
    let r = rates[this.#open++];
    if (r === undefined) {
      r = { video: false, rateBps: 0 };
      rates.push(r);
    }
    r.video = isVideo;
    r.rateBps = d.rateBytesPerS * 8;
    if (isVideo) {
      this.#video.push(d);
    }
  };

  /**
   * Shares the estimate among the forwarded video tracks (evenly, after audio), which caps their layer
   * choice; runs padding probes when a cap holds a track below the layer it asked for.
   */
  allocate(tracks: TrackList, now: number): void {
    const video = this.#video;
    this.#open = 0;
    video.length = 0;
    tracks.forEach(this.#collect); // forEach: no iterator objects (this runs 10 times a second per peer)
    if (this.#open === 0) {
      return;
    }
    const rates = this.#rates;
    rates.length = this.#open;
    const totals = sendTotals(rates);
    this.#bwe.setSendRate(totals.sendBps);
    this.#bwe.tick(now);
    const est = this.#bwe.estimateBps;
    if (this.#bwe.changes !== this.#changes) {
      this.#changes = this.#bwe.changes;
      if (Number.isFinite(est)) {
        this.#counters.observeEstimate(est);
      }
    }
    const cap = videoCapBps(est, totals);
    for (let i = 0; i < video.length; i++) {
      (video[i] as DownTrack).setMaxBitrate(cap, now);
    }
    const inputs = this.#probe;
    this.#now = now;
    inputs.probingTargetBps = this.#bwe.probing?.targetBps;
    inputs.probeActive = this.#bwe.probeActive(now);
    inputs.sendBps = totals.sendBps;
    inputs.tickMs = this.#tickMs;
    const plan = planProbe(inputs);
    video.length = 0; // no DownTrack kept past the tick
    switch (plan.kind) {
      case 'pad':
        if (this.#probeTrack !== undefined && !this.#probeTrack.closed) {
          this.#probeTrack.addProbeBytes(plan.bytes);
        }
        return;
      case 'start':
        this.#bwe.startProbe(plan.targetBps, now);
        this.#probeTrack = plan.track;
        this.#counters.probes++;
        return;
      case 'idle':
        return;
    }
  }
}

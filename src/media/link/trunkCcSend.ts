/**
 * The send side of trunk congestion control for one link (protocol.md §8.5): the remote focus's REMB and the
 * loss in its receiver reports give the budget; forwarding/trunkAllocation.ts chooses, under it, which
 * demanded layers of the tracks this focus sends on the trunk go; what changed is announced with `layers`.
 * Not per packet: the link calls `allocate` on its tick (and when demand changes). Time is passed in.
 *
 * - Budget: min(REMB, loss bound, `cascade.max_link_bps`); before the first REMB the cap alone.
 * - Loss bound (GCC's sender-side loss rule): an aggregate fraction above `lossHigh` (10 %) lowers it to what
 *   the trunk sent × (1 − loss / 2), at most once per `lossHoldMs` (300 ms); below `lossLow` (2 %) it rises by
 *   8 % per report and disappears once above the REMB; in between it holds. "What the trunk sent" is the
 *   highest allocation of the last `lossBaseMs` (1 s): the report covers the interval before it, and when the
 *   budget paused layers since, the allocation now is a fraction of what was sent then (down to audio alone)
 *   — cutting from it compounded one lossy report into a bound of a few kbit/s. After `lossClearMs` (2 s) of
 *   reports under `lossLow` the bound is lifted: the REMB governs again (loss that returns cuts again).
 * - Hysteresis (no flapping): pausing is immediate; a layer the budget paused comes back only after the
 *   allocation has wanted it — with trunkAllocation's 10 % margin — on every call for `resumeAfterMs`
 *   (1.5 s). A layer newly demanded by the remote focus starts at once when it fits with the margin. Audio is
 *   never paused (trunkAllocation never drops it; this class only decides video layers).
 * - Announcements: a track's sending set is compared with the one last announced (never announced: all it
 *   demands, §8.5); differences are returned in `changed` — the LinkPeer's `layers` event.
 * - Probing (`paddingBps`): the receive-side estimate never rises above 1.5 × what it receives, so a paused
 *   layer larger than half the trunk's rate would never come back by media alone. While a layer is paused
 *   because the REMB (not the cap, not the loss bound) is too low, the sender pads the trunk up to
 *   min(used + that layer × 1.1, `probeShare` (0.9) × REMB): the estimate grows (8 %/s) until the layer fits
 *   or the detector finds the capacity. Padding waits `probeHoldMs` (2 s) after a congestion sign (a REMB
 *   ≥ 3 % lower than the one before, or a loss cut); a sign after padding ran ≥ 0.5 s doubles that wait (up
 *   to `maxProbeHoldMs`, 30 s), a resumed layer resets it.
 */
import {
  allocateTrunk,
  sameRidSet,
  type TrunkTrackDemand,
  type TrunkTrackSending,
} from '../../forwarding/trunkAllocation.js';
import { RecentMax } from '../../forwarding/recentMax.js';

export interface TrunkSendCcOptions {
  /** `cascade.max_link_bps`. */
  readonly maxLinkBps: number;
  readonly resumeAfterMs?: number;
  readonly lossHigh?: number;
  readonly lossLow?: number;
  readonly lossHoldMs?: number;
  /** trunkAllocation's resume margin (default 0.1). */
  readonly resumeMargin?: number;
  readonly probeHoldMs?: number;
  readonly maxProbeHoldMs?: number;
  readonly probeShare?: number;
  /** The span whose highest allocation a loss cut scales from (default 1000 ms). */
  readonly lossBaseMs?: number;
  /** Reports under `lossLow` for this long lift the loss bound (default 2000 ms). */
  readonly lossClearMs?: number;
}

export interface TrunkSendDecision {
  readonly budgetBps: number;
  /** Audio plus the video layers sent, bit/s (by the bitrates given). */
  readonly usedBps: number;
  /** Every demanded video track and the rids it sends now, input order. */
  readonly video: readonly TrunkTrackSending[];
  /** Tracks whose sending set differs from the last announcement: announce `layers` for each. */
  readonly changed: readonly TrunkTrackSending[];
  /** Padding to add on the trunk now (bit/s) to probe for a paused layer; 0 when none. */
  readonly paddingBps: number;
}

const MIN_PADDING_BPS = 10_000;
/** Allocations kept for the loss base (the link allocates every 100 ms tick, and on demand changes). */
const SENT_SAMPLES = 32;
/** A congestion sign counts against probing only once padding has run this long (else it came before it). */
const PROBE_BLAME_MS = 500;

const keyOf = (streamId: string, trackId: string): string => `${streamId}\u0000${trackId}`;

export class TrunkSendCc {
  readonly #maxLinkBps: number;
  readonly #resumeAfterMs: number;
  readonly #lossHigh: number;
  readonly #lossLow: number;
  readonly #lossHoldMs: number;
  readonly #resumeMargin: number | undefined;
  readonly #probeHoldMinMs: number;
  readonly #maxProbeHoldMs: number;
  readonly #probeShare: number;
  #probeHoldMs: number;
  #lastCongestionAt = Number.NEGATIVE_INFINITY;
  #padding = 0;
  #paddingSince = Number.NaN;
  #remb: number | undefined;
  #lossBound = Number.POSITIVE_INFINITY;
  #lastLossCutAt = Number.NEGATIVE_INFINITY;
  #sentBps = 0;
  readonly #lossBaseMs: number;
  readonly #lossClearMs: number;
  /** Since when every loss report was under `lossLow` (NaN: the last one was not). */
  #lossCleanSince = Number.NaN;
  /** Recent allocations (bit/s), for the loss base. */
  readonly #recentSent = new RecentMax(SENT_SAMPLES);
  /** Per track: the rids it sends now, and the rids it demanded at the last allocation. */
  readonly #sending = new Map<string, readonly string[]>();
  readonly #demanded = new Map<string, readonly string[]>();
  readonly #announced = new Map<string, readonly string[]>();
  /** Per paused layer (track key + rid): since when the allocation has wanted it back. */
  readonly #wantedSince = new Map<string, number>();

  constructor(options: TrunkSendCcOptions) {
    this.#maxLinkBps =
      Number.isFinite(options.maxLinkBps) && options.maxLinkBps > 0
        ? options.maxLinkBps
        : Number.POSITIVE_INFINITY;
    this.#resumeAfterMs = options.resumeAfterMs ?? 1500;
    this.#lossHigh = options.lossHigh ?? 0.1;
    this.#lossLow = options.lossLow ?? 0.02;
    this.#lossHoldMs = options.lossHoldMs ?? 300;
    this.#resumeMargin = options.resumeMargin;
    this.#probeHoldMinMs = options.probeHoldMs ?? 2000;
    this.#probeHoldMs = this.#probeHoldMinMs;
    this.#maxProbeHoldMs = Math.max(this.#probeHoldMinMs, options.maxProbeHoldMs ?? 30_000);
    this.#probeShare = options.probeShare ?? 0.9;
    this.#lossBaseMs = options.lossBaseMs ?? 1000;
    this.#lossClearMs = options.lossClearMs ?? 2000;
  }

  /** The remote focus's last REMB (bit/s), undefined before one. */
  get estimateBps(): number | undefined {
    return this.#remb;
  }

  /** min(REMB, loss bound, cap). */
  get budgetBps(): number {
    return Math.min(this.#remb ?? Number.POSITIVE_INFINITY, this.#lossBound, this.#maxLinkBps);
  }

  /** The rids a track sends now (undefined: not allocated yet — it sends all it demands). */
  sendingOf(streamId: string, trackId: string): readonly string[] | undefined {
    return this.#sending.get(keyOf(streamId, trackId));
  }

  /** A REMB from the remote focus. Non-finite or negative values are ignored. */
  onRemb(bps: number, now: number): void {
    if (!Number.isFinite(bps) || bps < 0) {
      return;
    }
    if (this.#remb !== undefined && bps < this.#remb * 0.97) {
      this.#congestion(now);
    }
    this.#remb = bps;
  }

  /**
   * Loss on the trunk: the fractions (0–255, RFC 3550) of the remote focus's report blocks about this
   * focus's trunk SSRCs, averaged.
   */
  onLossReports(fractionsLost: readonly number[], now: number): void {
    let sum = 0;
    let n = 0;
    for (const f of fractionsLost) {
      if (Number.isFinite(f) && f >= 0 && f <= 255) {
        sum += f / 256;
        n++;
      }
    }
    if (n === 0) {
      return;
    }
    const loss = sum / n;
    if (loss >= this.#lossLow) {
      this.#lossCleanSince = Number.NaN;
    } else if (Number.isNaN(this.#lossCleanSince)) {
      this.#lossCleanSince = now;
    }
    if (loss > this.#lossHigh) {
      if (now - this.#lastLossCutAt < this.#lossHoldMs) {
        return;
      }
      const sent = Math.max(this.#sentBps, this.#recentSent.max(now, this.#lossBaseMs));
      const base = sent > 0 ? sent : Math.min(this.budgetBps, this.#lossBound);
      if (Number.isFinite(base)) {
        this.#lossBound = Math.min(this.#lossBound, base * (1 - loss / 2));
        this.#lastLossCutAt = now;
        this.#congestion(now);
      }
    } else if (loss < this.#lossLow && Number.isFinite(this.#lossBound)) {
      this.#lossBound *= 1.08;
      if (
        this.#lossBound >= (this.#remb ?? this.#maxLinkBps) ||
        now - this.#lossCleanSince >= this.#lossClearMs
      ) {
        this.#lossBound = Number.POSITIVE_INFINITY;
      }
    }
  }

  /**
   * Chooses the layers to send for the tracks demanded now (every track this link sends; tracks left out are
   * forgotten) and returns what changed against the last announcement, which counts as announced.
   */
  allocate(tracks: readonly TrunkTrackDemand[], now: number): TrunkSendDecision {
    const previous: TrunkTrackSending[] = [];
    for (const t of tracks) {
      const s = this.#sending.get(keyOf(t.streamId, t.trackId));
      if (t.kind === 'video' && s !== undefined) {
        previous.push({ streamId: t.streamId, trackId: t.trackId, sending: s });
      }
    }
    const a = allocateTrunk({
      estimateBps: Math.min(this.#remb ?? Number.POSITIVE_INFINITY, this.#lossBound),
      maxLinkBps: this.#maxLinkBps,
      tracks,
      previous,
      ...(this.#resumeMargin !== undefined ? { resumeMargin: this.#resumeMargin } : {}),
    });
    const live = new Set<string>();
    const wanted = new Set<string>();
    const video: TrunkTrackSending[] = [];
    const changed: TrunkTrackSending[] = [];
    let used = 0;
    const videoTracks = tracks.filter((t) => t.kind === 'video');
    a.video.forEach((v, i) => {
      const key = keyOf(v.streamId, v.trackId);
      live.add(key);
      const before = this.#sending.get(key);
      const demandedBefore = this.#demanded.get(key);
      const sending = v.sending.filter((rid) => {
        if (before === undefined || before.includes(rid) || demandedBefore?.includes(rid) !== true) {
          return true; // a new track, a layer kept, or a layer newly demanded: no hold
        }
        const layerKey = `${key}\u0000${rid}`;
        wanted.add(layerKey);
        const since = this.#wantedSince.get(layerKey) ?? now;
        this.#wantedSince.set(layerKey, since);
        if (now - since < this.#resumeAfterMs) {
          return false;
        }
        this.#probeHoldMs = this.#probeHoldMinMs; // a probe (or the estimate) brought it back
        return true;
      });
      const entry = { streamId: v.streamId, trackId: v.trackId, sending };
      video.push(entry);
      this.#sending.set(key, sending);
      const t = videoTracks[i]; // allocateTrunk lists the video tracks in input order
      const demanded = (t?.layers ?? []).map((l) => l.rid);
      this.#demanded.set(key, demanded);
      for (const l of t?.layers ?? []) {
        if (sending.includes(l.rid)) {
          used += Number.isFinite(l.bitrateBps) && l.bitrateBps > 0 ? l.bitrateBps : 0;
        }
      }
      const announced = this.#announced.get(key) ?? demanded;
      if (!sameRidSet(announced, sending)) {
        changed.push(entry);
        this.#announced.set(key, sending);
      }
    });
    for (const t of tracks) {
      if (t.kind === 'audio' && t.bitrateBps !== undefined && Number.isFinite(t.bitrateBps)) {
        used += Math.max(0, t.bitrateBps);
      }
    }
    forgetAllBut(this.#sending, live);
    forgetAllBut(this.#demanded, live);
    forgetAllBut(this.#announced, live);
    forgetAllBut(this.#wantedSince, wanted);
    this.#sentBps = used;
    this.#recentSent.record(now, used);
    const padding = this.#paddingFor(tracks, video, used, now);
    if (padding > 0 && !(this.#padding > 0)) {
      this.#paddingSince = now;
    }
    this.#padding = padding;
    return { budgetBps: a.budgetBps, usedBps: used, video, changed, paddingBps: this.#padding };
  }

  #paddingFor(
    tracks: readonly TrunkTrackDemand[],
    video: readonly TrunkTrackSending[],
    used: number,
    now: number,
  ): number {
    if (this.#remb === undefined || now - this.#lastCongestionAt < this.#probeHoldMs) {
      return 0;
    }
    let next = Number.POSITIVE_INFINITY;
    let i = 0;
    for (const t of tracks) {
      if (t.kind !== 'video') {
        continue;
      }
      const sending = video[i++]?.sending ?? [];
      for (const l of t.layers ?? []) {
        if (!sending.includes(l.rid) && Number.isFinite(l.bitrateBps) && l.bitrateBps > 0) {
          next = Math.min(next, l.bitrateBps);
        }
      }
    }
    if (!Number.isFinite(next)) {
      return 0;
    }
    const target = used + next * (1 + (this.#resumeMargin ?? 0.1));
    if (target > this.#maxLinkBps || target > this.#lossBound) {
      return 0; // the cap or loss holds it back: padding cannot help
    }
    const padding = Math.min(target, this.#probeShare * this.#remb) - used;
    return padding >= MIN_PADDING_BPS ? padding : 0;
  }

  #congestion(now: number): void {
    if (
      this.#padding > 0 &&
      now - this.#paddingSince >= PROBE_BLAME_MS &&
      now - this.#lastCongestionAt >= this.#probeHoldMs
    ) {
      this.#probeHoldMs = Math.min(this.#maxProbeHoldMs, this.#probeHoldMs * 2); // the probe found the limit
    }
    this.#lastCongestionAt = now;
    this.#padding = 0;
    this.#paddingSince = Number.NaN;
  }
}

/** Deletes the keys not in `keep` (deleting while iterating a Map is defined: no copy of its keys). */
function forgetAllBut(map: Map<string, unknown>, keep: ReadonlySet<string>): void {
  for (const key of map.keys()) {
    if (!keep.has(key)) {
      map.delete(key);
    }
  }
}

/**
 * Downstream bandwidth estimate for one subscriber connection, from what the subscriber reports: REMB (its
 * receive-side, delay-based estimate; Chromium sends one every ~200 ms when `goog-remb` is negotiated) and
 * the loss fraction of its receiver reports — and from padding probes the SFU sends to find out whether more
 * would fit. Pure: inputs carry `now`; the caller sends the probes.
 *
 * - Unknown until the first congestion signal: no cap (the layer the subscriber asked for is sent).
 * - Congestion: a REMB that dropped below `rembDropRatio` of the highest REMB of the last `recentMs` AND
 *   below what the SFU sends (the receiver saw queueing delay grow and cut its estimate under our rate; a
 *   REMB that merely follows a lower rate we chose is not congestion), or a loss fraction above `lossHigh`
 *   (GCC's loss rule; `probeLossHigh` while probing). The estimate falls to the REMB, or to the send rate ×
 *   (1 − loss / 2).
 * - Going up: a REMB that stays at least `rembRiseRatio` above the estimate for `recentMs` raises it to that
 *   REMB; otherwise a probe — extra padding at the rate the next layer needs, for `probeMs` — succeeds when
 *   no congestion signal arrives during it and `settleMs` after AND a receiver report arrived after the
 *   padding ended (its loss fraction covers the probe: silence is not evidence — on a loaded machine the
 *   feedback can come late), and then the estimate becomes the probe's target; a probe that meets congestion,
 *   or gets no receiver report within `evidenceMs` of its end, fails without lowering the estimate. Probes
 *   wait `holdMs` after congestion and `probeIntervalMs` between attempts, doubling after each probe that met
 *   congestion up to `maxProbeIntervalMs` (an inconclusive probe does not back off).
 * - Bad input (NaN, negative, zero or absurd bitrates, fractions outside 0–1) is ignored.
 */

export interface BandwidthOptions {
  rembDropRatio: number;
  rembRiseRatio: number;
  recentMs: number;
  lossHigh: number;
  probeLossHigh: number;
  holdMs: number;
  probeMs: number;
  settleMs: number;
  /** How long after a probe's padding a receiver report may take to come (else the probe failed). */
  evidenceMs: number;
  probeIntervalMs: number;
  maxProbeIntervalMs: number;
  minBps: number;
  maxBps: number;
}

export const DEFAULT_BANDWIDTH_OPTIONS: BandwidthOptions = {
  rembDropRatio: 0.8,
  rembRiseRatio: 1.2,
  recentMs: 2000,
  lossHigh: 0.1,
  probeLossHigh: 0.05,
  holdMs: 2000,
  probeMs: 600,
  settleMs: 800,
  evidenceMs: 3000,
  probeIntervalMs: 2500,
  maxProbeIntervalMs: 8000,
  minBps: 30_000,
  maxBps: 100_000_000,
};

export type ProbeOutcome = 'succeeded' | 'failed';

interface Probe {
  targetBps: number;
  startedAt: number;
}

export class BandwidthEstimator {
  readonly #o: BandwidthOptions;
  #estimate = Number.POSITIVE_INFINITY;
  /** Recent REMBs (time, bps), oldest first, within `recentMs`. */
  readonly #rembs: { at: number; bps: number }[] = [];
  #lastCongestionAt = Number.NEGATIVE_INFINITY;
  /** When the last valid loss report (receiver report) arrived. */
  #lastLossReportAt = Number.NEGATIVE_INFINITY;
  #probe: Probe | undefined;
  #lastProbeEndAt = Number.NEGATIVE_INFINITY;
  #probeInterval: number;
  #sendBps = 0;
  #changes = 0;

  constructor(options: Partial<BandwidthOptions> = {}) {
    this.#o = { ...DEFAULT_BANDWIDTH_OPTIONS, ...options };
    this.#probeInterval = this.#o.probeIntervalMs;
  }

  /** bit/s; +Infinity while nothing limits the subscriber. */
  get estimateBps(): number {
    return this.#estimate;
  }

  /** Incremented on every change of the estimate (for "observe once per update"). */
  get changes(): number {
    return this.#changes;
  }

  get probing(): { targetBps: number } | undefined {
    return this.#probe === undefined ? undefined : { targetBps: this.#probe.targetBps };
  }

  /** What the SFU currently sends this subscriber (media, without probes), bit/s. */
  setSendRate(bps: number): void {
    if (Number.isFinite(bps) && bps >= 0) {
      this.#sendBps = bps;
    }
  }

  onRemb(bps: number, now: number): void {
    if (!Number.isFinite(bps) || bps <= 0 || bps > this.#o.maxBps * 10) {
      return;
    }
    this.#trim(now);
    const recentMax = this.#rembs.reduce((m, r) => Math.max(m, r.bps), 0);
    this.#rembs.push({ at: now, bps });
    if (recentMax > 0 && bps < recentMax * this.#o.rembDropRatio && bps < this.#sendBps * 0.9) {
      this.#congestion(now, bps);
      return;
    }
    // A REMB that held well above the estimate for a whole window raises it.
    const oldest = this.#rembs[0];
    if (
      Number.isFinite(this.#estimate) &&
      this.#probe === undefined &&
      oldest !== undefined &&
      now - oldest.at >= this.#o.recentMs * 0.9 &&
      this.#rembs.every((r) => r.bps >= this.#estimate * this.#o.rembRiseRatio)
    ) {
      const low = this.#rembs.reduce((m, r) => Math.min(m, r.bps), Number.POSITIVE_INFINITY);
      this.#set(low);
    }
  }

  /** The subscriber's loss fraction (0–1) for our streams from its latest receiver report. */
  onLoss(fraction: number, now: number): void {
    if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      return;
    }
    this.#lastLossReportAt = Math.max(this.#lastLossReportAt, now);
    const high = this.#probe !== undefined ? this.#o.probeLossHigh : this.#o.lossHigh;
    if (fraction > high && this.#sendBps > 0) {
      this.#congestion(now, this.#sendBps * (1 - fraction / 2));
    }
  }

  /** Whether a probe towards `targetBps` may start now. */
  mayProbe(targetBps: number, now: number): boolean {
    return (
      this.#probe === undefined &&
      Number.isFinite(targetBps) &&
      targetBps > this.#estimate &&
      now - this.#lastCongestionAt >= this.#o.holdMs &&
      now - this.#lastProbeEndAt >= this.#probeInterval
    );
  }

  startProbe(targetBps: number, now: number): void {
    if (this.mayProbe(targetBps, now)) {
      this.#probe = { targetBps: Math.min(targetBps, this.#o.maxBps), startedAt: now };
    }
  }

  /** Whether probe padding should be sent now (the probe's first `probeMs`). */
  probeActive(now: number): boolean {
    return this.#probe !== undefined && now - this.#probe.startedAt < this.#o.probeMs;
  }

  /**
   * Ends a probe that ran its course: succeeded when no congestion came and a receiver report arrived after
   * its padding; failed when no such report came within `evidenceMs`.
   */
  tick(now: number): ProbeOutcome | undefined {
    const p = this.#probe;
    if (p === undefined || now - p.startedAt < this.#o.probeMs + this.#o.settleMs) {
      return undefined;
    }
    const paddingEnd = p.startedAt + this.#o.probeMs;
    if (this.#lastLossReportAt < paddingEnd) {
      if (now - paddingEnd < this.#o.evidenceMs) {
        return undefined; // waiting for a report that covers the probe
      }
      // Inconclusive, not congestion: try again after the current interval (no back-off).
      this.#probe = undefined;
      this.#lastProbeEndAt = now;
      return 'failed';
    }
    this.#probe = undefined;
    this.#lastProbeEndAt = now;
    this.#probeInterval = this.#o.probeIntervalMs;
    this.#set(Math.max(Number.isFinite(this.#estimate) ? this.#estimate : 0, p.targetBps));
    return 'succeeded';
  }

  /** A failed probe only fails (the congestion was ours); otherwise the estimate falls to the bound. */
  #congestion(now: number, boundBps: number): void {
    this.#lastCongestionAt = now;
    if (this.#probe !== undefined) {
      this.#probe = undefined;
      this.#lastProbeEndAt = now;
      this.#probeInterval = Math.min(this.#o.maxProbeIntervalMs, this.#probeInterval * 2);
      return;
    }
    const bound = Math.max(this.#o.minBps, boundBps);
    if (bound < this.#estimate) {
      this.#set(bound);
    }
  }

  #set(bps: number): void {
    const v = Math.max(this.#o.minBps, Math.min(this.#o.maxBps, bps));
    if (v !== this.#estimate) {
      this.#estimate = v;
      this.#changes++;
    }
  }

  #trim(now: number): void {
    let drop = 0;
    while (drop < this.#rembs.length && now - (this.#rembs[drop]?.at ?? now) > this.#o.recentMs) {
      drop++;
    }
    this.#rembs.splice(0, drop);
    if (this.#rembs.length > 256) {
      this.#rembs.splice(0, this.#rembs.length - 256);
    }
  }
}

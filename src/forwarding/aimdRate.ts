/**
 * AIMD rate control behind the trunk's delay-gradient detector (protocol.md §8.5), GCC-style, pure.
 *
 * - State from the detector: overuse → decrease; underuse → hold (queues drain, let them); normal → increase
 *   (from hold). A decrease moves to hold.
 * - Decrease: to `beta` (0.85) × the received rate — or `beta` × the link-capacity average when that is lower
 *   than the current estimate and the received rate is not — and only ever down. Every decrease feeds the
 *   received rate into the link-capacity average (an exponential mean with a normalised variance); a received
 *   rate more than 3 σ away from that mean forgets it (the path changed).
 * - Increase: multiplicative (`multiplicativePerS`, 8 % per second) while the link capacity is unknown;
 *   additive — about one average packet per response time (RTT + 100 ms), at least 4 kbit/s per second —
 *   once it is known (near convergence). The estimate never rises above 1.5 × the received rate + 10 kbit/s
 *   (no credit for rates nobody tried), and an estimate above that is not lowered by the rule; with no
 *   received rate (none measured yet, or an idle trunk) it does not rise at all.
 * - Clamped to `minBps`–`maxBps`. Time steps are taken from `now`; a clock running backwards is a zero step.
 */
import type { BandwidthUsage } from './delayGradient.js';

export interface AimdOptions {
  startBps: number;
  minBps: number;
  maxBps: number;
  beta: number;
  multiplicativePerS: number;
  /** Round-trip time of the path (ms); `setRtt` updates it. */
  rttMs: number;
}

export const DEFAULT_AIMD_OPTIONS: AimdOptions = {
  startBps: 1_000_000,
  minBps: 30_000,
  maxBps: 100_000_000,
  beta: 0.85,
  multiplicativePerS: 0.08,
  rttMs: 100,
};

type RateState = 'hold' | 'increase' | 'decrease';

const FRAMES_PER_S = 30;
const PACKET_BITS = 1200 * 8;
const MIN_ADDITIVE_BPS_PER_S = 4000;

export class AimdRate {
  readonly #o: AimdOptions;
  #estimate: number;
  #state: RateState = 'increase';
  #lastAt = Number.NaN;
  #rttMs: number;
  /** Link capacity: mean and normalised variance of the received rate at decreases (kbit/s); NaN = unknown. */
  #linkKbps = Number.NaN;
  #linkVar = 0.4;

  constructor(options: Partial<AimdOptions> = {}) {
    this.#o = { ...DEFAULT_AIMD_OPTIONS, ...options };
    this.#estimate = this.#clamp(this.#o.startBps);
    this.#rttMs = this.#o.rttMs;
  }

  get estimateBps(): number {
    return this.#estimate;
  }

  get state(): RateState {
    return this.#state;
  }

  /** Whether the link capacity is known (the increase is additive). */
  get nearConvergence(): boolean {
    return !Number.isNaN(this.#linkKbps);
  }

  setRtt(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0 && ms < 60_000) {
      this.#rttMs = ms;
    }
  }

  /**
   * Applies the detector's verdict and the time since the previous update; `receivedBps` ≤ 0 or NaN means the
   * received rate is not known yet. Returns the estimate.
   */
  update(usage: BandwidthUsage, receivedBps: number, now: number): number {
    const dt = Number.isNaN(this.#lastAt) ? 0 : Math.max(0, now - this.#lastAt);
    this.#lastAt = now;
    const received = Number.isFinite(receivedBps) && receivedBps > 0 ? receivedBps : 0;
    if (usage === 'overuse') {
      this.#state = 'decrease';
    } else if (usage === 'underuse') {
      this.#state = 'hold';
    } else if (this.#state === 'hold') {
      this.#state = 'increase';
    }
    if (this.#state === 'increase') {
      this.#increase(dt, received);
    } else if (this.#state === 'decrease') {
      this.#decrease(received);
      this.#state = 'hold';
    }
    return this.#estimate;
  }

  #increase(dt: number, received: number): void {
    if (received <= 0) {
      return; // nothing received (idle trunk, or no rate yet): no evidence to raise on
    }
    if (!Number.isNaN(this.#linkKbps)) {
      const sigma = Math.sqrt(this.#linkVar * this.#linkKbps);
      if (received / 1000 > this.#linkKbps + 3 * sigma) {
        this.#linkKbps = Number.NaN; // more than the link took before: capacity unknown again
      }
    }
    let next: number;
    if (Number.isNaN(this.#linkKbps)) {
      const factor = Math.pow(1 + this.#o.multiplicativePerS, Math.min(dt / 1000, 1));
      next = this.#estimate + Math.max(this.#estimate * (factor - 1), dt); // ≥ 1 kbit/s per second;
    } else {
      const bitsPerFrame = this.#estimate / FRAMES_PER_S;
      const packetsPerFrame = Math.ceil(bitsPerFrame / PACKET_BITS);
      const avgPacketBits = bitsPerFrame / packetsPerFrame;
      const perS = Math.max(MIN_ADDITIVE_BPS_PER_S, (avgPacketBits * 1000) / (this.#rttMs + 100));
      next = this.#estimate + (perS * dt) / 1000;
    }
    const limit = 1.5 * received + 10_000;
    next = Math.min(next, Math.max(limit, this.#estimate));
    this.#estimate = this.#clamp(next);
  }

  #decrease(received: number): void {
    if (received <= 0) {
      return;
    }
    let target = this.#o.beta * received;
    if (target > this.#estimate && !Number.isNaN(this.#linkKbps)) {
      target = this.#o.beta * this.#linkKbps * 1000;
    }
    if (target < this.#estimate) {
      this.#estimate = this.#clamp(target);
    }
    const kbps = received / 1000;
    if (!Number.isNaN(this.#linkKbps)) {
      const sigma = Math.sqrt(this.#linkVar * this.#linkKbps);
      if (kbps < this.#linkKbps - 3 * sigma) {
        this.#linkKbps = Number.NaN;
      }
    }
    if (Number.isNaN(this.#linkKbps)) {
      this.#linkKbps = kbps;
    } else {
      this.#linkKbps = 0.95 * this.#linkKbps + 0.05 * kbps;
    }
    const norm = Math.max(this.#linkKbps, 1);
    const err = this.#linkKbps - kbps;
    this.#linkVar = Math.min(2.5, Math.max(0.4, 0.95 * this.#linkVar + (0.05 * err * err) / norm));
  }

  #clamp(bps: number): number {
    return Math.max(this.#o.minBps, Math.min(this.#o.maxBps, bps));
  }
}

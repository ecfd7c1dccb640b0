/**
 * Receive-side delay-gradient detector for a trunk (protocol.md §8.5), GCC-style, pure and allocation-free per
 * packet. Fed once per received RTP packet with its abs-send-time (24-bit 6.18 fixed-point seconds, wrapping
 * every 64 s), its arrival time (ms, the receiver's clock) and its size; says whether the path is over-used
 * (queues grow), under-used (queues drain) or normal.
 *
 * - Unwrapping: each abs-send-time is placed within ±32 s of the newest one seen, so the 64 s wrap is
 *   invisible; a packet older than the newest (reordered) does not move that reference.
 * - Groups: packets whose send times lie within `groupMs` (5 ms) of their group's first packet form one group
 *   (a paced burst). A packet that arrives within `burstMs` of the previous one and earlier than its send-time
 *   spacing says (negative propagation delta, i.e. it queued behind it) joins the current group too, as long as
 *   the group spans less than `maxBurstMs` of arrival time. A packet sent before the current group's first
 *   packet (reordered) is ignored for delay.
 * - Delay variation: when a group completes, d = (arrival delta − send delta) between its last packet and the
 *   previous group's last packet.
 * - Trendline: d is accumulated, exponentially smoothed (`smoothing`), and the slope of the smoothed delay over
 *   arrival time is a least-squares line over the last `window` groups (nothing before the window is full).
 * - Detector: the slope × min(groups, `trendCap`) × `gain` is compared with an adaptive threshold (starts at
 *   `initialThresholdMs`, moves towards |trend| at `kUp` when above it and `kDown` when below, per ms of
 *   arrival time, ≤ 100 ms per step, clamped to 6–600, not moved by outliers more than 15 over it). Above it
 *   for more than `overuseTimeMs` of send time, in two groups or more, with a non-falling slope → overuse;
 *   below its negative → underuse; otherwise normal.
 * - An arrival gap over `resetGapMs` (or an arrival clock running backwards) restarts the detector.
 */

/** abs-send-time ticks per millisecond (2^18 per second). */
export const ABS_SEND_TIME_TICKS_PER_MS = (1 << 18) / 1000;
const ABS_WRAP = 1 << 24;
const ABS_HALF = 1 << 23;

export type BandwidthUsage = 'normal' | 'overuse' | 'underuse';

export interface DelayGradientOptions {
  groupMs: number;
  burstMs: number;
  maxBurstMs: number;
  window: number;
  smoothing: number;
  gain: number;
  trendCap: number;
  initialThresholdMs: number;
  kUp: number;
  kDown: number;
  overuseTimeMs: number;
  resetGapMs: number;
}

export const DEFAULT_DELAY_GRADIENT_OPTIONS: DelayGradientOptions = {
  groupMs: 5,
  burstMs: 5,
  maxBurstMs: 100,
  window: 20,
  smoothing: 0.9,
  gain: 4,
  trendCap: 60,
  initialThresholdMs: 12.5,
  kUp: 0.0087,
  kDown: 0.039,
  overuseTimeMs: 10,
  resetGapMs: 3000,
};

const MIN_THRESHOLD = 6;
const MAX_THRESHOLD = 600;
const OUTLIER_MARGIN = 15;
const MAX_THRESHOLD_STEP_MS = 100;

export class DelayGradient {
  readonly #o: DelayGradientOptions;
  // Unwrapping.
  #started = false;
  #newestAbs = 0;
  #newestTicks = 0;
  // The group being filled (send times in ms of unwrapped abs-send-time, arrivals in receiver ms).
  #inGroup = false;
  #firstSend = 0;
  #lastSend = 0;
  #firstArrival = 0;
  #lastArrival = 0;
  // The previous complete group.
  #havePrev = false;
  #prevSend = 0;
  #prevArrival = 0;
  // Trendline.
  readonly #xs: Float64Array;
  readonly #ys: Float64Array;
  #count = 0;
  #next = 0;
  #deltas = 0;
  #originArrival = Number.NaN;
  #accumulated = 0;
  #smoothed = 0;
  #trend = 0;
  // Detector.
  #threshold: number;
  #lastThresholdAt = Number.NaN;
  #overusingMs = -1;
  #overuseCount = 0;
  #usage: BandwidthUsage = 'normal';
  #groups = 0;

  constructor(options: Partial<DelayGradientOptions> = {}) {
    this.#o = { ...DEFAULT_DELAY_GRADIENT_OPTIONS, ...options };
    const w = Math.max(2, Math.floor(this.#o.window));
    this.#xs = new Float64Array(w);
    this.#ys = new Float64Array(w);
    this.#threshold = this.#o.initialThresholdMs;
  }

  get usage(): BandwidthUsage {
    return this.#usage;
  }

  /** Groups completed since the start (or the last reset). */
  get groups(): number {
    return this.#groups;
  }

  /** The adaptive threshold (for tests and metrics). */
  get thresholdMs(): number {
    return this.#threshold;
  }

  /** The last modified trend compared with the threshold. */
  get modifiedTrend(): number {
    return Math.min(this.#deltas, this.#o.trendCap) * this.#trend * this.#o.gain;
  }

  /**
   * One received packet: `absSendTime` the raw 24-bit value, `arrivalMs` the receiver's clock. Returns the
   * current usage. Invalid input is ignored.
   */
  onPacket(absSendTime: number, arrivalMs: number): BandwidthUsage {
    if (!Number.isInteger(absSendTime) || absSendTime < 0 || absSendTime >= ABS_WRAP) {
      return this.#usage;
    }
    if (!Number.isFinite(arrivalMs)) {
      return this.#usage;
    }
    if (
      this.#inGroup &&
      (arrivalMs - this.#lastArrival > this.#o.resetGapMs || arrivalMs < this.#firstArrival)
    ) {
      this.reset();
    }
    let ticks: number;
    if (!this.#started) {
      this.#started = true;
      this.#newestAbs = absSendTime;
      this.#newestTicks = absSendTime;
      ticks = absSendTime;
    } else {
      let diff = (absSendTime - this.#newestAbs) & (ABS_WRAP - 1);
      if (diff >= ABS_HALF) {
        diff -= ABS_WRAP;
      }
      ticks = this.#newestTicks + diff;
      if (diff > 0) {
        this.#newestAbs = absSendTime;
        this.#newestTicks = ticks;
      }
    }
    const sendMs = ticks / ABS_SEND_TIME_TICKS_PER_MS;
    if (!this.#inGroup) {
      this.#startGroup(sendMs, arrivalMs);
      return this.#usage;
    }
    if (sendMs < this.#firstSend) {
      return this.#usage; // reordered from an earlier group
    }
    if (!this.#belongsToBurst(sendMs, arrivalMs) && sendMs - this.#firstSend > this.#o.groupMs) {
      this.#completeGroup();
      this.#startGroup(sendMs, arrivalMs);
      return this.#usage;
    }
    if (sendMs > this.#lastSend) {
      this.#lastSend = sendMs;
    }
    if (arrivalMs > this.#lastArrival) {
      this.#lastArrival = arrivalMs;
    }
    return this.#usage;
  }

  /** Forgets everything but the options (after a long gap, a relink or a clock jump). */
  reset(): void {
    this.#started = false;
    this.#inGroup = false;
    this.#havePrev = false;
    this.#count = 0;
    this.#next = 0;
    this.#deltas = 0;
    this.#originArrival = Number.NaN;
    this.#accumulated = 0;
    this.#smoothed = 0;
    this.#trend = 0;
    this.#threshold = this.#o.initialThresholdMs;
    this.#lastThresholdAt = Number.NaN;
    this.#overusingMs = -1;
    this.#overuseCount = 0;
    this.#usage = 'normal';
    this.#groups = 0;
  }

  #belongsToBurst(sendMs: number, arrivalMs: number): boolean {
    const sendDelta = sendMs - this.#lastSend;
    if (sendDelta === 0) {
      return true;
    }
    const arrivalDelta = arrivalMs - this.#lastArrival;
    return (
      arrivalDelta - sendDelta < 0 &&
      arrivalDelta <= this.#o.burstMs &&
      arrivalMs - this.#firstArrival < this.#o.maxBurstMs
    );
  }

  #startGroup(sendMs: number, arrivalMs: number): void {
    this.#inGroup = true;
    this.#firstSend = sendMs;
    this.#lastSend = sendMs;
    this.#firstArrival = arrivalMs;
    this.#lastArrival = arrivalMs;
  }

  #completeGroup(): void {
    this.#groups++;
    if (this.#havePrev) {
      const sendDelta = this.#lastSend - this.#prevSend;
      const arrivalDelta = this.#lastArrival - this.#prevArrival;
      this.#trendline(arrivalDelta - sendDelta, sendDelta, this.#lastArrival);
    }
    this.#havePrev = true;
    this.#prevSend = this.#lastSend;
    this.#prevArrival = this.#lastArrival;
  }

  #trendline(delayMs: number, sendDeltaMs: number, arrivalMs: number): void {
    this.#deltas = Math.min(this.#deltas + 1, 1000);
    if (Number.isNaN(this.#originArrival)) {
      this.#originArrival = arrivalMs;
    }
    this.#accumulated += delayMs;
    const s = this.#o.smoothing;
    this.#smoothed = s * this.#smoothed + (1 - s) * this.#accumulated;
    const w = this.#xs.length;
    this.#xs[this.#next] = arrivalMs - this.#originArrival;
    this.#ys[this.#next] = this.#smoothed;
    this.#next = (this.#next + 1) % w;
    if (this.#count < w) {
      this.#count++;
    }
    const previousTrend = this.#trend;
    if (this.#count === w) {
      this.#trend = slope(this.#xs, this.#ys, previousTrend);
    }
    this.#detect(previousTrend, sendDeltaMs, arrivalMs);
  }

  #detect(previousTrend: number, sendDeltaMs: number, arrivalMs: number): void {
    if (this.#deltas < 2) {
      return;
    }
    const m = this.modifiedTrend;
    if (m > this.#threshold) {
      this.#overusingMs = this.#overusingMs < 0 ? sendDeltaMs / 2 : this.#overusingMs + sendDeltaMs;
      this.#overuseCount++;
      if (
        this.#overusingMs > this.#o.overuseTimeMs &&
        this.#overuseCount > 1 &&
        this.#trend >= previousTrend
      ) {
        this.#overusingMs = 0;
        this.#overuseCount = 0;
        this.#usage = 'overuse';
      }
    } else if (m < -this.#threshold) {
      this.#overusingMs = -1;
      this.#overuseCount = 0;
      this.#usage = 'underuse';
    } else {
      this.#overusingMs = -1;
      this.#overuseCount = 0;
      this.#usage = 'normal';
    }
    this.#adaptThreshold(m, arrivalMs);
  }

  #adaptThreshold(m: number, arrivalMs: number): void {
    if (Number.isNaN(this.#lastThresholdAt)) {
      this.#lastThresholdAt = arrivalMs;
    }
    const a = Math.abs(m);
    if (a > this.#threshold + OUTLIER_MARGIN) {
      this.#lastThresholdAt = arrivalMs; // a spike: do not chase it
      return;
    }
    const k = a < this.#threshold ? this.#o.kDown : this.#o.kUp;
    const dt = Math.min(Math.max(0, arrivalMs - this.#lastThresholdAt), MAX_THRESHOLD_STEP_MS);
    this.#threshold = Math.min(
      MAX_THRESHOLD,
      Math.max(MIN_THRESHOLD, this.#threshold + k * (a - this.#threshold) * dt),
    );
    this.#lastThresholdAt = arrivalMs;
  }
}

/** Least-squares slope of ys over xs (all entries), `fallback` when the xs do not spread. */
function slope(xs: Float64Array, ys: Float64Array, fallback: number): number {
  const n = xs.length;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] ?? 0;
    sy += ys[i] ?? 0;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    num += dx * ((ys[i] ?? 0) - my);
    den += dx * dx;
  }
  return den === 0 ? fallback : num / den;
}

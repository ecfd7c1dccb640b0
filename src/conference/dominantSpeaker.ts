/**
 * Dominant-speaker detection from RFC 6464 audio levels. Pure: the caller feeds, per source and per
 * interval, the mean loudness (rtp/audioLevel.ts: 0 at the noise floor … 1 at 0 dBov) of the packets it
 * received, and asks who dominates; time is passed in.
 *
 * - A source without packets in an interval (DTX, muted, gone quiet) counts as silent.
 * - Score: the mean loudness over the last `windowMs` (a sliding window of interval bins), so a change of
 *   speaker moves the scores smoothly and a short burst moves them only a little.
 * - Hysteresis: a challenger takes over only when its score has stayed above `minScore` and above the
 *   current speaker's score × `ratio` + `margin` for `holdMs` without interruption. Nobody speaking keeps the
 *   last dominant speaker (clients keep showing who spoke last); a source that leaves is forgotten.
 *
 * With the defaults (1 s window, hold 400 ms, ratio 1.25), a clean hand-over is reported ≈ 1 s after it
 * happens, and a burst shorter than ≈ 0.5 s from someone else never takes over from an active speaker.
 */

export interface DominantSpeakerOptions {
  intervalMs: number;
  windowMs: number;
  holdMs: number;
  minScore: number;
  ratio: number;
  margin: number;
}

export const DEFAULT_SPEAKER_OPTIONS: DominantSpeakerOptions = {
  intervalMs: 100,
  windowMs: 1000,
  holdMs: 400,
  minScore: 0.1,
  ratio: 1.25,
  margin: 0.02,
};

interface Source {
  bins: Float64Array;
  /** Index of the bin of the current interval. */
  head: number;
  /** Interval number of `head`. */
  interval: number;
  sum: number;
}

export class DominantSpeaker {
  readonly #o: DominantSpeakerOptions;
  readonly #bins: number;
  readonly #sources = new Map<string, Source>();
  #current: string | undefined;
  #challenger: string | undefined;
  #challengerSince = 0;

  constructor(options: Partial<DominantSpeakerOptions> = {}) {
    this.#o = { ...DEFAULT_SPEAKER_OPTIONS, ...options };
    this.#bins = Math.max(1, Math.round(this.#o.windowMs / this.#o.intervalMs));
  }

  get current(): string | undefined {
    return this.#current;
  }

  /** The mean loudness (0–1) of `key`'s packets in the interval containing `now` (0 when silent). */
  observe(key: string, meanLoudness: number, now: number): void {
    const v = Number.isFinite(meanLoudness) ? Math.max(0, Math.min(1, meanLoudness)) : 0;
    const s = this.#advance(this.#source(key, now), now);
    s.sum += v - (s.bins[s.head] ?? 0);
    s.bins[s.head] = v;
  }

  remove(key: string): void {
    this.#sources.delete(key);
    if (this.#current === key) {
      this.#current = undefined;
    }
    if (this.#challenger === key) {
      this.#challenger = undefined;
    }
  }

  /** The score (0–1) of a source now: its mean loudness over the window. */
  score(key: string, now: number): number {
    const s = this.#sources.get(key);
    if (s === undefined) {
      return 0;
    }
    this.#advance(s, now);
    return Math.max(0, s.sum / this.#bins);
  }

  /** Re-evaluates; returns the dominant speaker's key when it changed, else undefined. */
  evaluate(now: number): string | undefined {
    let best: string | undefined;
    let bestScore = -1;
    for (const key of this.#sources.keys()) {
      const sc = this.score(key, now);
      if (sc > bestScore) {
        best = key;
        bestScore = sc;
      }
    }
    const currentScore = this.#current === undefined ? 0 : this.score(this.#current, now);
    const beats =
      best !== undefined &&
      best !== this.#current &&
      bestScore >= this.#o.minScore &&
      bestScore > currentScore * this.#o.ratio + this.#o.margin;
    if (!beats) {
      this.#challenger = undefined;
      return undefined;
    }
    if (this.#challenger !== best) {
      this.#challenger = best;
      this.#challengerSince = now;
    }
    if (now - this.#challengerSince < this.#o.holdMs) {
      return undefined;
    }
    this.#current = best;
    this.#challenger = undefined;
    return best;
  }

  #source(key: string, now: number): Source {
    let s = this.#sources.get(key);
    if (s === undefined) {
      s = { bins: new Float64Array(this.#bins), head: 0, interval: this.#interval(now), sum: 0 };
      this.#sources.set(key, s);
    }
    return s;
  }

  #interval(now: number): number {
    return Math.floor(now / this.#o.intervalMs);
  }

  /** Moves the window to the interval of `now`, zeroing the bins of intervals without observations. */
  #advance(s: Source, now: number): Source {
    const target = this.#interval(now);
    const steps = Math.min(target - s.interval, this.#bins);
    for (let i = 0; i < steps; i++) {
      s.head = (s.head + 1) % this.#bins;
      s.sum -= s.bins[s.head] ?? 0;
      s.bins[s.head] = 0;
    }
    if (target > s.interval) {
      s.interval = target;
    }
    if (Math.abs(s.sum) < 1e-9) {
      s.sum = 0;
    }
    return s;
  }
}

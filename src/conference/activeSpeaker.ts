/**
 * The conference's active (dominant) speaker: every 100 ms it takes the loudness of each published,
 * unmuted audio track (RFC 6464 levels gathered by the media layer), feeds the pure DominantSpeaker
 * detector, and announces a change to everyone (README "Active speaker"; `active_speaker` on the data
 * channel in both dialects). It ticks on the clock's shared 100-ms ticker (util/ticker.ts); stopping removes it.
 */
import type { Clock } from '../util/clock.js';
import { Ticker, type TickerJob } from '../util/ticker.js';
import { DominantSpeaker, type DominantSpeakerOptions } from './dominantSpeaker.js';

export const SPEAKER_INTERVAL_MS = 100;

export interface Speaker {
  user_id: string;
  device_id: string;
  stream_id: string;
}

export interface SpeakerSource {
  /** Stable per publisher and stream. */
  key: string;
  speaker: Speaker;
  muted: boolean;
  /** Loudness since the last call (sum over packets, packet count). */
  take: () => { sum: number; count: number };
}

export interface ActiveSpeakerDeps {
  clock: Clock;
  sources: () => SpeakerSource[];
  announce: (s: Speaker) => void;
  /** A tick that threw (logged by the owner; the next tick still runs). */
  onError: (e: unknown) => void;
  options?: Partial<DominantSpeakerOptions>;
}

export class ActiveSpeaker {
  readonly #d: ActiveSpeakerDeps;
  readonly #detector: DominantSpeaker;
  readonly #known = new Map<string, Speaker>();
  #job: TickerJob | undefined;
  #current: Speaker | undefined;
  #stopped = false;

  constructor(deps: ActiveSpeakerDeps) {
    this.#d = deps;
    this.#detector = new DominantSpeaker({ intervalMs: SPEAKER_INTERVAL_MS, ...deps.options });
  }

  /** Starts the periodic evaluation (idempotent; the conference starts it with its first session). */
  start(): void {
    if (this.#job === undefined && !this.#stopped) {
      this.#job = Ticker.shared(this.#d.clock, SPEAKER_INTERVAL_MS).add(
        (now) => {
          this.tick(now);
        },
        (e) => {
          this.#d.onError(e);
        },
      );
    }
  }

  /** The dominant speaker now (sent to a participant whose data channel opens). */
  get current(): Speaker | undefined {
    return this.#current;
  }

  stop(): void {
    this.#stopped = true;
    this.#job?.remove();
    this.#job = undefined;
  }

  /** One evaluation (the timer calls it; exposed for tests). */
  tick(now: number): void {
    const seen = new Set<string>();
    for (const src of this.#d.sources()) {
      seen.add(src.key);
      this.#known.set(src.key, src.speaker);
      const { sum, count } = src.take();
      this.#detector.observe(src.key, src.muted || count === 0 ? 0 : sum / count, now);
    }
    for (const key of [...this.#known.keys()]) {
      if (!seen.has(key)) {
        this.#known.delete(key);
        this.#detector.remove(key);
      }
    }
    if (this.#detector.current === undefined) {
      this.#current = undefined;
    }
    const changed = this.#detector.evaluate(now);
    const speaker = changed === undefined ? undefined : this.#known.get(changed);
    if (speaker !== undefined) {
      this.#current = speaker;
      this.#d.announce(speaker);
    }
  }
}

/**
 * Sockets without media are read on a tick instead of on each datagram. A connected peer with no media still
 * gets a datagram every few hundred milliseconds — receiver reports (one a second per stream), consent checks
 * and their answers, data-channel keep-alives — and each one woke the process on its own: at 20 idle peers ≈ 70
 * wake-ups a second, each running its handler with cold caches (≈ 90 µs per receiver report, bench/README.md
 * "Quiet sockets"). A socket that has neither received RTP nor had RTP sent on it for QUIET_TICKS ticks stops
 * its readable events (udpReceive.ts, native/watch.c `watchPause`) and is read on each tick of the shared
 * 100-ms ticker (util/ticker.ts — the peers' media tick: one wake-up for all of them); the first RTP it receives,
 * or RTP sent on it (a subscriber's feedback must not wait), starts its events again at once.
 * - The cost: a datagram to a quiet socket waits up to one tick (100 ms) — a data-channel message in a call
 *   where nothing is sent, a publisher's first packet, a consent check (answered well within its 5-s period).
 * - SFU_QUIET_RECEIVE=0 turns it off (every socket read on its events, as before).
 */
import { systemClock } from '../util/clock.js';
import { Ticker, type TickerJob } from '../util/ticker.js';

/** The tick (ms): the media tick's, so both run in one timer callback. */
export const QUIET_TICK_MS = 100;
/** Ticks without RTP either way before a socket is read on the tick (3 s). */
export const QUIET_TICKS = 30;

export interface QuietMember {
  /** Each tick (`tick` counts them): pause the socket's events if quiet, and read what waits while paused. */
  onQuietTick(tick: number): void;
}

export class QuietSockets {
  /** Ticks since start (a member notes the tick of its last RTP). */
  tick = 0;
  readonly quietTicks: number;
  readonly #ticker: Ticker;
  readonly #enabled: boolean;
  readonly #members = new Set<QuietMember>();
  #job: TickerJob | undefined;
  readonly #onError: (e: unknown) => void;

  constructor(ticker: Ticker, quietTicks: number, enabled: boolean, onError: (e: unknown) => void) {
    this.#ticker = ticker;
    this.quietTicks = quietTicks;
    this.#enabled = enabled;
    this.#onError = onError;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  add(m: QuietMember): void {
    if (!this.#enabled) {
      return;
    }
    this.#members.add(m);
    this.#job ??= this.#ticker.add(this.#run, this.#onError);
  }

  remove(m: QuietMember): void {
    this.#members.delete(m);
    if (this.#members.size === 0 && this.#job !== undefined) {
      this.#job.remove();
      this.#job = undefined;
    }
  }

  readonly #run = (): void => {
    const tick = ++this.tick;
    for (const m of this.#members) {
      try {
        m.onQuietTick(tick);
      } catch (e) {
        this.#onError(e);
      }
    }
  };
}

/** Failures of a member's tick since start (each one a bug: reading a socket never throws). */
export const quietErrors = { count: 0 };

/** The process's quiet sockets: on unless SFU_QUIET_RECEIVE=0. */
export const quietSockets = new QuietSockets(
  Ticker.shared(systemClock, QUIET_TICK_MS),
  QUIET_TICKS,
  process.env.SFU_QUIET_RECEIVE !== '0',
  () => {
    quietErrors.count++;
  },
);

/** Whether a datagram is RTP (not RTCP, STUN, DTLS): version 2 and a packet type outside RTCP's 192–223. */
export function isRtp(data: Uint8Array): boolean {
  const b0 = data[0] as number;
  if (b0 < 128 || b0 > 191 || data.length < 12) {
    return false;
  }
  const b1 = data[1] as number;
  return b1 < 192 || b1 > 223;
}

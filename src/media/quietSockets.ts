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
 * - Which paused sockets have anything waiting is asked once a tick for all of them (`Readiness`: one `poll()`
 *   through the add-on, udpReceive.ts), and only those are read: a `recvmmsg` on each paused socket found
 *   nothing most ticks, and at 20 idle peers those calls were a tenth of the idle focus's main thread.
 * - SFU_QUIET_RECEIVE=0 turns it off (every socket read on its events, as before).
 */
import { systemClock } from '../util/clock.js';
import { Ticker, type TickerJob } from '../util/ticker.js';

/** The tick (ms): the media tick's, so both run in one timer callback. */
export const QUIET_TICK_MS = 100;
/** Ticks without RTP either way before a socket is read on the tick (3 s). */
export const QUIET_TICKS = 30;

export interface QuietMember {
  /** Each tick (`tick` counts them): pauses the socket's events if quiet; true when paused (read this tick). */
  onQuietTick(tick: number): boolean;
  /** Reads what waits while paused. */
  readQuiet(): void;
}

/**
 * Which of the first `n` paused members have datagrams waiting: sets `ready[i]` to 1 for those (the others 0).
 * Without one every paused member is read.
 */
export type Readiness = (members: readonly QuietMember[], n: number, ready: Uint8Array) => void;

const everyOne: Readiness = (_members, n, ready) => {
  ready.fill(1, 0, n);
};

export class QuietSockets {
  /** Ticks since start (a member notes the tick of its last RTP). */
  tick = 0;
  readonly quietTicks: number;
  readonly #ticker: Ticker;
  readonly #enabled: boolean;
  readonly #members = new Set<QuietMember>();
  #job: TickerJob | undefined;
  readonly #onError: (e: unknown) => void;
  #readiness: Readiness = everyOne;
  /** This tick's paused members (kept between ticks: nothing allocated per tick once grown). */
  readonly #paused: QuietMember[] = [];
  #ready = new Uint8Array(16);

  constructor(ticker: Ticker, quietTicks: number, enabled: boolean, onError: (e: unknown) => void) {
    this.#ticker = ticker;
    this.quietTicks = quietTicks;
    this.#enabled = enabled;
    this.#onError = onError;
  }

  /** How this set learns which paused members have datagrams waiting (default: read every one). */
  useReadiness(r: Readiness): void {
    this.#readiness = r;
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
    const paused = this.#paused;
    let n = 0;
    for (const m of this.#members) {
      try {
        if (m.onQuietTick(tick)) {
          paused[n++] = m;
        }
      } catch (e) {
        this.#onError(e);
      }
    }
    if (n === 0) {
      return;
    }
    if (this.#ready.length < n) {
      this.#ready = new Uint8Array(Math.max(n, this.#ready.length * 2));
    }
    const ready = this.#ready;
    try {
      this.#readiness(paused, n, ready);
    } catch (e) {
      this.#onError(e);
      ready.fill(1, 0, n); // unknown: read each
    }
    for (let i = 0; i < n; i++) {
      const m = paused[i] as QuietMember;
      paused[i] = NO_MEMBER; // no reference kept to a member that leaves
      if (ready[i] === 1) {
        try {
          m.readQuiet();
        } catch (e) {
          this.#onError(e);
        }
      }
    }
  };
}

const NO_MEMBER: QuietMember = { onQuietTick: () => false, readQuiet: () => undefined };

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

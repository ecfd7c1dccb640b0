/**
 * The focus's own ICE consent checks (RFC 7675) in place of werift's loop. A full ICE agent that sends media must
 * ask its peer every 5 s (± 20 %) on the selected pair and stop sending 30 s after the last authenticated answer.
 * werift does this per connection with an async loop: a promise chain, an AbortController (aborted — a
 * DOMException with its stack — before each new request), a timer and a STUN transaction with an async address
 * lookup per check, and its generic STUN parser for the answer: ≈ 0.4 ms of the main thread per check, 4 % of
 * the focus's main thread at 20 subscribers (bench/README.md "The focus's own consent checks").
 *
 * Here every adopted connection is one entry checked on the shared 100-ms tick (util/ticker.ts: the media tick's,
 * no wake-up of its own); a due entry sends the request stunConsent.ts writes (a fresh cryptographically random
 * transaction id each time) straight to the nominated pair's socket, and the fast path (udpFastPath.ts) hands
 * the answer to `onResponse`, checked there (that transaction id, from that pair's address, MESSAGE-INTEGRITY
 * under the remote password). What werift's loop did with the outcome is done to the connection the same way:
 * an answer sets `consentFresh`, the pair's round-trip statistics and 'disconnected' → 'connected'; 30 s
 * without one clears `consentFresh`, ends the consent session and sets the connection 'failed'.
 *
 * A connection is adopted only where everything above holds for werift's shape (werift@0.24.4: `queryConsent`,
 * `stopConsentLifecycle`, `consentSessionId`, `buildRequest`, …) and the fast path reads the nominated pair's
 * socket (`routed`); werift's loop is stopped then and its `queryConsent` (called again after an ICE restart)
 * starts an entry here. Left to werift: an ICE-lite focus (it sends none), a request that must nominate (we
 * control, the peer is ICE-lite), a Node without CRC-32, a pair the fast path does not read — an entry whose
 * pair stops being read gives the connection back to werift's loop. werift ending the consent session (ICE
 * restart, a new nominated pair, close) ends the entry. SFU_OWN_CONSENT=0 leaves every connection to werift.
 * Deadlines are on the injected (wall) clock; a step of it between two ticks is detected and taken out (`#run`),
 * where werift's timers (setTimeout) never saw one.
 */
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import { systemClock, type Clock } from '../util/clock.js';
import { Ticker, type TickerJob } from '../util/ticker.js';
import {
  canWriteConsentRequests,
  ConsentRequestWriter,
  isConsentSuccess,
  TRANSACTION_ID_BYTES,
  type ConsentCredentials,
} from './stunConsent.js';

/** RFC 7675 §5.1: a check every 5 s, randomized over 0.8–1.2 of it. */
export const CONSENT_INTERVAL_MS = 5000;
/** RFC 7675 §5.1: consent expires 30 s after the last answer. */
export const CONSENT_TIMEOUT_MS = 30_000;
/** The tick the entries are checked on (the media tick's). */
export const CONSENT_TICK_MS = 100;
/** A gap between two ticks longer than this (or negative) is a step of the wall clock, not time passing. */
export const CLOCK_STEP_MS = 5000;

interface SocketLike {
  send(data: Buffer, port: number, host: string, done: (e: unknown) => void): void;
}

/** werift's STUN protocol of a pair, as far as a send needs it. */
export interface ConsentProtocol {
  readonly transport?: { readonly socket?: Partial<SocketLike> };
}

/** werift's CandidatePair. */
interface PairLike {
  readonly protocol?: ConsentProtocol;
  readonly remoteCandidate?: { readonly host?: string; readonly port?: number };
  readonly localCandidate?: unknown;
  rtt?: number;
  totalRoundTripTime?: number;
  roundTripTimeMeasurements?: number;
  responsesReceived?: number;
  consentRequestsSent?: number;
  requestsSent?: number;
}

/** werift's ICE Connection, as far as consent goes. */
export interface ConsentConnection {
  readonly state?: string;
  readonly nominated?: PairLike;
  consentFresh?: boolean;
  consentSessionId?: number;
  readonly queryConsentHandle?: unknown;
  queryConsent?: () => void;
  stopConsentLifecycle?: () => void;
  setState?: (state: string) => void;
  readonly localUsername?: string;
  readonly remoteUsername?: string;
  readonly remotePassword?: string;
  readonly iceControlling?: boolean;
  readonly remoteIsLite?: boolean;
  readonly iceLite?: boolean;
  readonly tieBreaker?: bigint;
  buildRequest?: (o: {
    nominate: boolean;
    localUsername: string;
    remoteUsername: string;
    iceControlling: boolean;
    localCandidate: unknown;
  }) => { getAttributeValue?: (name: string) => unknown };
}

/** Whether the fast path reads this protocol's socket (so an answer to a request sent on it reaches us). */
export type Routed = (protocol: ConsentProtocol) => boolean;

interface Entry {
  readonly conn: ConsentConnection;
  readonly session: number;
  readonly routed: Routed;
  nextAt: number;
  expiresAt: number;
  writer: ConsentRequestWriter | undefined;
  priority: number | undefined;
  /** The outstanding request's transaction id (only the last one counts, as with werift). */
  readonly txid: Buffer;
  pending: boolean;
  sentAt: number;
  pair: PairLike | undefined;
}

export interface ConsentCounters {
  /** Requests sent. */
  sent: number;
  /** Authenticated answers taken. */
  answered: number;
  /** Connections set 'failed' for want of an answer within the timeout. */
  expired: number;
  /** Connections given back to werift's loop (their pair no longer read by the fast path). */
  returned: number;
}

export interface ConsentOptions {
  intervalMs?: number;
  timeoutMs?: number;
  /** [0, 1): the interval's randomization. */
  random?: () => number;
  enabled?: boolean;
}

const ignoreSendError = (): void => undefined; // a lost request is a lost request: the next one follows

type Complete<T> = { [K in keyof T]-?: T[K] };

/** The connection's shape is werift's and its consent is a loop werift runs now (or would run). */
function adoptable(conn: ConsentConnection): conn is Complete<ConsentConnection> {
  return (
    typeof conn.queryConsent === 'function' &&
    typeof conn.stopConsentLifecycle === 'function' &&
    typeof conn.setState === 'function' &&
    typeof conn.buildRequest === 'function' &&
    typeof conn.consentSessionId === 'number' &&
    typeof conn.tieBreaker === 'bigint' &&
    typeof conn.localUsername === 'string' &&
    typeof conn.remoteUsername === 'string' &&
    typeof conn.remotePassword === 'string' &&
    conn.iceLite !== true &&
    !(conn.iceControlling === true && conn.remoteIsLite === true) // its requests nominate: werift's
  );
}

const terminal = (state: string | undefined): boolean => state === 'closed' || state === 'failed';

export class ConsentChecks {
  readonly counters: ConsentCounters = { sent: 0, answered: 0, expired: 0, returned: 0 };
  readonly #ticker: Ticker;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #random: () => number;
  readonly #enabled: boolean;
  readonly #onError: (e: unknown) => void;
  readonly #entries = new Map<ConsentConnection, Entry>();
  /** werift's own `queryConsent` of each connection whose `queryConsent` is ours. */
  readonly #weriftQuery = new WeakMap<ConsentConnection, () => void>();
  #job: TickerJob | undefined;

  constructor(ticker: Ticker, clock: Clock, onError: (e: unknown) => void, options: ConsentOptions = {}) {
    this.#ticker = ticker;
    this.#clock = clock;
    this.#onError = onError;
    this.#intervalMs = options.intervalMs ?? CONSENT_INTERVAL_MS;
    this.#timeoutMs = options.timeoutMs ?? CONSENT_TIMEOUT_MS;
    this.#random = options.random ?? Math.random;
    this.#enabled = (options.enabled ?? true) && canWriteConsentRequests;
  }

  /** Connections whose consent runs here. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `conn`'s consent session under way is run here. */
  owns(conn: ConsentConnection): boolean {
    const e = this.#entries.get(conn);
    return e !== undefined && e.session === conn.consentSessionId;
  }

  /**
   * Takes `conn`'s consent checks over from werift's loop when it runs one now and everything the header names
   * holds (idempotent: true while its session is run here; false when left to werift).
   */
  adopt(conn: ConsentConnection, routed: Routed): boolean {
    if (this.owns(conn)) {
      return true;
    }
    const pair = conn.nominated;
    if (
      !this.#enabled ||
      !adoptable(conn) ||
      conn.queryConsentHandle === undefined || // werift's loop is not running: nothing to take over now
      terminal(conn.state) ||
      pair?.protocol === undefined ||
      !routed(pair.protocol)
    ) {
      return false;
    }
    if (!this.#weriftQuery.has(conn)) {
      const werift = conn.queryConsent.bind(conn);
      this.#weriftQuery.set(conn, werift);
      // werift calls it when ICE (re)connects: the new session's checks start here, or werift's where we can't.
      conn.queryConsent = () => {
        if (!this.#start(conn, routed)) {
          werift();
        }
      };
    }
    return this.#start(conn, routed);
  }

  /** Ends werift's loop (if any) and starts an entry for a new consent session; false where we can't. */
  #start(conn: ConsentConnection, routed: Routed): boolean {
    if (!this.#enabled || !adoptable(conn) || terminal(conn.state)) {
      return false;
    }
    conn.stopConsentLifecycle(); // werift's loop, its expiry timer and its outstanding request end; new session
    conn.consentFresh = true; // as werift's `queryConsent` starts: fresh when ICE has just succeeded
    const now = this.#clock.now();
    this.#entries.set(conn, {
      conn,
      session: conn.consentSessionId,
      routed,
      nextAt: now + this.#nextInterval(),
      expiresAt: now + this.#timeoutMs,
      writer: undefined,
      priority: undefined,
      txid: Buffer.alloc(TRANSACTION_ID_BYTES),
      pending: false,
      sentAt: 0,
      pair: undefined,
    });
    if (this.#job === undefined) {
      this.#lastTickAt = undefined; // the gap since the ticks stopped is not a step
      this.#job = this.#ticker.add(this.#run, this.#onError);
    }
    return true;
  }

  /**
   * An answer from `addr` on `protocol` (the fast path's): true when it is the authenticated answer to `conn`'s
   * outstanding request from the pair it went to (taken: consent refreshed), false otherwise (werift's).
   */
  onResponse(
    conn: ConsentConnection,
    protocol: ConsentProtocol,
    data: Uint8Array,
    addr: readonly [string, number],
  ): boolean {
    const e = this.#entries.get(conn);
    const pair = e?.pair;
    if (
      e === undefined ||
      !e.pending ||
      e.session !== conn.consentSessionId ||
      pair === undefined ||
      pair.protocol !== protocol ||
      pair.remoteCandidate?.host !== addr[0] ||
      pair.remoteCandidate.port !== addr[1] ||
      !isConsentSuccess(data, e.txid, conn.remotePassword ?? '')
    ) {
      return false;
    }
    const now = this.#clock.now();
    e.pending = false;
    this.counters.answered++;
    // As werift: an answer refreshes consent only while its pair is still the nominated one.
    if (conn.nominated === pair && !terminal(conn.state)) {
      // On the ticks' time base (a step of the clock since the last tick is found and applied at the next one).
      e.expiresAt = (this.#lastTickAt ?? now) + this.#timeoutMs;
      const rtt = Math.max(0, now - e.sentAt) / 1000;
      pair.rtt = rtt;
      pair.totalRoundTripTime = (pair.totalRoundTripTime ?? 0) + rtt;
      pair.roundTripTimeMeasurements = (pair.roundTripTimeMeasurements ?? 0) + 1;
      pair.responsesReceived = (pair.responsesReceived ?? 0) + 1;
      conn.consentFresh = true;
      if (conn.state === 'disconnected') {
        conn.setState?.('connected');
      }
    }
    return true;
  }

  #nextInterval(): number {
    return this.#intervalMs * (0.8 + 0.4 * this.#random());
  }

  #drop(conn: ConsentConnection): void {
    this.#entries.delete(conn);
    if (this.#entries.size === 0 && this.#job !== undefined) {
      this.#job.remove();
      this.#job = undefined;
    }
  }

  /** The tick's time last time (a clock step is told from a late tick by its size: see `#run`). */
  #lastTickAt: number | undefined;

  readonly #run = (now: number): void => {
    // The clock is wall time: a step of it (NTP) must neither expire every connection's consent at once nor stop
    // the checks. A gap between ticks outside [0, CLOCK_STEP_MS] is taken as a step and every deadline moves by it
    // (less one tick); a stalled event loop (a tick late by a few seconds at most) only extends consent as long.
    const last = this.#lastTickAt;
    this.#lastTickAt = now;
    if (last !== undefined && (now < last || now - last > CLOCK_STEP_MS)) {
      const shift = now - last - CONSENT_TICK_MS;
      for (const e of this.#entries.values()) {
        e.nextAt += shift;
        e.expiresAt += shift;
        e.sentAt += shift;
      }
    }
    for (const e of this.#entries.values()) {
      try {
        this.#tickEntry(e, now);
      } catch (err) {
        this.#drop(e.conn);
        this.#onError(err);
      }
    }
  };

  #tickEntry(e: Entry, now: number): void {
    const conn = e.conn;
    if (e.session !== conn.consentSessionId || terminal(conn.state)) {
      this.#drop(conn); // werift ended the session (restart, new pair, close) or the connection is over
      return;
    }
    if (now >= e.expiresAt) {
      this.#drop(conn);
      this.counters.expired++;
      conn.consentFresh = false;
      conn.consentSessionId = e.session + 1;
      conn.setState?.('failed');
      return;
    }
    if (now < e.nextAt) {
      return;
    }
    e.nextAt = now + this.#nextInterval();
    const pair = conn.nominated;
    if (pair === undefined) {
      this.#drop(conn); // werift's loop ends here too
      return;
    }
    const socket = pair.protocol?.transport?.socket;
    const host = pair.remoteCandidate?.host;
    const port = pair.remoteCandidate?.port;
    if (
      pair.protocol === undefined ||
      !e.routed(pair.protocol) ||
      typeof socket?.send !== 'function' ||
      host === undefined ||
      port === undefined
    ) {
      this.#giveBack(e);
      return;
    }
    const writer = this.#writerFor(e, pair);
    if (writer === undefined) {
      this.#giveBack(e);
      return;
    }
    randomFillSync(e.txid);
    const bytes = writer.write(e.txid);
    e.pending = true;
    e.sentAt = now;
    e.pair = pair;
    pair.consentRequestsSent = (pair.consentRequestsSent ?? 0) + 1;
    pair.requestsSent = (pair.requestsSent ?? 0) + 1;
    this.counters.sent++;
    socket.send(bytes, port, host, ignoreSendError);
  }

  /** The writer for the connection's credentials now (a new one when they changed); undefined where unknown. */
  #writerFor(e: Entry, pair: PairLike): ConsentRequestWriter | undefined {
    const conn = e.conn;
    if (!adoptable(conn)) {
      return undefined;
    }
    if (e.priority === undefined) {
      // PRIORITY as werift writes it (a peer-reflexive candidate of the pair's transport): asked of it once.
      const p = conn
        .buildRequest({
          nominate: false,
          localUsername: conn.localUsername,
          remoteUsername: conn.remoteUsername,
          iceControlling: conn.iceControlling,
          localCandidate: pair.localCandidate,
        })
        .getAttributeValue?.('PRIORITY');
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 0xffffffff) {
        return undefined;
      }
      e.priority = p;
    }
    const creds: ConsentCredentials = {
      localUfrag: conn.localUsername,
      remoteUfrag: conn.remoteUsername,
      remotePassword: conn.remotePassword,
      controlling: conn.iceControlling,
      tieBreaker: conn.tieBreaker,
      priority: e.priority,
    };
    if (e.writer === undefined || !e.writer.matches(creds)) {
      e.writer = new ConsentRequestWriter(creds);
    }
    return e.writer;
  }

  /** The connection's consent goes back to werift's loop (a fresh session there). */
  #giveBack(e: Entry): void {
    this.#drop(e.conn);
    this.counters.returned++;
    const werift = this.#weriftQuery.get(e.conn);
    if (werift !== undefined) {
      this.#weriftQuery.delete(e.conn);
      e.conn.queryConsent = werift;
      werift();
    }
  }
}

/** Failures of an entry's tick since start (each one a bug). */
export const consentErrors = { count: 0 };

/** The process's consent checks: on the shared 100-ms ticker; SFU_OWN_CONSENT=0 leaves them to werift. */
export const consentChecks = new ConsentChecks(
  Ticker.shared(systemClock, CONSENT_TICK_MS),
  systemClock,
  () => {
    consentErrors.count++;
  },
  { enabled: process.env.SFU_OWN_CONSENT !== '0' },
);

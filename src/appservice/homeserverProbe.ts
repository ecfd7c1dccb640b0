/**
 * Keeps the 'homeserver' readiness check current: GET /_matrix/client/versions, re-checked every
 * `okIntervalMs` while it answers and every `retryMs` while it does not. Stops on close().
 */
import type { Logger } from 'pino';
import type { Readiness } from '../observability/readiness.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { describeNetworkError } from './startupHints.js';

/** `soon()` checks at most this often. */
export const SOON_MIN_INTERVAL_MS = 2000;

export interface HomeserverProbeOptions {
  baseUrl: string;
  timeoutMs: number;
  readiness: Readiness;
  clock: Clock;
  log: Logger;
  retryMs?: number;
  okIntervalMs?: number;
  /** Called when a check succeeds after one failed (the homeserver is back from an outage). */
  onRecovered?: () => void;
}

export class HomeserverProbe {
  readonly #o: HomeserverProbeOptions;
  #timer: TimerHandle | undefined;
  #closed = false;
  #lastOk: boolean | undefined;
  #inFlight = false;
  #lastCheckAt = Number.NEGATIVE_INFINITY;

  constructor(opts: HomeserverProbeOptions) {
    this.#o = opts;
  }

  /** Runs one check now and schedules the next; resolves with the result of this check. */
  async check(): Promise<boolean> {
    this.#inFlight = true;
    this.#lastCheckAt = this.#o.clock.now();
    try {
      return await this.#check();
    } finally {
      this.#inFlight = false;
    }
  }

  async #check(): Promise<boolean> {
    const url = new URL('/_matrix/client/versions', this.#o.baseUrl);
    let ok = false;
    let detail: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.#o.timeoutMs) });
      const body: unknown = await res.json().catch(() => undefined);
      ok =
        res.ok &&
        typeof body === 'object' &&
        body !== null &&
        Array.isArray((body as { versions?: unknown }).versions);
      detail = ok
        ? 'answered /_matrix/client/versions'
        : `GET /_matrix/client/versions answered ${res.status}`;
    } catch (e) {
      detail = `GET /_matrix/client/versions failed: ${describeNetworkError(this.#o.baseUrl, e)}`;
    }
    if (this.#closed) {
      return ok;
    }
    this.#o.readiness.set('homeserver', ok, detail);
    if (ok !== this.#lastOk) {
      if (ok) {
        this.#o.log.info({ url: this.#o.baseUrl }, 'homeserver reachable');
        if (this.#lastOk === false) {
          this.#o.onRecovered?.();
        }
      } else {
        this.#o.log.warn({ url: this.#o.baseUrl, detail }, 'homeserver not reachable');
      }
      this.#lastOk = ok;
    }
    this.#schedule(ok ? (this.#o.okIntervalMs ?? 30_000) : (this.#o.retryMs ?? 5_000));
    return ok;
  }

  start(): void {
    void this.check();
  }

  /**
   * Another request to the homeserver failed and will be retried: check now rather than at the next interval
   * (30 s while it answered), so /readyz says why soon after an outage starts. At most once per
   * SOON_MIN_INTERVAL_MS, never two checks at once.
   */
  soon(): void {
    const now = this.#o.clock.now();
    if (this.#closed || this.#inFlight || now - this.#lastCheckAt < SOON_MIN_INTERVAL_MS) {
      return;
    }
    void this.check();
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
  }

  #schedule(ms: number): void {
    this.#timer?.cancel();
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.check();
    }, ms);
  }
}

/**
 * Data-channel keep-alive (protocol.md §5.5), on an injected clock: any client message resets the timeout;
 * while pinging (dialect B, and before the dialect is known) `sendPing` runs every interval; silence for
 * `timeoutMs` calls `onTimeout` once. The waterfall HeartbeatConfig shape: closures, no I/O here.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

export interface KeepAliveOptions {
  clock: Clock;
  intervalMs: number;
  timeoutMs: number;
  sendPing: () => void;
  onTimeout: () => void;
}

export class KeepAlive {
  readonly #o: KeepAliveOptions;
  #pinging = true;
  #timeout: TimerHandle | undefined;
  #ping: TimerHandle | undefined;
  #running = false;

  constructor(opts: KeepAliveOptions) {
    this.#o = opts;
  }

  get pinging(): boolean {
    return this.#pinging;
  }

  start(): void {
    if (this.#running) {
      return;
    }
    this.#running = true;
    this.touch();
    this.#schedulePing();
  }

  /** A client message arrived. */
  touch(): void {
    if (!this.#running) {
      return;
    }
    this.#timeout?.cancel();
    this.#timeout = this.#o.clock.setTimeout(() => {
      this.stop();
      this.#o.onTimeout();
    }, this.#o.timeoutMs);
  }

  setPinging(on: boolean): void {
    if (on === this.#pinging) {
      return;
    }
    this.#pinging = on;
    this.#ping?.cancel();
    this.#ping = undefined;
    this.#schedulePing();
  }

  stop(): void {
    this.#running = false;
    this.#timeout?.cancel();
    this.#ping?.cancel();
    this.#timeout = undefined;
    this.#ping = undefined;
  }

  #schedulePing(): void {
    if (!this.#running || !this.#pinging) {
      return;
    }
    this.#ping = this.#o.clock.setTimeout(() => {
      this.#ping = undefined;
      this.#o.sendPing();
      this.#schedulePing();
    }, this.#o.intervalMs);
  }
}

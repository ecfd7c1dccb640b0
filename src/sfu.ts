/**
 * The composition root of a running SFU: event bus, transaction processor, readiness, homeserver probe,
 * media layer and HTTP listeners, wired from a validated Config and Registration. main.ts only parses
 * the command line and handles signals; tests start this directly.
 */
import type { Logger } from 'pino';
import { AppserviceEventBus } from './appservice/eventBus.js';
import { HomeserverProbe } from './appservice/homeserverProbe.js';
import { focusUserId, type Registration } from './appservice/registration.js';
import { TransactionProcessor } from './appservice/transactions.js';
import type { Config } from './config/types.js';
import { buildHttpServers, type HttpServers } from './http/server.js';
import { MediaLayer } from './media/mediaLayer.js';
import { Metrics } from './observability/metrics.js';
import { Readiness } from './observability/readiness.js';
import { systemClock, type Clock } from './util/clock.js';
import { VERSION } from './version.js';

export interface SfuOptions {
  config: Config;
  registration: Registration;
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
}

export class Sfu {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly readiness: Readiness;
  readonly bus: AppserviceEventBus;
  readonly transactions: TransactionProcessor;
  readonly media: MediaLayer;
  readonly probe: HomeserverProbe;
  readonly http: HttpServers;
  readonly focus: { userId: string; deviceId: string };
  readonly #startedAt: number;
  #stopping: Promise<void> | undefined;

  constructor(opts: SfuOptions) {
    const { config, registration, log } = opts;
    this.config = config;
    this.log = log;
    this.clock = opts.clock ?? systemClock;
    this.#startedAt = this.clock.now();
    this.metrics = opts.metrics ?? new Metrics();
    this.metrics.buildInfo.set({ version: VERSION }, 1);
    this.focus = {
      userId: focusUserId(registration.sender_localpart, config.homeserver.server_name),
      deviceId: config.focus.device_id,
    };
    this.readiness = new Readiness(['homeserver', 'media'], (name, state) => {
      this.metrics.ready.set({ check: name }, state.ok ? 1 : 0);
    });
    const busLog = log.child({ component: 'bus' });
    this.bus = new AppserviceEventBus((kind, err) => {
      this.metrics.eventsIgnored.inc({ reason: 'handler_error' });
      busLog.error({ kind, err }, 'event handler failed');
    });
    this.transactions = new TransactionProcessor({
      bus: this.bus,
      focus: this.focus,
      metrics: this.metrics,
      log: log.child({ component: 'transactions' }),
    });
    this.media = new MediaLayer(config.media);
    this.probe = new HomeserverProbe({
      baseUrl: config.homeserver.url,
      timeoutMs: config.homeserver.request_timeout_s * 1000,
      readiness: this.readiness,
      clock: this.clock,
      log: log.child({ component: 'homeserver' }),
    });
    this.http = buildHttpServers({
      log: log.child({ component: 'http' }),
      appservice: {
        bind: config.appservice.bind,
        port: config.appservice.port,
        hsToken: registration.hs_token,
        focusUserId: this.focus.userId,
        maxTransactionBytes: config.limits.max_transaction_bytes,
        transactions: this.transactions,
        log: log.child({ component: 'appservice' }),
      },
      ops: {
        bind: config.http.bind,
        port: config.http.port,
        metrics: this.metrics,
        readiness: this.readiness,
        status: () => this.status(),
      },
    });
  }

  status(): Record<string, unknown> {
    return {
      name: 'matrix-sfu',
      version: VERSION,
      uptime_s: Math.round((this.clock.now() - this.#startedAt) / 1000),
      focus: { user_id: this.focus.userId, device_id: this.focus.deviceId },
      to_device_transport: this.config.to_device.transport,
    };
  }

  /** Starts the media layer, the listeners and the homeserver probe; resolves with the listen addresses. */
  async start(): Promise<string[]> {
    await this.media.start();
    this.readiness.set(
      'media',
      true,
      `UDP ports ${this.config.media.port_range.min}-${this.config.media.port_range.max} bindable`,
    );
    const addrs = await this.http.listen();
    this.probe.start();
    this.log.info({ listening: addrs, focus: this.focus, version: VERSION }, 'matrix-sfu started');
    return addrs;
  }

  /** Idempotent: stop accepting, finish queued transactions (bounded), close media. */
  stop(reason: string, drainMs = 2000): Promise<void> {
    this.#stopping ??= (async () => {
      this.log.info({ reason }, 'shutting down');
      this.probe.close();
      await this.http.close();
      await Promise.race([this.transactions.close(), new Promise((r) => setTimeout(r, drainMs).unref())]);
      await this.media.close();
      this.log.info('stopped');
    })();
    return this.#stopping;
  }
}

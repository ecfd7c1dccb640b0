/**
 * The composition root of a running SFU: event bus, transaction processor, readiness, homeserver probe,
 * media layer and HTTP listeners, wired from a validated Config and Registration. main.ts only parses
 * the command line and handles signals; tests start this directly.
 */
import { findCallAssets } from './http/callPage.js';
import type { Logger } from 'pino';
import { AppserviceEventBus } from './appservice/eventBus.js';
import { rebuildConferences } from './appservice/conferenceRebuild.js';
import { ensureFocusIdentity } from './appservice/focusSetup.js';
import { HomeserverClient, HomeserverUnavailableError } from './appservice/homeserverClient.js';
import { describeNetworkError, setupHint } from './appservice/startupHints.js';
import { HomeserverProbe } from './appservice/homeserverProbe.js';
import { MembershipMetrics } from './appservice/membershipMetrics.js';
import { MembershipService } from './appservice/membershipService.js';
import { focusUserId, type Registration } from './appservice/registration.js';
import { SyncTransport } from './appservice/syncTransport.js';
import { ToDeviceMetrics, ToDeviceSender } from './appservice/toDeviceSender.js';
import { TransactionProcessor } from './appservice/transactions.js';
import { ConferenceManager } from './conference/conferenceManager.js';
import { ConferenceMetrics } from './conference/metrics.js';
import { LinkRelay } from './conference/linkRelay.js';
import { conferencesDetail, STATUS_LIMITS } from './conference/statusView.js';
import type { Config } from './config/types.js';
import { buildHttpServers, type HttpServers } from './http/server.js';
import { MediaLayer } from './media/mediaLayer.js';
import { Metrics } from './observability/metrics.js';
import { Readiness } from './observability/readiness.js';
import { systemClock, type Clock, type TimerHandle } from './util/clock.js';
import { ConfigError, toError } from './util/errors.js';
import { TypedEmitter } from './util/events.js';
import { VERSION } from './version.js';

export interface SfuOptions {
  config: Config;
  registration: Registration;
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
}

export type SfuEvents = {
  /** A problem that needs the operator (bad registration seen by the homeserver...): main exits 78. */
  fatal: [Error];
};

const SETUP_RETRY_MS = 5000;

export class Sfu extends TypedEmitter<SfuEvents> {
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
  readonly client: HomeserverClient;
  readonly membership: MembershipService;
  readonly sender: ToDeviceSender;
  readonly conferences: ConferenceManager;
  readonly sync: SyncTransport | undefined;
  readonly #registration: Registration;
  readonly #startedAt: number;
  #setupTimer: TimerHandle | undefined;
  #stopping: Promise<void> | undefined;

  constructor(opts: SfuOptions) {
    super();
    const { config, registration, log } = opts;
    this.#registration = registration;
    this.config = config;
    this.log = log;
    this.clock = opts.clock ?? systemClock;
    this.#startedAt = this.clock.now();
    this.metrics =
      opts.metrics ?? new Metrics({ eventLoopResolutionMs: config.http.event_loop_resolution_ms });
    this.metrics.buildInfo.set({ version: VERSION }, 1);
    this.focus = {
      userId: focusUserId(registration.sender_localpart, config.homeserver.server_name),
      deviceId: config.focus.device_id,
    };
    this.readiness = new Readiness(['homeserver', 'matrix', 'media'], (name, state) => {
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
    this.media = new MediaLayer(config.media, {
      clock: this.clock,
      log: log.child({ component: 'media' }),
      registry: this.metrics.registry,
    });
    const hsLog = log.child({ component: 'homeserver' });
    this.client = new HomeserverClient({
      baseUrl: config.homeserver.url,
      asToken: registration.as_token,
      userId: this.focus.userId,
      timeoutMs: config.homeserver.request_timeout_s * 1000,
      clock: this.clock,
      log: hsLog,
      onRequest: (_method, _endpoint, result) => {
        if (result === 'retry') {
          this.probe.soon(); // an outage shows in /readyz at once, not at the probe's next interval
        }
      },
    });
    this.membership = new MembershipService({
      client: this.client,
      bus: this.bus,
      clock: this.clock,
      log: log.child({ component: 'membership' }),
      metrics: new MembershipMetrics(this.metrics.registry, this.metrics.eventsIgnored),
      focus: { user_id: this.focus.userId, device_id: this.focus.deviceId },
      serverName: config.homeserver.server_name,
      autoJoin: config.matrix.auto_join,
      autoJoinAllow: config.matrix.auto_join_allow,
      maxRooms: config.limits.max_joined_rooms,
      maxRoomStateBytes: config.limits.max_room_state_bytes,
    });
    this.membership.attach();
    this.sender = new ToDeviceSender({
      client: this.client,
      clock: this.clock,
      log: log.child({ component: 'to-device' }),
      metrics: new ToDeviceMetrics(this.metrics.registry),
    });
    this.conferences = new ConferenceManager({
      oracle: this.membership,
      changes: this.membership,
      signal: this.sender,
      media: this.media,
      clock: this.clock,
      log: log.child({ component: 'conference' }),
      metrics: new ConferenceMetrics(this.metrics.registry),
      focus: { user_id: this.focus.userId, device_id: this.focus.deviceId },
      limits: config.limits,
      membershipWaitMs: config.auth.membership_wait_s * 1000,
      keepalive: {
        intervalMs: config.keepalive.interval_s * 1000,
        timeoutMs: config.keepalive.timeout_s * 1000,
      },
      answerTimeoutMs: config.negotiation.answer_timeout_s * 1000,
      linkMedia: this.media,
      relays: { create: (d, router) => new LinkRelay(d, router) },
      cascade: config.cascade,
      random: { random: () => Math.random() },
    });
    this.bus.subscribe('to_device', (ev) => {
      this.conferences.handleToDevice(ev);
    });
    this.sync =
      config.to_device.transport === 'sync'
        ? new SyncTransport({
            client: this.client,
            bus: this.bus,
            focus: this.focus,
            clock: this.clock,
            log: log.child({ component: 'sync' }),
            onIgnored: (reason) => {
              this.metrics.eventsIgnored.inc({ reason });
            },
          })
        : undefined;
    this.probe = new HomeserverProbe({
      baseUrl: config.homeserver.url,
      timeoutMs: config.homeserver.request_timeout_s * 1000,
      readiness: this.readiness,
      clock: this.clock,
      log: hsLog,
      // Back from an outage: re-read every room's state (issue 17: membership resyncs from /state).
      onRecovered: () => {
        if (!this.isStopping()) {
          void this.membership.resyncAll();
        }
      },
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
        ...(config.web.call_page
          ? {
              callPage: {
                assets: findCallAssets(),
                homeserverUrl: config.web.homeserver_url ?? config.homeserver.url,
                focus: { user_id: this.focus.userId, device_id: this.focus.deviceId },
              },
            }
          : {}),
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
      ...this.conferences.status(),
      detail: conferencesDetail(this.conferences.list(), STATUS_LIMITS, this.clock.now()),
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
    void this.#setup();
    this.log.info({ listening: addrs, focus: this.focus, version: VERSION }, 'matrix-sfu started');
    return addrs;
  }

  /**
   * Focus identity (register user, ensure device) then room-state bootstrap; retried every 5 s while the
   * homeserver is unreachable. A configuration problem it reveals is fatal.
   */
  async #setup(): Promise<void> {
    if (this.isStopping()) {
      return;
    }
    try {
      await ensureFocusIdentity(
        this.client,
        {
          localpart: this.#registration.sender_localpart,
          deviceId: this.focus.deviceId,
          displayName: this.config.focus.display_name,
        },
        this.log.child({ component: 'focus' }),
      );
      const rooms = await this.membership.bootstrapAll();
      // §8.7: conferences whose memberships name this focus and others are rebuilt and their peers invited.
      if (this.config.cascade.auto) {
        this.#rebuild();
      }
      this.sync?.start();
      this.readiness.set(
        'matrix',
        true,
        `focus ${this.focus.userId}/${this.focus.deviceId} ready; ${rooms} rooms`,
      );
    } catch (e) {
      const err = toError(e);
      if (err instanceof ConfigError) {
        this.readiness.set('matrix', false, err.message);
        this.log.fatal({ err }, 'homeserver set-up failed: configuration problem');
        this.safeEmit('fatal', err);
        return;
      }
      const why =
        err instanceof HomeserverUnavailableError && err.cause !== undefined
          ? `${err.message.split(': ')[0] ?? ''}: ${describeNetworkError(this.config.homeserver.url, err.cause)}`
          : err.message;
      const hint = setupHint(err);
      this.readiness.set('matrix', false, hint === undefined ? why : `${why} — ${hint}`);
      this.log.warn(
        { err: why, ...(hint !== undefined ? { hint } : {}) },
        `homeserver set-up failed; retrying in ${SETUP_RETRY_MS / 1000} s`,
      );
      if (!this.isStopping()) {
        this.#setupTimer = this.clock.setTimeout(() => {
          void this.#setup();
        }, SETUP_RETRY_MS);
      }
    }
  }

  #rebuild(): void {
    rebuildConferences({
      source: this.membership.store,
      conferences: this.conferences,
      focus: { user_id: this.focus.userId, device_id: this.focus.deviceId },
      now: this.clock.now(),
      maxConferences: this.config.limits.max_joined_rooms,
      log: this.log.child({ component: 'rebuild' }),
    });
  }

  isStopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** Idempotent: stop accepting, finish queued transactions (bounded), close media. */
  stop(reason: string, drainMs = 2000): Promise<void> {
    this.#stopping ??= (async () => {
      this.log.info({ reason }, 'shutting down');
      // The clock's timers are unref'd. Once the HTTP servers are closed, a step that waits only on them — the
      // to-device sender's bounded drain while the homeserver is unreachable — would leave nothing holding the
      // event loop: node exited mid-stop (media never closed) or, in a test, the promise never settled (found by
      // the transactions fuzz). Every step is bounded; this handle only keeps the loop alive until they end.
      const hold = setInterval(() => undefined, 60_000);
      try {
        this.probe.close();
        this.#setupTimer?.cancel();
        await this.conferences.close();
        await this.http.close();
        await this.sync?.close();
        this.membership.close();
        await this.sender.close();
        await Promise.race([this.transactions.close(), new Promise((r) => setTimeout(r, drainMs).unref())]);
        await this.media.close();
      } finally {
        clearInterval(hold);
      }
      this.log.info('stopped');
    })();
    return this.#stopping;
  }
}

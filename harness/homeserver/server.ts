/**
 * The test homeserver: a strict in-process stand-in for Synapse implementing the Client-Server and
 * Application-Service endpoints the SFU uses (docs/protocol.md §2), with hooks for tests. It may serve several
 * server names at once (`federation`), one listener each, sharing users, rooms and to-device as if federated.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { parseUserId } from './ids.js';
import { AppservicePusher, routeChange } from './appservicePush.js';
import type { ServerContext } from './context.js';
import { Faults } from './faults.js';
import { HttpClient } from './httpClient.js';
import { isValidLocalpart } from './ids.js';
import { accountRoutes } from './routes/account.js';
import { appserviceRoutes } from './routes/appservice.js';
import { discoveryRoutes } from './routes/discovery.js';
import { messagesRoutes } from './routes/messages.js';
import { roomRoutes } from './routes/rooms.js';
import { roomStateRoutes } from './routes/roomState.js';
import { syncRoutes } from './routes/sync.js';
import { toDeviceRoutes } from './routes/toDevice.js';
import { Router } from './routing.js';
import { CALL_ROOM_POWER_LEVELS } from './powerLevels.js';
import { check, validators, type CreateRoomBody } from './schemas.js';
import { HomeserverState, type InboxEntry } from './state.js';
import { SyncWaiters } from './sync.js';
import { SharedWorld } from './world.js';
import type {
  AsRegistration,
  ClientEvent,
  CreatedUser,
  FailMatcher,
  InjectedResponse,
  PushRecord,
  RejectionRecord,
  RequestRecord,
  TestHomeserverOptions,
  ToDeviceMessage,
  FederatedServerOptions,
  ToDeviceMessages,
  ToDeviceRewriter,
} from './types.js';

/** One server name's listener and request context. */
interface Served {
  app: ReturnType<typeof Fastify>;
  ctx: ServerContext;
  url: string;
}

export class TestHomeserver {
  /** Base URL, e.g. `http://127.0.0.1:43210` (of the first server name). */
  readonly url: string;
  /** The first server name. */
  readonly serverName: string;
  /** Every request received, in order. */
  readonly requests: RequestRecord[];
  /** Requests refused as spec violations (bad path/method/auth/params/body). */
  readonly rejections: RejectionRecord[];
  /** Every AS push attempt, in order (retries repeat the txnId). */
  readonly pushes: PushRecord[] = [];

  readonly #served: Map<string, Served>;
  readonly #ctx: ServerContext;
  readonly #http: HttpClient;
  readonly #faults: Faults;
  readonly #pushers = new Map<string, AppservicePusher>();
  readonly #toDeviceKey: NonNullable<TestHomeserverOptions['pushToDeviceKey']>;
  readonly #retry: { initialMs: number; maxMs: number };
  readonly #closers = new Set<() => void>();
  #manualTxn = 0;
  #closed = false;

  /** Use startTestHomeserver(). */
  constructor(
    served: Served[],
    faults: Faults,
    logs: { requests: RequestRecord[]; rejections: RejectionRecord[] },
    opts: TestHomeserverOptions,
  ) {
    const first = served[0]!;
    this.url = first.url;
    this.serverName = opts.serverName;
    this.requests = logs.requests;
    this.rejections = logs.rejections;
    this.#served = new Map(served.map((s) => [s.ctx.state.serverName, s]));
    this.#ctx = first.ctx;
    this.#http = first.ctx.http;
    this.#faults = faults;
    this.#toDeviceKey = opts.pushToDeviceKey ?? 'de.sorunome.msc2409.to_device';
    this.#retry = { initialMs: opts.pushRetry?.initialMs ?? 200, maxMs: opts.pushRetry?.maxMs ?? 5000 };
    this.#closers.add(
      first.ctx.state.subscribe((change) => {
        routeChange(change, this.#pushers.values());
      }),
    );
  }

  get #state(): HomeserverState {
    return this.#ctx.state;
  }

  /** Every server name served, the first one first. */
  get serverNames(): string[] {
    return [...this.#served.keys()];
  }

  /** Base URL of the listener of `serverName` (one of `serverNames`). */
  urlOf(serverName: string): string {
    return this.#servedAs(serverName).url;
  }

  #servedAs(serverName: string): Served {
    const served = this.#served.get(serverName);
    if (served === undefined) {
      throw new Error(
        `this test homeserver does not serve ${serverName} (it serves ${this.serverNames.join(', ')})`,
      );
    }
    return served;
  }

  /** The view of the server a user id names (the first server name when it names none served here). */
  #stateOfUser(userId: string): HomeserverState {
    const name = parseUserId(userId)?.serverName;
    return (name === undefined ? undefined : this.#served.get(name)?.ctx.state) ?? this.#state;
  }

  /**
   * Registers an appservice (as if listed in the homeserver config) on `serverName` (default: the first); its
   * sender user `@<sender_localpart>:<serverName>` exists from now on.
   */
  addAppservice(reg: AsRegistration, serverName: string = this.serverName): void {
    const state = this.#servedAs(serverName).ctx.state;
    const as = state.appservices.add(reg);
    if (!state.userExists(as.senderUserId)) {
      state.createUser(reg.sender_localpart, { appserviceId: as.id });
    }
    this.#pushers.set(
      pusherKey(serverName, as.id),
      new AppservicePusher(as, {
        http: this.#http,
        toDeviceKey: this.#toDeviceKey,
        log: this.pushes,
        retry: this.#retry,
        tagged: this.#served.size > 1,
      }),
    );
  }

  /**
   * A user of `opts.serverName` (default: the first server name) with one device and its access token (like
   * registering over HTTP, without the checks).
   */
  createUser(
    localpart: string,
    opts: { password?: string; deviceId?: string; serverName?: string } = {},
  ): CreatedUser {
    if (!isValidLocalpart(localpart)) {
      throw new Error(`invalid localpart ${JSON.stringify(localpart)}`);
    }
    const state = this.#servedAs(opts.serverName ?? this.serverName).ctx.state;
    const user = state.createUser(localpart, opts.password === undefined ? {} : { password: opts.password });
    return { userId: user.userId, ...this.addDevice(user.userId, opts.deviceId) };
  }

  /** Logs an existing user in on a (new or existing) device; the token is valid at their server's listener. */
  addDevice(userId: string, deviceId?: string): { accessToken: string; deviceId: string } {
    const state = this.#stateOfUser(userId);
    const { device } = state.ensureDevice(userId, deviceId);
    return { accessToken: state.issueToken(userId, device.deviceId), deviceId: device.deviceId };
  }

  /**
   * createRoom as `creatorUserId`; unlike the HTTP default (private_chat) the preset defaults to public_chat, and
   * every member may write call memberships (CALL_ROOM_POWER_LEVELS, as in rooms Element creates) unless
   * `power_level_content_override` says otherwise.
   * The room id names the creator's server.
   */
  createRoom(creatorUserId: string, opts: CreateRoomBody = {}): string {
    const body = check(validators.createRoom, {
      preset: 'public_chat',
      power_level_content_override: CALL_ROOM_POWER_LEVELS,
      ...opts,
    });
    return this.#stateOfUser(creatorUserId).rooms.createRoom(creatorUserId, body).roomId;
  }

  join(userId: string, roomIdOrAlias: string): ClientEvent {
    const room = this.#state.rooms.resolve(roomIdOrAlias);
    return this.#state.rooms.setMembership(userId, room.roomId, userId, 'join');
  }

  leave(userId: string, roomId: string): ClientEvent {
    return this.#state.rooms.setMembership(userId, roomId, userId, 'leave');
  }

  invite(by: string, userId: string, roomId: string): ClientEvent {
    return this.#state.rooms.act('invite', by, roomId, userId);
  }

  kick(by: string, userId: string, roomId: string, reason?: string): ClientEvent {
    return this.#state.rooms.act('kick', by, roomId, userId, reason);
  }

  ban(by: string, userId: string, roomId: string, reason?: string): ClientEvent {
    return this.#state.rooms.act('ban', by, roomId, userId, reason);
  }

  /** Sends a state event under the room auth rules (sender joined; `@` state keys only the sender's own). */
  sendState(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): ClientEvent {
    return structuredClone(this.#state.rooms.sendState(userId, roomId, type, stateKey, content));
  }

  sendMessage(userId: string, roomId: string, type: string, content: Record<string, unknown>): ClientEvent {
    return structuredClone(this.#state.rooms.sendMessage(userId, roomId, type, content));
  }

  /** The room's current state events (with room_id). */
  roomState(roomId: string): ClientEvent[] {
    return this.#state.rooms
      .resolve(roomId)
      .currentState()
      .map((s) => structuredClone(s.event));
  }

  /** Every event of the room in order, state and timeline (with room_id). */
  roomTimeline(roomId: string): ClientEvent[] {
    return this.#state.rooms.resolve(roomId).timeline.map((s) => structuredClone(s.event));
  }

  /** Same delivery as PUT /sendToDevice (no transaction id). */
  sendToDevice(fromUserId: string, type: string, messages: ToDeviceMessages): void {
    this.#state.deliverToDevice(fromUserId, type, check(validators.sendToDevice, { messages }).messages);
  }

  /**
   * Every to-device message (over HTTP or `sendToDevice`, any server name) passes through `rewriter` after its
   * request was checked and before delivery; it may return a rewritten copy of the content, or null to drop the
   * message. Returns the function that removes the hook. Tests use it to reroute ICE (harness/trunkRelay.ts).
   */
  rewriteToDevice(rewriter: ToDeviceRewriter): () => void {
    const rewriters = this.#state.world.toDeviceRewriters;
    rewriters.add(rewriter);
    return () => {
      rewriters.delete(rewriter);
    };
  }

  /**
   * What `/.well-known/matrix/client` of `serverName` (default: the first) announces as
   * `org.matrix.msc4143.rtc_foci`; undefined removes the key.
   */
  setRtcFoci(foci: unknown[] | undefined, serverName: string = this.serverName): void {
    this.#servedAs(serverName).ctx.discovery.rtcFoci = foci === undefined ? undefined : structuredClone(foci);
  }

  /** The next `times` requests matching `matcher` get `response` instead of being handled. */
  failNext(matcher: FailMatcher, response: InjectedResponse, times = 1): void {
    this.#faults.add(matcher, response, times);
  }

  /** Messages delivered to a device and not yet acknowledged by its /sync. */
  toDeviceInbox(userId: string, deviceId: string): ToDeviceMessage[] {
    return (this.#state.device(userId, deviceId)?.inbox ?? []).map((e) => structuredClone(e.message));
  }

  /** Resolves with the first message ever delivered to the device (consumed or not) that matches. */
  waitForToDevice(
    userId: string,
    deviceId: string,
    predicate: (m: ToDeviceMessage) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ToDeviceMessage> {
    const seen = this.#state.device(userId, deviceId)?.history.find((e) => predicate(e.message));
    if (seen !== undefined) {
      return Promise.resolve(structuredClone(seen.message));
    }
    return new Promise((resolve, reject) => {
      const finish = (err: Error | undefined, entry?: InboxEntry): void => {
        clearTimeout(timer);
        unsubscribe();
        this.#closers.delete(onClose);
        if (err !== undefined) {
          reject(err);
        } else {
          resolve(structuredClone(entry!.message));
        }
      };
      const onClose = (): void => {
        finish(new Error('test homeserver closed'));
      };
      const unsubscribe = this.#state.subscribe((change) => {
        if (
          change.kind === 'toDevice' &&
          change.userId === userId &&
          change.deviceId === deviceId &&
          predicate(change.entry.message)
        ) {
          finish(undefined, change.entry);
        }
      });
      const timer = setTimeout(() => {
        finish(new Error(`no matching to-device message for ${userId}/${deviceId} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.#closers.add(onClose);
    });
  }

  /** Pushes a raw transaction to an appservice (of `serverName`, default the first) now, outside its queue; no retry. */
  async pushTransaction(
    asId: string,
    body: unknown,
    txnId?: string,
    serverName: string = this.serverName,
  ): Promise<{ status: number; body: unknown }> {
    const as = this.#servedAs(serverName).ctx.state.appservices.byId(asId);
    if (as?.reg.url == null) {
      throw new Error(`no appservice ${asId} with a URL`);
    }
    const id = txnId ?? `manual-${++this.#manualTxn}`;
    const record: PushRecord = {
      appserviceId: asId,
      txnId: id,
      body: body as Record<string, unknown>,
      attempt: 1,
    };
    if (this.#served.size > 1) {
      record.serverName = serverName;
    }
    this.pushes.push(record);
    const res = await this.#http.request(
      'PUT',
      `${as.reg.url.replace(/\/+$/, '')}/_matrix/app/v1/transactions/${encodeURIComponent(id)}`,
      { authorization: `Bearer ${as.reg.hs_token}` },
      body,
      10_000,
    );
    record.status = res.status;
    record.responseBody = res.text;
    let parsed: unknown = res.text;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }

  /** Resolves once every AS queue is empty and nothing is in flight; rejects after `timeoutMs`. */
  async pushesSettled(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`AS pushes not settled within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
    });
    const settled = async (): Promise<void> => {
      for (;;) {
        await Promise.all([...this.#pushers.values()].map((p) => p.idle()));
        await new Promise<void>((resolve) => setImmediate(resolve));
        if ([...this.#pushers.values()].every((p) => p.idleNow)) {
          return;
        }
      }
    };
    try {
      await Promise.race([settled(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops pushes and long-polls, then closes the listener and every outgoing socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    for (const pusher of this.#pushers.values()) {
      pusher.close();
    }
    for (const closer of [...this.#closers]) {
      closer();
    }
    for (const served of this.#served.values()) {
      served.ctx.syncWaiters.close();
    }
    this.#http.close();
    await Promise.all([...this.#served.values()].map((served) => served.app.close()));
  }
}

const pusherKey = (serverName: string, asId: string): string => `${serverName}\u0000${asId}`;

export async function startTestHomeserver(opts: TestHomeserverOptions): Promise<TestHomeserver> {
  const servers: FederatedServerOptions[] = [
    { serverName: opts.serverName, ...(opts.port === undefined ? {} : { port: opts.port }) },
    ...(opts.federation ?? []),
  ];
  const names = servers.map((s) => s.serverName);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new Error(`server name ${twice} is listed twice`);
  }
  const world = new SharedWorld(opts.now ?? Date.now);
  const http = new HttpClient();
  const faults = new Faults();
  const logs = { requests: [] as RequestRecord[], rejections: [] as RejectionRecord[] };
  const served: Served[] = [];
  try {
    for (const server of servers) {
      const state = new HomeserverState(server.serverName, world.now, world);
      served.push(await listen(state, http, faults, logs, opts, server.port ?? 0, servers.length > 1));
    }
  } catch (e) {
    http.close();
    await Promise.all(served.map((s) => s.app.close()));
    throw e;
  }
  const hs = new TestHomeserver(served, faults, logs, opts);
  for (const reg of opts.appservices ?? []) {
    hs.addAppservice(reg);
  }
  for (const server of opts.federation ?? []) {
    for (const reg of server.appservices ?? []) {
      hs.addAppservice(reg, server.serverName);
    }
  }
  return hs;
}

/** One server name's listener on `port` (0 = a free one). */
async function listen(
  state: HomeserverState,
  http: HttpClient,
  faults: Faults,
  logs: { requests: RequestRecord[]; rejections: RejectionRecord[] },
  opts: TestHomeserverOptions,
  port: number,
  tagged: boolean,
): Promise<Served> {
  const app = Fastify({
    logger: false,
    routerOptions: { maxParamLength: 1000 },
    // Every connection, not only idle ones: a client's fetch pool may hold a connected socket that never sent a
    // request, which Node counts as active until its headers timeout (60 s).
    forceCloseConnections: true,
    return503OnClosing: false,
  });
  const ctx: ServerContext = {
    state,
    http,
    syncWaiters: new SyncWaiters(state),
    options: {
      msc4190: opts.msc4190 ?? false,
      stateEventsIncludeRoomId: opts.stateEventsIncludeRoomId ?? false,
      maxSyncTimeoutMs: opts.maxSyncTimeoutMs ?? 30_000,
    },
    discovery: {
      baseUrl: '',
      rtcFoci: opts.rtcFoci === undefined ? undefined : structuredClone(opts.rtcFoci),
    },
    txns: new Map(),
  };
  const router = new Router(app, state, faults, logs, tagged);
  accountRoutes(router, ctx);
  roomRoutes(router, ctx);
  roomStateRoutes(router, ctx);
  toDeviceRoutes(router, ctx);
  syncRoutes(router, ctx);
  appserviceRoutes(router, ctx);
  messagesRoutes(router, ctx);
  discoveryRoutes(router, ctx);

  try {
    await app.listen({ host: opts.host ?? '127.0.0.1', port });
  } catch (e) {
    ctx.syncWaiters.close();
    await app.close();
    throw e;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  ctx.discovery.baseUrl = url;
  return { app, ctx, url };
}

/**
 * The impure shell around the pure MembershipStore: feeds it room events from the bus, bootstraps rooms
 * from `GET /state` and their format (d) sticky events from `/messages` (at start-up and whenever the focus user
 * joins a room), auto-joins allowed invites,
 * arms ONE timer at the next membership expiry so expiries are reported even when nothing else happens,
 * and publishes the change stream ('revoked', 'terminated') the conference layer listens to.
 */
import type { Logger } from 'pino';
import type {
  AuthDecision,
  AuthQuery,
  FocusPresenceRef,
  FocusRef,
  MembershipOracle,
  ResolveQuery,
  Revocation,
  RoomResolution,
} from '../conference/ports.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { toError } from '../util/errors.js';
import { TypedEmitter } from '../util/events.js';
import { SerialQueue } from '../util/serialQueue.js';
import { ROOM_EVENT_CHUNK, yieldToLoop, type AppserviceEventBus } from './eventBus.js';
import type { RoomEvent } from './events.js';
import type { HomeserverClient } from './homeserverClient.js';
import type { MembershipMetrics } from './membershipMetrics.js';
import { MembershipStore } from './membership/store.js';
import type { IgnoreReason, TerminatedCall } from './membership/types.js';
import { recoverStickyEvents, type StickyRecoveryOptions } from './stickyRecovery.js';

export type MembershipEvents = {
  revoked: [Revocation];
  terminated: [TerminatedCall];
  /**
   * Room state changed (an applied state event, a bootstrap, an expiry): held invites are re-checked, and
   * the sessions of `roomId` (undefined = any room) are re-authorized.
   */
  changed: [string | undefined];
  listenererror: [string, Error];
};

export interface MembershipServiceOptions {
  client: HomeserverClient;
  bus: AppserviceEventBus;
  clock: Clock;
  log: Logger;
  metrics: MembershipMetrics;
  focus: FocusRef;
  serverName: string;
  autoJoin: boolean;
  /** Server names and room ids whose invites are accepted; empty = [serverName]. */
  autoJoinAllow: readonly string[];
  store?: MembershipStore;
  /** Paging of the format (d) recovery from `/messages` (§3.3b). */
  stickyRecovery?: StickyRecoveryOptions;
  /** `limits.max_joined_rooms`: rooms bootstrapped by `bootstrapAll` (default: all). */
  maxRooms?: number;
  /** `limits.max_room_state_bytes`: one `/state` answer (default: no limit). */
  maxRoomStateBytes?: number;
}

/** Events kept per room while its `/state` request is in flight (more are applied, not kept for the answer). */
const MAX_APPLIED_DURING_BOOTSTRAP = 10_000;

/** Ignore reasons worth counting: call-related state that could not be used (not plain pass-through). */
const COUNTED: ReadonlySet<IgnoreReason> = new Set([
  'malformed',
  'stale',
  'bad_state_key',
  'bad_content',
  'not_sticky',
  'bad_sticky_key',
]);

function serverOf(id: string): string | undefined {
  const i = id.indexOf(':');
  return i >= 0 ? id.slice(i + 1) : undefined;
}

export class MembershipService extends TypedEmitter<MembershipEvents> implements MembershipOracle {
  readonly store: MembershipStore;
  readonly #o: MembershipServiceOptions;
  readonly #rooms = new SerialQueue();
  /** Per room with a `/state` request in flight: the events applied meanwhile (bootstrapRoom applies them again). */
  readonly #inFlight = new Map<string, unknown[]>();
  readonly #allow: readonly string[];
  #timer: { handle: TimerHandle; at: number } | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(opts: MembershipServiceOptions) {
    super();
    this.#o = opts;
    this.store = opts.store ?? new MembershipStore();
    this.#allow = opts.autoJoinAllow.length > 0 ? opts.autoJoinAllow : [opts.serverName];
    opts.metrics.setCounter(() => this.store.countByFormat(this.#o.clock.now()));
    this.on('listenererror', (event, err) => {
      opts.log.error({ event, err }, 'membership listener failed');
    });
  }

  /** Subscribes to room events (call before the first transaction arrives). */
  attach(): void {
    this.#unsubscribe ??= this.#o.bus.subscribe('room_events', (evs) => {
      this.#onRoomEvents(evs);
    });
  }

  /** Bootstraps every room the focus user is joined to. Throws if the homeserver cannot list them. */
  async bootstrapAll(): Promise<number> {
    const rooms = await this.#o.client.joinedRooms();
    const max = this.#o.maxRooms ?? rooms.length;
    if (rooms.length > max) {
      this.#o.log.warn(
        { rooms: rooms.length, max },
        'more joined rooms than limits.max_joined_rooms: rest skipped',
      );
    }
    let ok = 0;
    for (const roomId of rooms.slice(0, max)) {
      if (await this.#bootstrap(roomId)) {
        ok++;
      }
    }
    this.#o.log.info({ rooms: rooms.length, bootstrapped: ok }, 'room state bootstrapped');
    return ok;
  }

  /**
   * Reads every held room's state again (after a homeserver outage: what changed meanwhile and never reached the
   * SFU — a transaction the homeserver gave up on — is picked up; memberships gone since are revoked). One room at
   * a time on the rooms queue, like joins. Resolves with the rooms re-read.
   */
  async resyncAll(): Promise<number> {
    const rooms = this.store.roomIds();
    let ok = 0;
    await Promise.all(
      rooms.map(
        (roomId) =>
          this.#rooms
            .push(async () => {
              if (!this.#closed && (await this.#bootstrap(roomId))) {
                ok++;
              }
            })
            .catch(() => undefined), // the queue closed (shutting down)
      ),
    );
    this.#o.log.info(
      { rooms: rooms.length, resynced: ok },
      'room state re-read after the homeserver came back',
    );
    return ok;
  }

  /** Leaves a room on request and forgets its state (sessions there lose authorization). */
  async leaveRoom(roomId: string): Promise<void> {
    await this.#o.client.leaveRoom(roomId);
    this.#publish(this.store.forgetRoom(roomId), []);
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#timer?.handle.cancel();
    this.#timer = undefined;
    void this.#rooms.close();
  }

  // --- MembershipOracle -----------------------------------------------------------------------

  authorize(q: AuthQuery, now: number): AuthDecision {
    const d = this.store.authorize(q, now);
    this.#o.metrics.decision(d.allowed ? 'allowed' : 'denied', d.allowed ? 'ok' : d.reason);
    return d;
  }

  resolveRoom(q: ResolveQuery, now: number): RoomResolution {
    return this.store.resolveRoom(q, now);
  }

  fociInUse(roomId: string, confId: string, now: number): FocusRef[] {
    return this.store.fociInUse(roomId, confId, now);
  }

  fociPresence(roomId: string, confId: string, now: number): FocusPresenceRef[] {
    return this.store.fociPresence(roomId, confId, now);
  }

  nextExpiry(now: number): number | undefined {
    return this.store.nextExpiry(now);
  }

  // --- internals --------------------------------------------------------------------------------

  #onRoomEvents(evs: readonly RoomEvent[]): void {
    if (this.#closed) {
      return;
    }
    for (const ev of evs) {
      if (ev.type === 'm.room.member' && ev.state_key === this.#o.focus.user_id) {
        this.#onFocusMembership(ev);
      }
    }
    this.#applyAll(evs.map((ev) => ({ ev, eventId: ev.event_id, roomId: ev.room_id })));
  }

  /**
   * Feeds room events to the store at the current time, counting what it ignored, then publishes what they
   * revoked and ended once for all of them: per user and per room once, not per event (MembershipStore.flush),
   * and the expiry timer is re-armed once.
   */
  #applyAll(items: readonly { ev: unknown; eventId: string | undefined; roomId: string }[]): void {
    const now = this.#o.clock.now();
    const terminated: TerminatedCall[] = [];
    const changed = new Set<string>();
    for (const { ev, eventId, roomId } of items) {
      const during = this.#inFlight.get(roomId);
      if (during !== undefined && during.length < MAX_APPLIED_DURING_BOOTSTRAP) {
        during.push(ev);
      }
      const res = this.store.applyEvent(ev, now, true);
      if (res.ignored !== undefined && COUNTED.has(res.ignored)) {
        this.#o.metrics.ignored(res.ignored);
        this.#o.log.debug({ event_id: eventId, roomId, reason: res.ignored }, 'call member event ignored');
      }
      if (res.skippedEntries > 0) {
        this.#o.metrics.ignored('bad_entry', res.skippedEntries);
      }
      terminated.push(...res.terminated);
      if (res.applied) {
        changed.add(roomId);
      }
    }
    this.#publish(this.store.flush(now), terminated, [...changed]);
  }

  #onFocusMembership(ev: RoomEvent): void {
    const membership = ev.content['membership'];
    const roomId = ev.room_id;
    if (membership === 'invite') {
      if (!this.#o.autoJoin) {
        this.#o.log.info({ roomId, inviter: ev.sender }, 'invite ignored (matrix.auto_join is off)');
        return;
      }
      const server = serverOf(roomId) ?? serverOf(ev.sender);
      if (!this.#allow.includes(roomId) && (server === undefined || !this.#allow.includes(server))) {
        this.#o.log.warn(
          { roomId, inviter: ev.sender },
          'invite refused: room not in matrix.auto_join_allow',
        );
        return;
      }
      void this.#rooms.push(async () => {
        try {
          await this.#o.client.joinRoom(roomId);
          this.#o.log.info({ roomId, inviter: ev.sender }, 'joined room on invite');
          await this.#bootstrap(roomId);
        } catch (e) {
          this.#o.log.warn({ roomId, err: toError(e).message }, 'could not join room');
        }
      });
    } else if (membership === 'join' && !this.store.hasRoom(roomId)) {
      void this.#rooms.push(() => this.#bootstrap(roomId));
    } else if (membership === 'leave' || membership === 'ban') {
      // The focus user is no longer in the room: its state will go stale, so forget it.
      this.#o.log.info({ roomId, membership }, 'focus user left the room');
      queueMicrotask(() => {
        this.#publish(this.store.forgetRoom(roomId), []);
      });
    }
  }

  async #bootstrap(roomId: string): Promise<boolean> {
    const during: unknown[] = [];
    this.#inFlight.set(roomId, during);
    try {
      const events = await this.#o.client.roomState(roomId, this.#o.maxRoomStateBytes);
      if (this.#closed) {
        return false;
      }
      this.#inFlight.delete(roomId);
      const res = this.store.bootstrapRoom(roomId, events, this.#o.clock.now(), during);
      for (const [reason, n] of Object.entries(res.ignored)) {
        if (COUNTED.has(reason as IgnoreReason)) {
          this.#o.metrics.ignored(reason, n);
        }
      }
      this.#publish(res.revocations, res.terminated, [roomId]);
      this.#o.log.debug({ roomId, events: events.length }, 'room bootstrapped');
    } catch (e) {
      this.#o.log.warn({ roomId, err: toError(e).message }, 'room state bootstrap failed');
      return false;
    } finally {
      if (this.#inFlight.get(roomId) === during) {
        this.#inFlight.delete(roomId);
      }
    }
    await this.#recoverSticky(roomId);
    return true;
  }

  /** §3.3b: sticky member events are not in `/state`; read the last hour of the room's timeline. */
  async #recoverSticky(roomId: string): Promise<void> {
    try {
      const found = await recoverStickyEvents(
        this.#o.client,
        roomId,
        this.#o.clock.now(),
        this.#o.stickyRecovery,
      );
      if (this.#closed) {
        return;
      }
      for (let i = 0; i < found.events.length; i += ROOM_EVENT_CHUNK) {
        this.#applyAll(
          found.events.slice(i, i + ROOM_EVENT_CHUNK).map((ev) => ({
            ev,
            eventId: typeof ev['event_id'] === 'string' ? ev['event_id'] : undefined,
            roomId,
          })),
        );
        await yieldToLoop();
      }
      const log = found.truncated ? this.#o.log.warn.bind(this.#o.log) : this.#o.log.debug.bind(this.#o.log);
      log(
        { roomId, events: found.events.length, pages: found.pages, truncated: found.truncated },
        found.truncated ? 'sticky member recovery stopped at its page limit' : 'sticky members recovered',
      );
    } catch (e) {
      this.#o.log.warn({ roomId, err: toError(e).message }, 'sticky member recovery failed');
    }
  }

  /**
   * Emits the revocations, the ended calls, then 'changed' for each of `changedRooms` (undefined: possibly any
   * room, e.g. after an expiry or a room forgotten; empty: none), and re-arms the expiry timer.
   */
  #publish(
    revocations: readonly Revocation[],
    terminated: readonly TerminatedCall[],
    changedRooms: readonly (string | undefined)[] = [undefined],
  ): void {
    for (const r of revocations) {
      this.#o.metrics.revoked(r.reason);
      this.#o.log.info(
        { roomId: r.roomId, userId: r.userId, deviceId: r.deviceId, callId: r.callId, reason: r.reason },
        'membership revoked',
      );
      this.safeEmit('revoked', r);
    }
    for (const t of terminated) {
      this.#o.log.info({ roomId: t.roomId, callId: t.callId }, 'call terminated');
      this.safeEmit('terminated', t);
    }
    for (const roomId of changedRooms) {
      this.safeEmit('changed', roomId);
    }
    this.#arm();
  }

  /**
   * Keeps one timer at the store's next expiry. A pending timer that is due no later than the next expiry
   * is kept (it re-arms when it fires), so an entry that expires while the event loop is busy is never
   * skipped by a re-arm. A timer that fires early (Node timers can, by a millisecond) waits out the rest.
   */
  #arm(): void {
    if (this.#closed) {
      return;
    }
    const now = this.#o.clock.now();
    const next = this.store.nextExpiry(now);
    const current = this.#timer;
    if (current !== undefined && (next === undefined || current.at <= next)) {
      return;
    }
    current?.handle.cancel();
    this.#timer = undefined;
    if (next === undefined) {
      return;
    }
    this.#schedule(next, next - now);
  }

  #schedule(at: number, inMs: number): void {
    const handle = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      const now = this.#o.clock.now();
      if (now < at) {
        // Fired early (timer granularity): wait out the rest rather than report before the expiry.
        this.#schedule(at, at - now);
        return;
      }
      this.#publish(this.store.expire(now), []);
    }, inMs);
    this.#timer = { handle, at };
  }
}

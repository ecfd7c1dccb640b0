/**
 * MembershipStore: every room's reducer state, fed with raw Matrix events, answering the MembershipOracle
 * queries and reporting Revocations. It keeps, per (room, user), the last published snapshot of what was live
 * and named a focus; every change (event, bootstrap, forget, expire) is diffed against it, so each loss is
 * reported exactly once. Pure: no I/O, no timers, no clock — `now` is always an argument.
 */
import type {
  AuthDecision,
  AuthQuery,
  FocusPresenceRef,
  FocusRef,
  MembershipOracle,
  ResolveQuery,
  Revocation,
  RoomResolution,
} from '../../conference/ports.js';
import { authorize } from './authorize.js';
import { parseEvent, type StateChange } from './envelope.js';
import { isLive, isRoomWide, matchesConf } from './liveness.js';
import { isObject } from './parse.js';
import { diffUser, snapshotUser, type UserSnapshot } from './revocations.js';
import { RoomState, type Affected } from './roomState.js';
import type { ApplyResult, BootstrapResult, FormatCounts, IgnoreReason, TerminatedCall } from './types.js';

function skippedOf(change: StateChange): number {
  return change.kind === 'call_member' ? change.parsed.skipped : 0;
}

function rejectedOf(change: StateChange): IgnoreReason | undefined {
  if (change.kind === 'rtc_member') {
    return change.parsed.invalid ? 'bad_content' : undefined;
  }
  return change.kind === 'call_member' ? change.parsed.rejected : undefined;
}

export class MembershipStore implements MembershipOracle {
  readonly #rooms = new Map<string, RoomState>();
  /** roomId → userId → last published snapshot (only non-empty snapshots are kept). */
  readonly #published = new Map<string, Map<string, UserSnapshot>>();
  /** Changes applied with `defer` and not yet published (`flush`): per room, who may have lost something. */
  readonly #dirty = new Map<string, { users: Set<string>; all: boolean; sticky: boolean }>();

  /**
   * Applies one event from a transaction, /sync or /messages, received at `now`. Never throws; never grants on
   * malformed input. With `defer`, what the change revokes is worked out and returned by the next `flush`
   * instead (its revocations are then empty): a batch of events costs one recomputation per user it touched,
   * not one per event — a user's recomputation reads all of that user's entries, so per event it would make a
   * batch of n events about a user with m entries cost n × m. Authorization reads the state applied, deferred
   * or not.
   */
  applyEvent(event: unknown, now: number, defer = false): ApplyResult {
    const parsed = parseEvent(event, now);
    if (parsed.kind === 'ignored') {
      return { applied: false, ignored: parsed.reason, skippedEntries: 0, revocations: [], terminated: [] };
    }
    let room = this.#rooms.get(parsed.roomId);
    if (room === undefined) {
      room = new RoomState(parsed.roomId);
      this.#rooms.set(parsed.roomId, room);
    }
    const wasTerminated = parsed.kind === 'call' && room.isTerminated(parsed.stateKey);
    const affected = room.apply(parsed);
    if (affected === undefined) {
      return { applied: false, ignored: 'stale', skippedEntries: 0, revocations: [], terminated: [] };
    }
    const terminated: TerminatedCall[] =
      parsed.kind === 'call' && !wasTerminated && room.isTerminated(parsed.stateKey)
        ? [{ roomId: parsed.roomId, callId: parsed.stateKey }]
        : [];
    const rejected = rejectedOf(parsed);
    let revocations: Revocation[] = [];
    if (defer) {
      this.#defer(parsed.roomId, affected, parsed.kind === 'rtc_member');
    } else {
      revocations = this.#republish(parsed.roomId, affected, now);
      if (parsed.kind === 'rtc_member') {
        // Entries stay until expire() has reported them; empty sticky slots can go at once.
        room.pruneSticky(now, true);
      }
    }
    return {
      applied: true,
      ...(rejected !== undefined ? { ignored: rejected } : {}),
      skippedEntries: skippedOf(parsed),
      revocations,
      terminated,
    };
  }

  /**
   * Replaces a room's state with a `GET /rooms/{id}/state` answer (events carry no room_id; `roomId` is used).
   * A held event strictly newer than the answer's event for the same slot is kept (it arrived while the answer
   * was in flight), and so is every held format (d) value (sticky events are not state). Returns the
   * revocations relative to the state held before.
   */
  bootstrapRoom(
    roomId: string,
    stateEvents: readonly unknown[],
    now: number,
    /**
     * Events of this room applied while the `/state` request was in flight, oldest first: applied again on top
     * of the answer (which was taken before some of them), so none is lost — without it a membership that first
     * appeared during the request (a slot the answer lacks) vanished, and its device's invite was refused.
     */
    appliedDuring: readonly unknown[] = [],
  ): BootstrapResult {
    const fresh = new RoomState(roomId);
    const ignored: Partial<Record<IgnoreReason, number>> = {};
    const count = (reason: IgnoreReason): void => {
      ignored[reason] = (ignored[reason] ?? 0) + 1;
    };
    let skippedEntries = 0;
    for (const raw of stateEvents) {
      const parsed = parseEvent(isObject(raw) ? { ...raw, room_id: roomId } : raw, now);
      if (parsed.kind === 'ignored') {
        count(parsed.reason);
        continue;
      }
      if (fresh.apply(parsed) === undefined) {
        count('stale');
        continue;
      }
      const rejected = rejectedOf(parsed);
      if (rejected !== undefined) {
        count(rejected);
      }
      skippedEntries += skippedOf(parsed);
    }
    const previous = this.#rooms.get(roomId);
    const terminated: TerminatedCall[] = [];
    for (const raw of appliedDuring) {
      const parsed = parseEvent(raw, now);
      if (parsed.kind !== 'ignored' && parsed.roomId === roomId) {
        fresh.apply(parsed); // an older one than the answer's is ignored by the ordering rule
      }
    }
    if (previous !== undefined) {
      fresh.adoptNewer(previous);
      fresh.adoptSticky(previous);
      const before = previous.terminatedCallIds();
      for (const callId of fresh.terminatedCallIds()) {
        if (!before.has(callId)) {
          terminated.push({ roomId, callId });
        }
      }
    }
    this.#rooms.set(roomId, fresh);
    return {
      revocations: this.#republish(roomId, { kind: 'all' }, now),
      terminated,
      ignored,
      skippedEntries,
    };
  }

  /** Publishes what the deferred changes since the last flush revoked (each user once per room). */
  flush(now: number): Revocation[] {
    const out: Revocation[] = [];
    for (const [roomId, d] of this.#dirty) {
      out.push(...this.#republish(roomId, d.all ? { kind: 'all' } : { kind: 'users', users: d.users }, now));
      if (d.sticky) {
        this.#rooms.get(roomId)?.pruneSticky(now, true);
      }
    }
    this.#dirty.clear();
    return out;
  }

  #defer(roomId: string, affected: Affected, sticky: boolean): void {
    let d = this.#dirty.get(roomId);
    if (d === undefined) {
      d = { users: new Set(), all: false, sticky: false };
      this.#dirty.set(roomId, d);
    }
    d.sticky ||= sticky;
    if (affected.kind === 'all') {
      d.all = true;
      d.users.clear();
    } else if (!d.all) {
      for (const u of affected.users) {
        d.users.add(u);
      }
    }
  }

  /** Drops a room's state; every membership it still granted is revoked with reason `room_forgotten`. */
  forgetRoom(roomId: string): Revocation[] {
    this.#rooms.delete(roomId);
    return this.#republish(roomId, { kind: 'all' }, 0);
  }

  /** The rooms whose state is held. */
  roomIds(): string[] {
    return [...this.#rooms.keys()];
  }

  hasRoom(roomId: string): boolean {
    return this.#rooms.has(roomId);
  }

  /** Revokes every published membership that has expired by `now` (each one once). */
  expire(now: number): Revocation[] {
    const out: Revocation[] = [];
    const roomIds = new Set([...this.#rooms.keys(), ...this.#published.keys()]);
    for (const roomId of roomIds) {
      out.push(...this.#republish(roomId, { kind: 'all' }, now));
      // Every entry expired by `now` has just been reported: sticky slots past any stickiness can go.
      this.#rooms.get(roomId)?.pruneSticky(now, false);
    }
    return out;
  }

  authorize(q: AuthQuery, now: number): AuthDecision {
    return authorize(this.#rooms.get(q.roomId), q, now);
  }

  /**
   * §3.6: a given roomId is returned as-is. Otherwise the candidates are the rooms where `authorize` would allow
   * (live membership of the device, matching confId, naming the focus, joined, conference not terminated).
   */
  resolveRoom(q: ResolveQuery, now: number): RoomResolution {
    if (q.roomId !== undefined) {
      return { kind: 'room', roomId: q.roomId };
    }
    const roomIds: string[] = [];
    for (const room of this.#rooms.values()) {
      if (authorize(room, { ...q, roomId: room.roomId }, now).allowed) {
        roomIds.push(room.roomId);
      }
    }
    roomIds.sort();
    const [first] = roomIds;
    if (first === undefined) {
      return { kind: 'none' };
    }
    return roomIds.length === 1 ? { kind: 'room', roomId: first } : { kind: 'ambiguous', roomIds };
  }

  fociInUse(roomId: string, confId: string, now: number): FocusRef[] {
    const room = this.#rooms.get(roomId);
    if (room === undefined || room.isTerminated(confId)) {
      return [];
    }
    const foci = new Map<string, FocusRef>();
    for (const e of room.allEntries()) {
      if (matchesConf(e, confId) && isLive(room, e, now)) {
        for (const f of e.activeFoci) {
          foci.set(JSON.stringify([f.user_id, f.device_id]), f);
        }
      }
    }
    return [...foci.values()].sort((a, b) =>
      a.user_id === b.user_id ? cmp(a.device_id, b.device_id) : cmp(a.user_id, b.user_id),
    );
  }

  fociPresence(roomId: string, confId: string, now: number): FocusPresenceRef[] {
    const room = this.#rooms.get(roomId);
    if (room === undefined || room.isTerminated(confId)) {
      return [];
    }
    const byFocus = new Map<string, { focus: FocusRef; members: Set<string> }>();
    for (const e of room.allEntries()) {
      if (!matchesConf(e, confId) || !isLive(room, e, now)) {
        continue;
      }
      const member = JSON.stringify([e.userId, e.deviceId]);
      for (const f of e.activeFoci) {
        const key = JSON.stringify([f.user_id, f.device_id]);
        let row = byFocus.get(key);
        if (row === undefined) {
          row = { focus: f, members: new Set() };
          byFocus.set(key, row);
        }
        row.members.add(member);
      }
    }
    return [...byFocus.values()]
      .map((r) => ({ focus: r.focus, liveMembers: r.members.size }))
      .sort((a, b) =>
        a.focus.user_id === b.focus.user_id
          ? cmp(a.focus.device_id, b.focus.device_id)
          : cmp(a.focus.user_id, b.focus.user_id),
      );
  }

  /**
   * The conferences `(room_id, conf_id)` with a live membership of a conference-specific call id, sorted by room
   * then conf id; room-wide memberships (`call_id: ""`) name no conf_id and give none (§8.7 rebuild).
   */
  liveConferences(now: number): { roomId: string; confId: string }[] {
    const out: { roomId: string; confId: string }[] = [];
    for (const room of [...this.#rooms.values()].sort((a, b) => cmp(a.roomId, b.roomId))) {
      const ids = new Set<string>();
      for (const e of room.allEntries()) {
        if (!isRoomWide(e) && e.callId !== '' && isLive(room, e, now)) {
          ids.add(e.callId);
        }
      }
      for (const confId of [...ids].sort(cmp)) {
        out.push({ roomId: room.roomId, confId });
      }
    }
    return out;
  }

  nextExpiry(now: number): number | undefined {
    let next: number | undefined;
    for (const room of this.#rooms.values()) {
      for (const e of room.allEntries()) {
        if ((next === undefined || e.expiresAt < next) && isLive(room, e, now)) {
          next = e.expiresAt;
        }
      }
    }
    return next;
  }

  /** Live entries by format, for the `sfu_memberships{format}` gauge. */
  countByFormat(now: number): FormatCounts {
    const counts: FormatCounts = { legacy: 0, memberships: 0, session: 0, sticky: 0 };
    for (const room of this.#rooms.values()) {
      for (const e of room.allEntries()) {
        if (isLive(room, e, now)) {
          counts[e.format]++;
        }
      }
    }
    return counts;
  }

  /** Recomputes the affected users' snapshots, publishes them, and returns what they lost. */
  #republish(roomId: string, affected: Affected, now: number): Revocation[] {
    const room = this.#rooms.get(roomId);
    let published = this.#published.get(roomId);
    const users = new Set<string>();
    if (affected.kind === 'users') {
      for (const u of affected.users) {
        users.add(u);
      }
    } else {
      for (const u of published?.keys() ?? []) {
        users.add(u);
      }
      for (const u of room?.usersWithEntries() ?? []) {
        users.add(u);
      }
    }
    const out: Revocation[] = [];
    for (const userId of users) {
      const after = snapshotUser(room, userId, now);
      out.push(...diffUser(room, roomId, userId, published?.get(userId), after, now));
      if (after.size > 0) {
        if (published === undefined) {
          published = new Map();
          this.#published.set(roomId, published);
        }
        published.set(userId, after);
      } else {
        published?.delete(userId);
      }
    }
    if (published?.size === 0) {
      this.#published.delete(roomId);
    }
    return out;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

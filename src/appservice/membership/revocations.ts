/**
 * Revocation bookkeeping: a per-user snapshot of the (device, call, scope) memberships that are live and name
 * some focus, and the diff of two snapshots into Revocations with a reason read from the current room state.
 * Pure functions; the store owns the published snapshots.
 */
import type { FocusRef, Revocation, RevocationReason } from '../../conference/ports.js';
import { isLive, isRoomWide, namesFocus } from './liveness.js';
import type { RoomState } from './roomState.js';
import type { MembershipEntry } from './types.js';

export interface SnapshotEntry {
  readonly deviceId: string;
  readonly callId: string;
  readonly scope: string | undefined;
  /** focus key → focus, for every active focus named by a live entry of this (device, call, scope). */
  readonly foci: ReadonlyMap<string, FocusRef>;
}

/** (device, call, scope) key → what it grants. Empty when the user has nothing live that names a focus. */
export type UserSnapshot = ReadonlyMap<string, SnapshotEntry>;

function entryKey(deviceId: string, callId: string, scope: string | undefined): string {
  return JSON.stringify([deviceId, callId, scope ?? null]);
}

function focusKey(f: FocusRef): string {
  return JSON.stringify([f.user_id, f.device_id]);
}

export function snapshotUser(room: RoomState | undefined, userId: string, now: number): UserSnapshot {
  const out = new Map<
    string,
    { deviceId: string; callId: string; scope: string | undefined; foci: Map<string, FocusRef> }
  >();
  if (room === undefined) {
    return out;
  }
  for (const e of room.entriesOf(userId)) {
    if (e.activeFoci.length === 0 || !isLive(room, e, now)) {
      continue;
    }
    const key = entryKey(e.deviceId, e.callId, e.scope);
    let snap = out.get(key);
    if (snap === undefined) {
      snap = { deviceId: e.deviceId, callId: e.callId, scope: e.scope, foci: new Map() };
      out.set(key, snap);
    }
    for (const f of e.activeFoci) {
      snap.foci.set(focusKey(f), f);
    }
  }
  return out;
}

function sameKey(e: MembershipEntry, s: SnapshotEntry): boolean {
  return e.deviceId === s.deviceId && e.callId === s.callId && e.scope === s.scope;
}

/**
 * Why `focus` is no longer granted to (user, s) in `room` at `now`, most fundamental cause first: the user's room
 * membership, a terminated call, an expired entry still naming it, a remaining entry that no longer names it,
 * else the membership was removed.
 */
export function revocationReason(
  room: RoomState,
  userId: string,
  s: SnapshotEntry,
  focus: FocusRef,
  now: number,
): RevocationReason {
  const member = room.membershipOf(userId);
  if (member?.membership === 'ban') {
    return 'banned';
  }
  if (member?.membership === 'leave' && member.sender !== userId) {
    return 'kicked';
  }
  if (member?.membership !== 'join') {
    return 'left_room';
  }
  if (!isRoomWide(s) && room.isTerminated(s.callId)) {
    return 'call_terminated';
  }
  const same = room.entriesOf(userId).filter((e) => sameKey(e, s));
  if (same.some((e) => namesFocus(e, focus) && e.expiresAt <= now)) {
    return 'expired';
  }
  return same.length > 0 ? 'focus_removed' : 'left_membership';
}

/**
 * One Revocation per (device, call, scope) of `before` that lost foci in `after`, grouped by reason (normally a
 * single one). `room` undefined = the room's state was dropped: reason `room_forgotten`.
 */
export function diffUser(
  room: RoomState | undefined,
  roomId: string,
  userId: string,
  before: UserSnapshot | undefined,
  after: UserSnapshot,
  now: number,
): Revocation[] {
  const out: Revocation[] = [];
  if (before === undefined) {
    return out;
  }
  for (const [key, prev] of before) {
    const next = after.get(key);
    const lost = new Map<RevocationReason, FocusRef[]>();
    for (const [fk, focus] of prev.foci) {
      if (next?.foci.has(fk) === true) {
        continue;
      }
      const reason = room === undefined ? 'room_forgotten' : revocationReason(room, userId, prev, focus, now);
      const list = lost.get(reason);
      if (list === undefined) {
        lost.set(reason, [focus]);
      } else {
        list.push(focus);
      }
    }
    for (const [reason, foci] of lost) {
      out.push({
        roomId,
        userId,
        deviceId: prev.deviceId,
        callId: prev.callId,
        ...(prev.scope !== undefined ? { scope: prev.scope } : {}),
        reason,
        foci,
      });
    }
  }
  return out;
}

/**
 * Predicates over one membership entry in its room (protocol.md §3.4–§3.6): room-wide calls, conference
 * matching, naming a focus, and liveness at the caller's `now`. Pure.
 */
import type { FocusRef } from '../../conference/ports.js';
import type { RoomState } from './roomState.js';
import type { MembershipEntry } from './types.js';

/** `call_id: ""` with `scope: "m.room"`: the room-wide call, matching any conf_id of the room (§3.6). */
export function isRoomWide(e: { readonly callId: string; readonly scope?: string | undefined }): boolean {
  return e.callId === '' && e.scope === 'm.room';
}

export function matchesConf(e: MembershipEntry, confId: string): boolean {
  return e.callId === confId || isRoomWide(e);
}

export function sameFocus(a: FocusRef, b: FocusRef): boolean {
  return a.user_id === b.user_id && a.device_id === b.device_id;
}

/** Exact `(user_id, device_id)` match against the active foci only (§3.5). */
export function namesFocus(e: MembershipEntry, focus: FocusRef): boolean {
  return e.activeFoci.some((f) => sameFocus(f, focus));
}

/**
 * Live = valid (every held entry is), `now < expiresAt` (expired at exactly the expiry), the user's
 * `m.room.member` is `join`, and its call is not terminated. Termination is applied to every entry with that
 * exact call id, not only format (a): authorization rule 4 refuses a terminated conference whatever the format.
 * Room-wide entries are never terminated (`m.room` calls never end).
 */
export function isLive(room: RoomState, e: MembershipEntry, now: number): boolean {
  return (
    now < e.expiresAt &&
    room.membershipOf(e.userId)?.membership === 'join' &&
    (isRoomWide(e) || !room.isTerminated(e.callId))
  );
}

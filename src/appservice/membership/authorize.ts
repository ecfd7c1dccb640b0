/**
 * The authorization decision of protocol.md §3.7 for one (room, user, device, conf_id, focus) at `now`. Pure.
 *
 * Deny precedence (the first failing check wins), from "who you are" to "how close you came":
 *   1. unknown_room      — no state held for the room;
 *   2. room membership   — banned, kicked (leave sent by someone else), left_room (own leave), not_joined
 *                          (no m.room.member, invite or knock);
 *   3. call_terminated   — an m.call / org.matrix.msc3401.call for conf_id carries m.terminated;
 *   4. no_membership     — the user has no valid call membership entry in the room (or emptied it);
 *   5. device_not_listed — entries exist, none for this device;
 *   6. wrong_call        — the device has entries, none matching conf_id (exact id or room-wide);
 *   7. expired           — matching entries exist, none live;
 *   8. other_focus       — live matching entries exist, none names the focus as active.
 */
import type { AuthDecision, AuthQuery } from '../../conference/ports.js';
import { isLive, matchesConf, namesFocus } from './liveness.js';
import type { RoomState } from './roomState.js';

export function authorize(room: RoomState | undefined, q: AuthQuery, now: number): AuthDecision {
  if (room === undefined) {
    return { allowed: false, reason: 'unknown_room' };
  }
  const member = room.membershipOf(q.userId);
  switch (member?.membership) {
    case 'join':
      break;
    case 'ban':
      return { allowed: false, reason: 'banned' };
    case 'leave':
      return { allowed: false, reason: member.sender === q.userId ? 'left_room' : 'kicked' };
    case 'invite':
    case 'knock':
    case undefined:
      return { allowed: false, reason: 'not_joined' };
  }
  if (room.isTerminated(q.confId)) {
    return { allowed: false, reason: 'call_terminated' };
  }
  const entries = room.entriesOf(q.userId);
  if (entries.length === 0) {
    return { allowed: false, reason: 'no_membership' };
  }
  const ofDevice = entries.filter((e) => e.deviceId === q.deviceId);
  if (ofDevice.length === 0) {
    return { allowed: false, reason: 'device_not_listed' };
  }
  const matching = ofDevice.filter((e) => matchesConf(e, q.confId));
  if (matching.length === 0) {
    return { allowed: false, reason: 'wrong_call' };
  }
  const live = matching.filter((e) => isLive(room, e, now));
  if (live.length === 0) {
    return { allowed: false, reason: 'expired' };
  }
  let best: (typeof live)[number] | undefined;
  for (const e of live) {
    if (namesFocus(e, q.focus) && (best === undefined || e.expiresAt > best.expiresAt)) {
      best = e;
    }
  }
  if (best === undefined) {
    return { allowed: false, reason: 'other_focus' };
  }
  return {
    allowed: true,
    expiresAt: best.expiresAt,
    ...(best.sessionId !== undefined ? { sessionId: best.sessionId } : {}),
  };
}

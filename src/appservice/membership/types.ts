/**
 * Shared vocabulary of the membership core: the Matrix event types it reads, a normalized call membership entry
 * (one device in one call, whatever the wire format), and the results of feeding events to the store.
 * Types and constants only.
 */
import type { FocusRef, Revocation } from '../../conference/ports.js';

export const ROOM_MEMBER_TYPE = 'm.room.member';
export const CALL_TYPES: readonly string[] = ['m.call', 'org.matrix.msc3401.call'];
export const CALL_MEMBER_TYPES: readonly string[] = ['m.call.member', 'org.matrix.msc3401.call.member'];
/** Format (d) sticky timeline events (§3.3b): stable and MSC4143 unstable type. */
export const RTC_MEMBER_TYPES: readonly string[] = ['m.rtc.member', 'org.matrix.msc4143.rtc.member'];

/**
 * `legacy` = format (a) §3.1, `memberships` = format (b) §3.2, `session` = format (c) §3.3,
 * `sticky` = format (d) §3.3b.
 */
export type MembershipFormat = 'legacy' | 'memberships' | 'session' | 'sticky';

export type RoomMembership = 'join' | 'leave' | 'ban' | 'invite' | 'knock';

/** One valid call membership of one device, normalized from any format. */
export interface MembershipEntry {
  readonly format: MembershipFormat;
  readonly userId: string;
  readonly deviceId: string;
  /** Format (a): `m.call_id`; (b), (c): `call_id` (may be `""`); (d): `slot_id` after `#`. */
  readonly callId: string;
  readonly scope?: string;
  readonly application?: string;
  /** Format (a) only: the device's `session_id`. */
  readonly sessionId?: string;
  /** Absolute expiry (ms, §3.4); the entry is expired when `now >= expiresAt`. */
  readonly expiresAt: number;
  /** Active foci with both `user_id` and `device_id` (§3.5); preferred foci are not kept. */
  readonly activeFoci: readonly FocusRef[];
}

/**
 * Why an event grants nothing. `malformed`, `not_state`, `unknown_type`, `stale`, `not_sticky` (a format (d)
 * event without a valid `sticky.duration_ms`) and `bad_sticky_key` (no usable sticky key) leave the held state
 * untouched; `bad_state_key` and `bad_content` are call member events that still replace their slot (they are the
 * room's current state for that key, or the latest value of that sticky key) but contribute no membership.
 */
export type IgnoreReason =
  | 'malformed'
  | 'not_state'
  | 'unknown_type'
  | 'stale'
  | 'bad_state_key'
  | 'bad_content'
  | 'not_sticky'
  | 'bad_sticky_key';

/** A conference whose `m.call` state just gained `m.terminated`. */
export interface TerminatedCall {
  readonly roomId: string;
  readonly callId: string;
}

export interface ApplyResult {
  /** Whether the event replaced held state. */
  readonly applied: boolean;
  readonly ignored?: IgnoreReason;
  /** Invalid entries skipped inside an applied call member event (§3: the other entries still count). */
  readonly skippedEntries: number;
  readonly revocations: readonly Revocation[];
  readonly terminated: readonly TerminatedCall[];
}

export interface BootstrapResult {
  readonly revocations: readonly Revocation[];
  /** Calls terminated in the new state but not in the state held before (empty for a room not held before). */
  readonly terminated: readonly TerminatedCall[];
  /** Events of the answer that granted nothing, by reason. */
  readonly ignored: Readonly<Partial<Record<IgnoreReason, number>>>;
  readonly skippedEntries: number;
}

export interface FormatCounts {
  legacy: number;
  memberships: number;
  session: number;
  sticky: number;
}

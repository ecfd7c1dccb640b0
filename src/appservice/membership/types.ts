/**
 * Shared vocabulary of the membership core: the Matrix event types it reads, a normalized call membership entry
 * (one device in one call, whatever the wire format), and the results of feeding events to the store.
 * Types and constants only.
 */
import type { FocusRef, Revocation } from '../../conference/ports.js';

export const ROOM_MEMBER_TYPE = 'm.room.member';
export const CALL_TYPES: readonly string[] = ['m.call', 'org.matrix.msc3401.call'];
export const CALL_MEMBER_TYPES: readonly string[] = ['m.call.member', 'org.matrix.msc3401.call.member'];

/** `legacy` = format (a) §3.1, `memberships` = format (b) §3.2, `session` = format (c) §3.3. */
export type MembershipFormat = 'legacy' | 'memberships' | 'session';

export type RoomMembership = 'join' | 'leave' | 'ban' | 'invite' | 'knock';

/** One valid call membership of one device, normalized from any format. */
export interface MembershipEntry {
  readonly format: MembershipFormat;
  readonly userId: string;
  readonly deviceId: string;
  /** Format (a): `m.call_id`; (b), (c): `call_id` (may be `""`). */
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
 * Why an event grants nothing. `malformed`, `not_state`, `unknown_type` and `stale` leave the held state untouched;
 * `bad_state_key` and `bad_content` are call member events that still replace their state slot (they are the
 * room's current state for that key) but contribute no membership.
 */
export type IgnoreReason =
  'malformed' | 'not_state' | 'unknown_type' | 'stale' | 'bad_state_key' | 'bad_content';

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
}

/**
 * Call-membership writers (protocol.md §3). A writer turns "this device joins / leaves the call through this
 * focus" into one homeserver write; `CallClient.publishMembership` performs it. Format (c) (§3.3, per-device
 * state events) is the one written today; formats (a), (b) and (d) (§3.1, §3.2, §3.3b: a sticky timeline event,
 * not state) fit the same `MembershipWriter` shape through the `event` write.
 */

export const CALL_MEMBER_TYPE = 'org.matrix.msc3401.call.member';
/** The focus `type` our clients write (§3.5). */
export const FOCUS_TYPE = 'org.matrix.msc3898';
/** Format (c) `expires` when none is given (§3.4: 4 h). */
export const DEFAULT_MEMBERSHIP_EXPIRES_MS = 14_400_000;

export interface FocusRef {
  user_id: string;
  device_id: string;
}

export interface MemberIdentity {
  userId: string;
  deviceId: string;
}

export interface MembershipOptions {
  /** `expires` (default 4 h). */
  expiresMs?: number;
  /** `call_id` (default `""`, the room-wide call). */
  callId?: string;
  /** `scope` (default `m.room`). */
  scope?: string;
  /** `created_ts` (default now). */
  createdTs?: number;
  /**
   * Write this join as format (d) instead (§3.3b, membershipD.ts): a sticky member event, sticky for `durationMs`
   * (default 1 h). The leave that follows uses the same format.
   */
  sticky?: { durationMs?: number };
}

/** One homeserver write: a state event, or a room (timeline) event such as a sticky format (d) membership. */
export type MembershipWrite =
  | { kind: 'state'; eventType: string; stateKey: string; content: Record<string, unknown> }
  | { kind: 'event'; eventType: string; content: Record<string, unknown>; query?: Record<string, string> };

export interface MembershipWriter {
  readonly format: 'a' | 'b' | 'c' | 'd';
  join(member: MemberIdentity, focus: FocusRef, opts: MembershipOptions, now: number): MembershipWrite;
  leave(member: MemberIdentity): MembershipWrite;
}

/** The v38+ format (c) state key (§3.3). */
export function memberStateKey(userId: string, deviceId: string): string {
  return `_${userId}_${deviceId}_m.call`;
}

/** Format (c): one state event per device naming the focus as `focus_active`; leaving writes `{}`. */
export const formatC: MembershipWriter = {
  format: 'c',
  join(member, focus, opts, now) {
    const ref = { type: FOCUS_TYPE, user_id: focus.user_id, device_id: focus.device_id };
    return {
      kind: 'state',
      eventType: CALL_MEMBER_TYPE,
      stateKey: memberStateKey(member.userId, member.deviceId),
      content: {
        application: 'm.call',
        call_id: opts.callId ?? '',
        scope: opts.scope ?? 'm.room',
        device_id: member.deviceId,
        focus_active: ref,
        foci_preferred: [ref],
        created_ts: opts.createdTs ?? now,
        expires: opts.expiresMs ?? DEFAULT_MEMBERSHIP_EXPIRES_MS,
      },
    };
  },
  leave(member) {
    return {
      kind: 'state',
      eventType: CALL_MEMBER_TYPE,
      stateKey: memberStateKey(member.userId, member.deviceId),
      content: {},
    };
  },
};

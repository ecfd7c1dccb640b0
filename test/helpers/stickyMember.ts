/**
 * Format (d) memberships for the test call client (protocol.md §3.3b): the content of a MatrixRTC member event
 * (MSC4143) naming a focus, and the `PUT /send` path that makes it sticky (MSC4354, unstable parameter).
 */
import { randomBytes } from 'node:crypto';

export const RTC_MEMBER_TYPE = 'org.matrix.msc4143.rtc.member';
export const STICKY_PARAM = 'org.matrix.msc4354.sticky_duration_ms';
export const DEFAULT_STICKY_MS = 3_600_000;

/** A fresh member id / sticky key: unique per join (MSC4143). */
export function newMemberId(deviceId: string): string {
  return `m-${deviceId}-${randomBytes(6).toString('hex')}`;
}

/** Joins slot `m.call#<callId>` from (userId, deviceId) with `focus` as the first transport. */
export function stickyMemberContent(
  userId: string,
  deviceId: string,
  memberId: string,
  focus: { user_id: string; device_id: string },
  callId: string,
): Record<string, unknown> {
  return {
    slot_id: `m.call#${callId}`,
    application: { type: 'm.call' },
    member: { user_id: userId, device_id: deviceId, id: memberId },
    rtc_transports: [{ type: 'org.matrix.msc3898', user_id: focus.user_id, device_id: focus.device_id }],
    versions: [],
    msc4354_sticky_key: memberId,
  };
}

export function stickySendPath(roomId: string, txnId: string, durationMs: number): string {
  return (
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(RTC_MEMBER_TYPE)}/` +
    `${encodeURIComponent(txnId)}?${STICKY_PARAM}=${durationMs}`
  );
}

/**
 * Format (d) call membership (protocol.md §3.3b): a MatrixRTC member event (MSC4143) sent as a *sticky* room
 * event (MSC4354, unstable query parameter), naming the focus as its first transport. Not state: the member id
 * doubles as the sticky key and stays the same until the device leaves; leaving sends an event holding only the
 * sticky key.
 */
import { randomHex } from './ids.js';
import type {
  FocusRef,
  MemberIdentity,
  MembershipOptions,
  MembershipWrite,
  MembershipWriter,
} from './membership.js';
import { FOCUS_TYPE } from './membership.js';

export const RTC_MEMBER_TYPE = 'org.matrix.msc4143.rtc.member';
/** MSC4354's unstable `PUT /send` query parameter that makes an event sticky. */
export const STICKY_PARAM = 'org.matrix.msc4354.sticky_duration_ms';
/** The longest stickiness MSC4354 allows (and the default here): 1 h. */
export const DEFAULT_STICKY_MS = 3_600_000;

/** A fresh member id / sticky key: unique per join (MSC4143). */
export function newMemberId(deviceId: string): string {
  return `m-${deviceId}-${randomHex(6)}`;
}

/** The member event content joining slot `m.call#<callId>` with `focus` as the first transport. */
export function stickyMemberContent(
  member: MemberIdentity,
  memberId: string,
  focus: FocusRef,
  callId: string,
): Record<string, unknown> {
  return {
    slot_id: `m.call#${callId}`,
    application: { type: 'm.call' },
    member: { user_id: member.userId, device_id: member.deviceId, id: memberId },
    rtc_transports: [{ type: FOCUS_TYPE, user_id: focus.user_id, device_id: focus.device_id }],
    versions: [],
    msc4354_sticky_key: memberId,
  };
}

/**
 * A format (d) writer for one device (it keeps the member id between join and leave). `durationMs` is the
 * stickiness asked for (default 1 h).
 */
export function formatD(durationMs: number = DEFAULT_STICKY_MS): MembershipWriter {
  let memberId: string | undefined;
  const query = { [STICKY_PARAM]: String(durationMs) };
  return {
    format: 'd',
    join(member: MemberIdentity, focus: FocusRef, opts: MembershipOptions): MembershipWrite {
      memberId ??= newMemberId(member.deviceId);
      return {
        kind: 'event',
        eventType: RTC_MEMBER_TYPE,
        content: stickyMemberContent(member, memberId, focus, opts.callId ?? ''),
        query,
      };
    },
    leave(member: MemberIdentity): MembershipWrite {
      const key = memberId ?? newMemberId(member.deviceId);
      memberId = undefined;
      return { kind: 'event', eventType: RTC_MEMBER_TYPE, content: { msc4354_sticky_key: key }, query };
    },
  };
}

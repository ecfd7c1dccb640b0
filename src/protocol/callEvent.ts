/**
 * The typed values of incoming to-device call events (protocol.md §4.1, §4.2, §8) and of their parse results;
 * the parser is toDevice.ts. Types and one guard only.
 */
import type { StreamMetadata } from './callContent.js';

/**
 * The call event types the SFU accepts (§4.2, and `m.call.answer`, which only a link this focus initiated
 * receives, §8.1). Others, e.g. `m.call.reject`, parse as `M_UNRECOGNIZED`.
 */
export const CALL_EVENT_TYPES = [
  'm.call.invite',
  'm.call.answer',
  'm.call.candidates',
  'm.call.select_answer',
  'm.call.negotiate',
  'm.call.hangup',
] as const;
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];

export function isCallEventType(type: string): type is CallEventType {
  return (CALL_EVENT_TYPES as readonly string[]).includes(type);
}

/** §4.1 fields, checked; `version` is normalized to the string "1". */
export interface CallEventBase {
  readonly callId: string;
  /** `""` = MatrixRTC room-wide call. */
  readonly confId: string;
  readonly partyId: string;
  readonly version: '1';
  /** The sender's device. */
  readonly deviceId: string;
  readonly senderSessionId: string;
  /** "sfu" or the focus device id. */
  readonly destSessionId: string;
  readonly seq?: number;
  readonly roomId?: string;
}

export interface CallInvite extends CallEventBase {
  readonly type: 'm.call.invite';
  readonly sdp: string;
  /** Present only when the invite named one; then it is the focus user. */
  readonly invitee?: string;
  /** Raw MSC3077 metadata (§6 filtering happens later); `{}` when absent. */
  readonly metadata: StreamMetadata;
  /** `org.matrix.msc3898.cascade: true`: an invite from another focus (§8). */
  readonly cascade: boolean;
  readonly lifetimeMs?: number;
}

/** One incoming ICE candidate; `candidate: ""` = end of candidates. `null` members are dropped. */
export interface IceCandidate {
  readonly candidate: string;
  readonly sdpMid?: string;
  readonly sdpMLineIndex?: number;
  readonly usernameFragment?: string;
}

export interface CallCandidates extends CallEventBase {
  readonly type: 'm.call.candidates';
  /** Never empty. */
  readonly candidates: readonly IceCandidate[];
}

export interface CallSelectAnswer extends CallEventBase {
  readonly type: 'm.call.select_answer';
  readonly selectedPartyId: string;
}

export interface CallNegotiate extends CallEventBase {
  readonly type: 'm.call.negotiate';
  readonly description: { readonly type: 'offer' | 'answer'; readonly sdp: string };
  /** Present only when the event carried metadata. */
  readonly metadata?: StreamMetadata;
}

export interface CallHangup extends CallEventBase {
  readonly type: 'm.call.hangup';
  readonly reason?: string;
}

/** The answer of a remote focus to this focus's link invite (§8.1). */
export interface CallAnswer extends CallEventBase {
  readonly type: 'm.call.answer';
  readonly sdp: string;
  /** Present only when the event carried metadata. */
  readonly metadata?: StreamMetadata;
}

export type CallEvent =
  CallInvite | CallAnswer | CallCandidates | CallSelectAnswer | CallNegotiate | CallHangup;

export type CallParseErrcode = 'M_BAD_JSON' | 'M_INVALID_PARAM' | 'M_LIMIT_EXCEEDED';

/**
 * Whatever addressing fields were usable (each passes its own §4.1 rule), so a refusal can be answered with a
 * hangup (§3.7). `userDeviceKnown`: `device_id` is usable. A reply needs `callId` and `deviceId`
 * (see {@link canReply}); `senderSessionId` becomes the reply's `dest_session_id`.
 */
export interface ReplyAddress {
  readonly userDeviceKnown: boolean;
  readonly callId?: string;
  readonly deviceId?: string;
  readonly senderSessionId?: string;
  readonly confId?: string;
  readonly partyId?: string;
}

export interface CallParseFailure {
  readonly ok: false;
  readonly errcode: CallParseErrcode;
  /** Names the field and the rule it broke. */
  readonly error: string;
  readonly reply: ReplyAddress;
}

/** A type this module does not handle (other `m.call.*` events): to be counted and ignored, never answered. */
export interface CallUnrecognized {
  readonly ok: false;
  readonly errcode: 'M_UNRECOGNIZED';
  readonly error: string;
  /** Never answered; declared so `reply` reads as undefined on any failure. */
  readonly reply?: never;
}

export type ParsedCallEvent =
  { readonly ok: true; readonly event: CallEvent } | CallParseFailure | CallUnrecognized;

export interface CallParseLimits {
  /** `limits.max_invite_sdp_bytes` (UTF-8 bytes); also applied to the SDP of `m.call.negotiate`. */
  readonly maxInviteSdpBytes: number;
}

export interface FocusIdentity {
  readonly userId: string;
  readonly deviceId: string;
}

/** True when the reply address can carry a hangup: it has a call id and the sender's device id. */
export function canReply(
  reply: ReplyAddress,
): reply is ReplyAddress & { readonly callId: string; readonly deviceId: string } {
  return reply.userDeviceKnown && reply.callId !== undefined && reply.deviceId !== undefined;
}

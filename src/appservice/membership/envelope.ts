/**
 * A raw Matrix client event (`unknown`) → a typed room state change the reducer understands, or the reason it is
 * ignored. Checks the envelope (room_id, state_key, sender, origin_server_ts, content) and dispatches the content
 * of the tracked types: `m.room.member`, `m.call` / `org.matrix.msc3401.call`, the call member types, and the
 * format (d) sticky `rtc.member` timeline events (§3.3b). Pure.
 */
import { isNonEmptyString, isObject, parseCallMemberContent, type ParsedCallMember } from './parse.js';
import { parseRtcMember, type ParsedRtcMember } from './sticky.js';
import {
  CALL_MEMBER_TYPES,
  CALL_TYPES,
  ROOM_MEMBER_TYPE,
  RTC_MEMBER_TYPES,
  type IgnoreReason,
  type RoomMembership,
} from './types.js';

interface EventBase {
  readonly roomId: string;
  readonly eventType: string;
  readonly stateKey: string;
  readonly sender: string;
  readonly ts: number;
}

export interface RoomMemberEvent extends EventBase {
  readonly kind: 'room_member';
  readonly membership: RoomMembership;
}

export interface CallEvent extends EventBase {
  readonly kind: 'call';
  readonly terminated: boolean;
}

export interface CallMemberEvent extends EventBase {
  readonly kind: 'call_member';
  readonly parsed: ParsedCallMember;
}

/** A format (d) value for the sticky key `(sender, stateKey)`; `stateKey` holds the sticky key. */
export interface RtcMemberEvent extends EventBase {
  readonly kind: 'rtc_member';
  readonly parsed: Extract<ParsedRtcMember, { kind: 'value' }>;
}

export type StateChange = RoomMemberEvent | CallEvent | CallMemberEvent | RtcMemberEvent;

export type ParsedEvent =
  | StateChange
  | {
      readonly kind: 'ignored';
      readonly reason: Extract<
        IgnoreReason,
        'malformed' | 'not_state' | 'unknown_type' | 'not_sticky' | 'bad_sticky_key'
      >;
    };

const MEMBERSHIPS: readonly string[] = ['join', 'leave', 'ban', 'invite', 'knock'];

function isRoomMembership(x: unknown): x is RoomMembership {
  return typeof x === 'string' && MEMBERSHIPS.includes(x);
}

/**
 * Never throws; anything not understood is `ignored` with a reason for `sfu_events_ignored_total{reason}`.
 * `receivedAt` is the SFU's clock when the event arrived (it bounds a format (d) event's stickiness); omitted,
 * `origin_server_ts` is taken as is.
 */
export function parseEvent(event: unknown, receivedAt = Number.POSITIVE_INFINITY): ParsedEvent {
  if (!isObject(event) || typeof event.type !== 'string') {
    return { kind: 'ignored', reason: 'malformed' };
  }
  const { type, state_key: stateKey } = event;
  if (stateKey === undefined && RTC_MEMBER_TYPES.includes(type)) {
    return parseSticky(event, type, receivedAt);
  }
  if (stateKey === undefined) {
    return { kind: 'ignored', reason: 'not_state' };
  }
  if (type !== ROOM_MEMBER_TYPE && !CALL_TYPES.includes(type) && !CALL_MEMBER_TYPES.includes(type)) {
    return { kind: 'ignored', reason: 'unknown_type' };
  }
  const env = envelopeOf(event);
  if (typeof stateKey !== 'string' || env === undefined) {
    return { kind: 'ignored', reason: 'malformed' };
  }
  const { roomId, sender, ts, content } = env;
  const base: EventBase = { roomId, eventType: type, stateKey, sender, ts };
  if (type === ROOM_MEMBER_TYPE) {
    if (stateKey === '' || !isRoomMembership(content.membership)) {
      return { kind: 'ignored', reason: 'malformed' };
    }
    return { kind: 'room_member', ...base, membership: content.membership };
  }
  if (CALL_TYPES.includes(type)) {
    const terminated = content['m.terminated'];
    return {
      kind: 'call',
      ...base,
      terminated:
        terminated !== undefined && terminated !== null && terminated !== false && terminated !== '',
    };
  }
  return {
    kind: 'call_member',
    ...base,
    parsed: parseCallMemberContent(content, { stateKey, sender, originServerTs: ts }),
  };
}

interface Envelope {
  roomId: string;
  sender: string;
  ts: number;
  content: Record<string, unknown>;
}

/** What every room event the store reads must have: room, sender, a finite timestamp, object content. */
function envelopeOf(event: Record<string, unknown>): Envelope | undefined {
  const { room_id: roomId, sender, origin_server_ts: ts, content } = event;
  if (
    !isNonEmptyString(roomId) ||
    !isNonEmptyString(sender) ||
    typeof ts !== 'number' ||
    !Number.isFinite(ts) ||
    !isObject(content)
  ) {
    return undefined;
  }
  return { roomId, sender, ts, content };
}

/** Format (d): a timeline event; its slot is `(type, sender, sticky key)`. */
function parseSticky(event: Record<string, unknown>, type: string, receivedAt: number): ParsedEvent {
  const env = envelopeOf(event);
  if (env === undefined) {
    return { kind: 'ignored', reason: 'malformed' };
  }
  const { roomId, sender, ts, content } = env;
  const parsed = parseRtcMember(event, content, { sender, originServerTs: ts, receivedAt });
  if (parsed.kind !== 'value') {
    return { kind: 'ignored', reason: parsed.kind };
  }
  return { kind: 'rtc_member', roomId, eventType: type, stateKey: parsed.stickyKey, sender, ts, parsed };
}

/**
 * Format (d), protocol.md §3.3b: a MatrixRTC member event (MSC4143) sent as a sticky timeline event (MSC4354) →
 * its sticky key, the start of its stickiness, and either one membership entry, a leave, or nothing valid.
 * Pure: the caller passes the instant the event was received. Never throws.
 */
import type { FocusRef } from '../../conference/ports.js';
import { isNonEmptyString, isObject, parseFocus, type JsonObject } from './parse.js';
import type { MembershipEntry } from './types.js';

/** MSC4354: stickiness never lasts longer than 1 h, whatever `duration_ms` says. */
export const MAX_STICKY_DURATION_MS = 3_600_000;

/** The sticky key: `sticky_key` (stable) and `msc4354_sticky_key` (unstable); content keys only. */
const STICKY_KEY_FIELDS = ['sticky_key', 'msc4354_sticky_key'] as const;

/** Top-level stickiness: `sticky` (stable) and `msc4354_sticky` (unstable); the stable one wins. */
const STICKY_FIELDS = ['sticky', 'msc4354_sticky'] as const;

export interface StickyEnvelope {
  readonly sender: string;
  readonly originServerTs: number;
  /** The SFU's clock when the event arrived: a future `origin_server_ts` cannot extend the stickiness. */
  readonly receivedAt: number;
}

export type ParsedRtcMember =
  /** The event is not sticky (no valid `sticky.duration_ms`): ignored. */
  | { readonly kind: 'not_sticky' }
  /** Sticky but no usable sticky key (missing, not a string, or the two spellings disagree): ignored. */
  | { readonly kind: 'bad_sticky_key' }
  /**
   * A value for the sticky key `(sender, stickyKey)`. `entry` undefined = no membership: a leave (content with
   * only the sticky key, or `member.membership: "leave"`) or, with `invalid`, content that breaks §3.3b.
   */
  | {
      readonly kind: 'value';
      readonly stickyKey: string;
      /** `min(origin_server_ts, received)`; the stickiness ends `MAX_STICKY_DURATION_MS` later at the latest. */
      readonly start: number;
      readonly entry?: MembershipEntry;
      readonly invalid?: true;
    };

/** `duration_ms` of the event's stickiness, or undefined when the event is not sticky. */
export function stickyDuration(event: JsonObject): number | undefined {
  for (const field of STICKY_FIELDS) {
    const sticky = event[field];
    if (sticky === undefined) {
      continue;
    }
    const d = isObject(sticky) ? sticky.duration_ms : undefined;
    return typeof d === 'number' && Number.isSafeInteger(d) && d >= 0 ? d : undefined;
  }
  return undefined;
}

/** The sticky key of a content, `null` when unusable, undefined when absent. */
export function stickyKeyOf(content: JsonObject): string | null | undefined {
  let key: string | undefined;
  for (const field of STICKY_KEY_FIELDS) {
    const v = content[field];
    if (v === undefined) {
      continue;
    }
    if (!isNonEmptyString(v) || (key !== undefined && key !== v)) {
      return null;
    }
    key = v;
  }
  return key;
}

export function parseRtcMember(event: JsonObject, content: JsonObject, env: StickyEnvelope): ParsedRtcMember {
  const duration = stickyDuration(event);
  if (duration === undefined) {
    return { kind: 'not_sticky' };
  }
  const stickyKey = stickyKeyOf(content);
  if (stickyKey === undefined || stickyKey === null) {
    return { kind: 'bad_sticky_key' };
  }
  const start = Math.min(env.originServerTs, env.receivedAt);
  const value = { kind: 'value', stickyKey, start } as const;
  if (Object.keys(content).every((k) => (STICKY_KEY_FIELDS as readonly string[]).includes(k))) {
    return value;
  }
  const member = content.member;
  if (!isObject(member)) {
    return { ...value, invalid: true };
  }
  const membership = member.membership;
  if (membership === 'leave') {
    return value;
  }
  const entry = parseJoin(content, member, env.sender, start + Math.min(duration, MAX_STICKY_DURATION_MS));
  return entry === undefined || (membership !== undefined && membership !== 'join')
    ? { ...value, invalid: true }
    : { ...value, entry };
}

/** A joined member: `member.user_id` is the sender, `member.device_id` is set, `slot_id` holds a `#`. */
function parseJoin(
  content: JsonObject,
  member: JsonObject,
  sender: string,
  expiresAt: number,
): MembershipEntry | undefined {
  const slotId = content.slot_id;
  const hash = typeof slotId === 'string' ? slotId.indexOf('#') : -1;
  if (member.user_id !== sender || !isNonEmptyString(member.device_id) || hash < 0) {
    return undefined;
  }
  const app = content.application;
  if (app !== undefined && app !== null && !(isObject(app) && typeof app.type === 'string')) {
    return undefined;
  }
  const foci = activeFocus(content);
  if (foci === undefined) {
    return undefined;
  }
  const slot = slotId as string;
  return {
    format: 'sticky',
    userId: sender,
    deviceId: member.device_id,
    callId: slot.slice(hash + 1),
    // MatrixRTC slots belong to the room: slot `m.call#` is the room-wide call of §3.6.
    scope: 'm.room',
    application: isObject(app) ? (app.type as string) : slot.slice(0, hash),
    expiresAt,
    activeFoci: foci,
  };
}

/**
 * The first transport with `user_id` and `device_id`, from `rtc_transports` or else `transports.published`
 * (§3.5); `[]` when none names a focus; undefined when the list present is not an array (fail closed).
 */
function activeFocus(content: JsonObject): FocusRef[] | undefined {
  let list: unknown = content.rtc_transports;
  if (list === undefined || list === null) {
    const transports = content.transports;
    if (transports === undefined || transports === null) {
      return [];
    }
    if (!isObject(transports)) {
      return undefined;
    }
    list = transports.published ?? [];
  }
  if (!Array.isArray(list)) {
    return undefined;
  }
  for (const t of list) {
    const focus = parseFocus(t);
    if (focus !== undefined) {
      return [focus];
    }
  }
  return [];
}

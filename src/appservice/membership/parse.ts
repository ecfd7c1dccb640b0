/**
 * Call member event content → normalized membership entries (protocol.md §3.1–§3.5): format detection, per-entry
 * validity, absolute expiry and active foci. Pure; an invalid entry is counted and skipped, never thrown.
 * A field that is present with the wrong type makes its entry invalid (fail closed); `null` counts as absent.
 */
import type { FocusRef } from '../../conference/ports.js';
import type { MembershipEntry, MembershipFormat } from './types.js';

/** Format (c)'s expiry when `expires` is missing: 4 h. */
export const DEFAULT_SESSION_EXPIRES_MS = 14_400_000;

export type JsonObject = Record<string, unknown>;

export function isObject(x: unknown): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function isNonEmptyString(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

/** undefined when absent or null; NaN when present but not a finite number (NaN poisons the expiry). */
function optNumber(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    return undefined;
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
}

/** undefined when absent or null; null when present but not a string. */
function optString(o: JsonObject, key: string): string | undefined | null {
  const v = o[key];
  if (v === undefined || v === null) {
    return undefined;
  }
  return typeof v === 'string' ? v : null;
}

/** A focus names something only with both `user_id` and `device_id` (§3.5); `type` is irrelevant. */
export function parseFocus(x: unknown): FocusRef | undefined {
  if (!isObject(x)) {
    return undefined;
  }
  const userId = x.user_id;
  const deviceId = x.device_id;
  return isNonEmptyString(userId) && isNonEmptyString(deviceId)
    ? { user_id: userId, device_id: deviceId }
    : undefined;
}

/** The distinct foci of any number of `[{user_id, device_id}]` lists; a non-array list names none. */
export function parseFocusLists(...lists: unknown[]): FocusRef[] {
  const out: FocusRef[] = [];
  for (const list of lists) {
    if (!Array.isArray(list)) {
      continue;
    }
    for (const item of list) {
      const f = parseFocus(item);
      if (f !== undefined && !out.some((o) => o.user_id === f.user_id && o.device_id === f.device_id)) {
        out.push(f);
      }
    }
  }
  return out;
}

/** Where the content came from; needed for expiry fallbacks and state key checks. */
export interface CallMemberContext {
  readonly stateKey: string;
  readonly sender: string;
  readonly originServerTs: number;
}

export interface ParsedCallMember {
  /** `empty` = content `{}` (no membership, for (c) "left"); `unknown` = no format recognized. */
  readonly format: Exclude<MembershipFormat, 'sticky'> | 'empty' | 'unknown';
  readonly entries: readonly MembershipEntry[];
  readonly skipped: number;
  /** Set when the whole event contributes nothing although it is a well-formed state event. */
  readonly rejected?: 'bad_state_key' | 'bad_content';
}

/** §3: `m.calls` array → (a); `memberships` array → (b); string `application` → (c); `{}` → none. */
export function detectFormat(content: JsonObject): ParsedCallMember['format'] {
  if (Array.isArray(content['m.calls'])) {
    return 'legacy';
  }
  if (Array.isArray(content.memberships)) {
    return 'memberships';
  }
  if (typeof content.application === 'string') {
    return 'session';
  }
  return Object.keys(content).length === 0 ? 'empty' : 'unknown';
}

export function parseCallMemberContent(content: JsonObject, ctx: CallMemberContext): ParsedCallMember {
  const format = detectFormat(content);
  switch (format) {
    case 'empty':
      return { format, entries: [], skipped: 0 };
    case 'unknown':
      return { format, entries: [], skipped: 0, rejected: 'bad_content' };
    case 'legacy':
    case 'memberships':
      // The homeserver binds `@`-prefixed state keys to their sender; anything else is not a user's event.
      if (ctx.stateKey !== ctx.sender) {
        return { format, entries: [], skipped: 0, rejected: 'bad_state_key' };
      }
      return format === 'legacy' ? parseLegacy(content, ctx.sender) : parseMemberships(content, ctx);
    case 'session':
      return parseSession(content, ctx);
  }
}

/** Format (a): `m.calls[].m.devices[]`; expiry = device `expires_ts` ?? content `m.expires_ts`. */
function parseLegacy(content: JsonObject, userId: string): ParsedCallMember {
  const entries: MembershipEntry[] = [];
  let skipped = 0;
  const fallbackExpiry = optNumber(content, 'm.expires_ts');
  for (const call of content['m.calls'] as unknown[]) {
    if (!isObject(call) || !isNonEmptyString(call['m.call_id']) || !Array.isArray(call['m.devices'])) {
      skipped++;
      continue;
    }
    const callId = call['m.call_id'];
    for (const dev of call['m.devices'] as unknown[]) {
      if (!isObject(dev) || !isNonEmptyString(dev.device_id)) {
        skipped++;
        continue;
      }
      const sessionId = optString(dev, 'session_id');
      const expiresAt = optNumber(dev, 'expires_ts') ?? fallbackExpiry;
      if (sessionId === null || expiresAt === undefined || !Number.isFinite(expiresAt)) {
        skipped++;
        continue;
      }
      entries.push({
        format: 'legacy',
        userId,
        deviceId: dev.device_id,
        callId,
        ...(sessionId !== undefined ? { sessionId } : {}),
        expiresAt,
        activeFoci: parseFocusLists(dev['m.foci.active'], dev['org.matrix.msc3898.foci.active']),
      });
    }
  }
  return { format: 'legacy', entries, skipped };
}

/** Fields shared by (b) entries and (c) contents: call_id, device_id, scope, application. */
function commonFields(
  o: JsonObject,
): { callId: string; deviceId: string; scope?: string; application?: string } | undefined {
  const callId = o.call_id;
  const deviceId = o.device_id;
  const scope = optString(o, 'scope');
  const application = optString(o, 'application');
  if (typeof callId !== 'string' || !isNonEmptyString(deviceId) || scope === null || application === null) {
    return undefined;
  }
  return {
    callId,
    deviceId,
    ...(scope !== undefined ? { scope } : {}),
    ...(application !== undefined ? { application } : {}),
  };
}

/** Format (b): expiry = `(created_ts ?? origin_server_ts) + expires`, else `expires_ts`, else invalid. */
function parseMemberships(content: JsonObject, ctx: CallMemberContext): ParsedCallMember {
  const entries: MembershipEntry[] = [];
  let skipped = 0;
  for (const m of content.memberships as unknown[]) {
    const common = isObject(m) ? commonFields(m) : undefined;
    if (!isObject(m) || common === undefined) {
      skipped++;
      continue;
    }
    const expires = optNumber(m, 'expires');
    const expiresAt =
      expires !== undefined
        ? (optNumber(m, 'created_ts') ?? ctx.originServerTs) + expires
        : optNumber(m, 'expires_ts');
    if (expiresAt === undefined || !Number.isFinite(expiresAt)) {
      skipped++;
      continue;
    }
    entries.push({
      format: 'memberships',
      userId: ctx.sender,
      ...common,
      expiresAt,
      activeFoci: parseFocusLists(m.foci_active),
    });
  }
  return { format: 'memberships', entries, skipped };
}

/** Format (c): the content is one membership; expiry = `(created_ts ?? origin_server_ts) + (expires ?? 4 h)`. */
function parseSession(content: JsonObject, ctx: CallMemberContext): ParsedCallMember {
  const common = commonFields(content);
  const expiresAt =
    (optNumber(content, 'created_ts') ?? ctx.originServerTs) +
    (optNumber(content, 'expires') ?? DEFAULT_SESSION_EXPIRES_MS);
  if (common === undefined || !Number.isFinite(expiresAt)) {
    return { format: 'session', entries: [], skipped: 1 };
  }
  if (!sessionStateKeyMatches(ctx.stateKey, ctx.sender, common.deviceId, common.application ?? '')) {
    return { format: 'session', entries: [], skipped: 0, rejected: 'bad_state_key' };
  }
  const focus = parseFocus(content.focus_active);
  return {
    format: 'session',
    entries: [
      {
        format: 'session',
        userId: ctx.sender,
        ...common,
        expiresAt,
        activeFoci: focus !== undefined ? [focus] : [],
      },
    ],
    skipped: 0,
  };
}

/**
 * §3.3: the state key is `_<sender>_<device_id>` (or without the leading `_` in owned-state room versions),
 * optionally followed by `_<application>` and a slot suffix (`_m.call`, `_m.call<slot id>`).
 */
export function sessionStateKeyMatches(
  stateKey: string,
  sender: string,
  deviceId: string,
  application: string,
): boolean {
  const base = `${sender}_${deviceId}`;
  let rest: string;
  if (stateKey.startsWith(`_${base}`)) {
    rest = stateKey.slice(base.length + 1);
  } else if (stateKey.startsWith(base)) {
    rest = stateKey.slice(base.length);
  } else {
    return false;
  }
  return rest === '' || (application !== '' && rest.startsWith(`_${application}`));
}

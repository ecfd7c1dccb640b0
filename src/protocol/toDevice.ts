/**
 * Incoming to-device call events → typed values (protocol.md §4.1, §4.2, §8), and the outgoing builders
 * (re-exported from callContent.ts; the event types are in callEvent.ts). Pure: never throws, no I/O.
 *
 * Error codes: a missing field, a field of the wrong JSON type or one that breaks its structural rule (length,
 * range, integer, `!` prefix, the `type` of an SDP object, an empty candidates array) is `M_BAD_JSON`; a
 * well-formed value the SFU cannot accept (`version`, `dest_session_id`, `invitee`) is `M_INVALID_PARAM`; an SDP
 * over `maxInviteSdpBytes` is `M_LIMIT_EXCEEDED`. When several apply, that order decides (the first
 * `M_BAD_JSON` in field order, else the first `M_INVALID_PARAM`, else the limit). `null` on an optional field
 * counts as absent (browsers' `RTCIceCandidate.toJSON()` gives `sdpMid: null`); on a required field it is
 * missing. `lifetime`, `capabilities` and `org.matrix.msgid` are ignored (`lifetime` is surfaced when it is a
 * non-negative number, never checked).
 */
import {
  CASCADE_KEY,
  METADATA_KEY,
  METADATA_KEY_STABLE,
  SFU_SESSION_ID,
  type StreamMetadata,
} from './callContent.js';
import {
  isCallEventType,
  type CallEvent,
  type CallEventBase,
  type CallEventType,
  type CallInvite,
  type CallParseErrcode,
  type CallParseFailure,
  type CallParseLimits,
  type FocusIdentity,
  type IceCandidate,
  type ParsedCallEvent,
  type ReplyAddress,
} from './callEvent.js';

export * from './callContent.js';
export * from './callEvent.js';

const MAX_ID_CHARS = 255;

type JsonObject = Record<string, unknown>;

function isObject(x: unknown): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** An own property only (no prototype lookups on attacker-shaped JSON). */
function get(o: JsonObject, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Length in Unicode code points, as JSON Schema counts; cheap when the UTF-16 length is already small. */
function charLength(s: string, max: number): number {
  if (s.length <= max) {
    return s.length;
  }
  let n = 0;
  for (const _ of s) {
    n++;
  }
  return n;
}

/** Whether the UTF-8 encoding of `s` is longer than `max` bytes; stops counting once it is. */
export function exceedsUtf8Bytes(s: string, max: number): boolean {
  if (s.length > max) {
    return true; // every UTF-16 code unit is at least one byte
  }
  if (s.length * 3 <= max) {
    return false; // every UTF-16 code unit is at most three bytes (a surrogate pair: four for two)
  }
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      bytes += 1;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    } else {
      bytes += 3;
    }
    if (bytes > max) {
      return true;
    }
  }
  return false;
}

/** Thrown inside the parser only; parseCallEvent turns it into a result. */
class Bad extends Error {
  readonly errcode: CallParseErrcode;
  constructor(errcode: CallParseErrcode, error: string) {
    super(error);
    this.name = 'Bad';
    this.errcode = errcode;
  }
}

function badJson(error: string): never {
  throw new Bad('M_BAD_JSON', error);
}

function describe(v: unknown): string {
  if (v === undefined) {
    return 'missing';
  }
  if (v === null) {
    return 'null';
  }
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

function idString(v: unknown, name: string, min: number): string {
  if (typeof v !== 'string') {
    return badJson(`${name} must be a string, got ${describe(v)}`);
  }
  const n = charLength(v, MAX_ID_CHARS);
  if (n < min || n > MAX_ID_CHARS) {
    return badJson(`${name} must be ${min}–${MAX_ID_CHARS} characters long, got ${n}`);
  }
  return v;
}

function requiredString(v: unknown, name: string): string {
  return typeof v === 'string' ? v : badJson(`${name} must be a string, got ${describe(v)}`);
}

function optionalString(v: unknown, name: string): string | undefined {
  return v === undefined || v === null ? undefined : requiredString(v, name);
}

function optionalIndex(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) {
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    return badJson(`${name} must be an integer ≥ 0, got ${typeof v === 'number' ? String(v) : describe(v)}`);
  }
  return v;
}

function optionalMetadata(o: JsonObject): StreamMetadata | undefined {
  let found: StreamMetadata | undefined;
  for (const key of [METADATA_KEY, METADATA_KEY_STABLE]) {
    const v = get(o, key);
    if (v === undefined || v === null) {
      continue;
    }
    if (!isObject(v)) {
      return badJson(`${key} must be an object, got ${describe(v)}`);
    }
    found ??= v;
  }
  return found;
}

/** `{type, sdp}` whose type is one of `types`. */
function description<T extends string>(
  v: unknown,
  name: string,
  types: readonly T[],
): { type: T; sdp: string } {
  if (!isObject(v)) {
    return badJson(`${name} must be an object, got ${describe(v)}`);
  }
  const type = requiredString(get(v, 'type'), `${name}.type`);
  if (!(types as readonly string[]).includes(type)) {
    return badJson(`${name}.type must be ${types.map((x) => `"${x}"`).join(' or ')}, got "${type}"`);
  }
  return { type: type as T, sdp: requiredString(get(v, 'sdp'), `${name}.sdp`) };
}

function candidate(v: unknown, name: string): IceCandidate {
  if (!isObject(v)) {
    return badJson(`${name} must be an object, got ${describe(v)}`);
  }
  const c = requiredString(get(v, 'candidate'), `${name}.candidate`);
  const sdpMid = optionalString(get(v, 'sdpMid'), `${name}.sdpMid`);
  const sdpMLineIndex = optionalIndex(get(v, 'sdpMLineIndex'), `${name}.sdpMLineIndex`);
  const usernameFragment = optionalString(get(v, 'usernameFragment'), `${name}.usernameFragment`);
  return {
    candidate: c,
    ...(sdpMid !== undefined ? { sdpMid } : {}),
    ...(sdpMLineIndex !== undefined ? { sdpMLineIndex } : {}),
    ...(usernameFragment !== undefined ? { usernameFragment } : {}),
  };
}

/** §4.1 structural checks; `version`'s value is checked later (M_INVALID_PARAM). */
function base(o: JsonObject): { base: CallEventBase; version: string | number } {
  const callId = idString(get(o, 'call_id'), 'call_id', 1);
  const confId = idString(get(o, 'conf_id'), 'conf_id', 0);
  const partyId = idString(get(o, 'party_id'), 'party_id', 1);
  const version = get(o, 'version');
  if (typeof version !== 'string' && typeof version !== 'number') {
    return badJson(`version must be "1" or 1, got ${describe(version)}`);
  }
  const deviceId = idString(get(o, 'device_id'), 'device_id', 1);
  const senderSessionId = idString(get(o, 'sender_session_id'), 'sender_session_id', 1);
  const destSessionId = requiredString(get(o, 'dest_session_id'), 'dest_session_id');
  const seq = optionalIndex(get(o, 'seq'), 'seq');
  const roomId = optionalString(get(o, 'room_id'), 'room_id');
  if (roomId?.startsWith('!') === false) {
    return badJson('room_id must start with "!"');
  }
  return {
    base: {
      callId,
      confId,
      partyId,
      version: '1',
      deviceId,
      senderSessionId,
      destSessionId,
      ...(seq !== undefined ? { seq } : {}),
      ...(roomId !== undefined ? { roomId } : {}),
    },
    version,
  };
}

/** The type-specific part, structurally checked; `sdp` is the SDP to size-check, if any. */
function body(type: CallEventType, o: JsonObject, b: CallEventBase): { event: CallEvent; sdp?: string } {
  switch (type) {
    case 'm.call.invite': {
      const offer = description(get(o, 'offer'), 'offer', ['offer']);
      const invitee = optionalString(get(o, 'invitee'), 'invitee');
      const metadata = optionalMetadata(o) ?? {};
      const cascade = get(o, CASCADE_KEY);
      if (cascade !== undefined && cascade !== null && typeof cascade !== 'boolean') {
        return badJson(`${CASCADE_KEY} must be a boolean, got ${describe(cascade)}`);
      }
      const lifetime = get(o, 'lifetime');
      const lifetimeMs =
        typeof lifetime === 'number' && Number.isFinite(lifetime) && lifetime >= 0 ? lifetime : undefined;
      const event: CallInvite = {
        type,
        ...b,
        sdp: offer.sdp,
        ...(invitee !== undefined ? { invitee } : {}),
        metadata,
        cascade: cascade === true,
        ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
      };
      return { event, sdp: offer.sdp };
    }
    case 'm.call.answer': {
      const answer = description(get(o, 'answer'), 'answer', ['answer']);
      const metadata = optionalMetadata(o);
      return {
        event: { type, ...b, sdp: answer.sdp, ...(metadata !== undefined ? { metadata } : {}) },
        sdp: answer.sdp,
      };
    }
    case 'm.call.candidates': {
      const list = get(o, 'candidates');
      if (!Array.isArray(list)) {
        return badJson(`candidates must be an array, got ${describe(list)}`);
      }
      if (list.length === 0) {
        return badJson('candidates must not be empty');
      }
      const candidates = list.map((c: unknown, i) => candidate(c, `candidates[${i}]`));
      return { event: { type, ...b, candidates } };
    }
    case 'm.call.select_answer':
      return {
        event: {
          type,
          ...b,
          selectedPartyId: requiredString(get(o, 'selected_party_id'), 'selected_party_id'),
        },
      };
    case 'm.call.negotiate': {
      const d = description(get(o, 'description'), 'description', ['offer', 'answer']);
      const metadata = optionalMetadata(o);
      return {
        event: { type, ...b, description: d, ...(metadata !== undefined ? { metadata } : {}) },
        sdp: d.sdp,
      };
    }
    case 'm.call.hangup': {
      const reason = optionalString(get(o, 'reason'), 'reason');
      return { event: { type, ...b, ...(reason !== undefined ? { reason } : {}) } };
    }
  }
}

function usableId(v: unknown, min: number): string | undefined {
  return typeof v === 'string' && v.length >= min && charLength(v, MAX_ID_CHARS) <= MAX_ID_CHARS
    ? v
    : undefined;
}

function replyAddress(content: unknown): ReplyAddress {
  if (!isObject(content)) {
    return { userDeviceKnown: false };
  }
  const callId = usableId(get(content, 'call_id'), 1);
  const deviceId = usableId(get(content, 'device_id'), 1);
  const senderSessionId = usableId(get(content, 'sender_session_id'), 1);
  const confId = usableId(get(content, 'conf_id'), 0);
  const partyId = usableId(get(content, 'party_id'), 1);
  return {
    userDeviceKnown: deviceId !== undefined,
    ...(callId !== undefined ? { callId } : {}),
    ...(deviceId !== undefined ? { deviceId } : {}),
    ...(senderSessionId !== undefined ? { senderSessionId } : {}),
    ...(confId !== undefined ? { confId } : {}),
    ...(partyId !== undefined ? { partyId } : {}),
  };
}

function semanticError(version: string | number, event: CallEvent, focus: FocusIdentity): string | undefined {
  if (version !== '1' && version !== 1) {
    return `unsupported version ${JSON.stringify(version)}`;
  }
  if (event.destSessionId !== SFU_SESSION_ID && event.destSessionId !== focus.deviceId) {
    return `dest_session_id must be "${SFU_SESSION_ID}" or "${focus.deviceId}"`;
  }
  if (event.type === 'm.call.invite' && event.invitee !== undefined && event.invitee !== focus.userId) {
    return `invitee must be ${focus.userId}`;
  }
  return undefined;
}

/**
 * Checks one incoming to-device call event (`type` and `content` as received). See the module comment for the
 * errcode rules; `reply` on a failure carries the usable addressing fields.
 */
export function parseCallEvent(
  type: string,
  content: unknown,
  limits: CallParseLimits,
  focus: FocusIdentity,
): ParsedCallEvent {
  if (!isCallEventType(type)) {
    return { ok: false, errcode: 'M_UNRECOGNIZED', error: `unrecognized event type ${type}` };
  }
  const fail = (errcode: CallParseErrcode, error: string): CallParseFailure => ({
    ok: false,
    errcode,
    error,
    reply: replyAddress(content),
  });
  if (!isObject(content)) {
    return fail('M_BAD_JSON', `content must be an object, got ${describe(content)}`);
  }
  let parsed: { event: CallEvent; sdp?: string };
  let version: string | number;
  try {
    const b = base(content);
    version = b.version;
    parsed = body(type, content, b.base);
  } catch (e) {
    if (e instanceof Bad) {
      return fail(e.errcode, e.message);
    }
    throw e;
  }
  const invalid = semanticError(version, parsed.event, focus);
  if (invalid !== undefined) {
    return fail('M_INVALID_PARAM', invalid);
  }
  if (parsed.sdp !== undefined) {
    if (exceedsUtf8Bytes(parsed.sdp, limits.maxInviteSdpBytes)) {
      return fail('M_LIMIT_EXCEEDED', `sdp is larger than ${limits.maxInviteSdpBytes} bytes`);
    }
  }
  return { ok: true, event: parsed.event };
}

/**
 * Data-channel frames → {@link DcMessage} (protocol.md §5.1–§5.3, §6). Pure: never throws on any input.
 *
 * Order of checks: a binary frame is `M_NOT_JSON`; a frame over `maxBytes` UTF-8 bytes is
 * `M_LIMIT_EXCEEDED` without being parsed (so no `id`); invalid JSON is `M_NOT_JSON`; anything but an object
 * is `M_BAD_JSON`. Then the dialect: a string `op` → A, else a string `type` with an object `content` → B,
 * else `M_BAD_JSON`. In A a present `id` must be a string of 1–64 characters (else `M_BAD_JSON`, not echoed);
 * from then on every A failure carries the `id`. An unknown op/type, or a server-to-client kind sent by a
 * client, is `M_BAD_JSON`. Fields: the first `M_BAD_JSON` in field order (missing, mistyped, a bad enum value,
 * an empty `foci`), else the first `M_INVALID_PARAM` (width/height not an integer 0–16384), else the first
 * `M_LIMIT_EXCEEDED` (a subscription list over `maxListEntries`). `null` on an optional field counts as
 * absent; unknown keys are ignored.
 */
import { METADATA_KEY, METADATA_KEY_STABLE } from '../callContent.js';
import { exceedsUtf8Bytes } from '../toDevice.js';
import {
  BadJson,
  Checker,
  absent,
  describe,
  get,
  isObject,
  isValidId,
  quote,
  type JsonObject,
} from './check.js';
import { readStreamMetadata } from './metadata.js';
import {
  DC_ERRCODES,
  DC_EVENT_TYPES,
  DC_OPS,
  MAX_ID_CHARS,
  type DcErrcode,
  type DcEventType,
  type DcMessage,
  type DcOp,
  type DcParseFailure,
  type DcParseLimits,
  type DcParseResult,
  type DcSender,
  type Dialect,
  type StreamMetadata,
} from './types.js';

const EVENT_TYPES: readonly string[] = Object.values(DC_EVENT_TYPES);

export function fail(errcode: DcErrcode, error: string, dialect?: Dialect, id?: string): DcParseFailure {
  return {
    ok: false,
    errcode,
    error,
    ...(id !== undefined ? { id } : {}),
    ...(dialect !== undefined ? { dialect } : {}),
  };
}

function errcode(c: Checker, v: unknown, path: string): DcErrcode {
  const s = c.string(v, path);
  return (DC_ERRCODES as readonly string[]).includes(s)
    ? (s as DcErrcode)
    : c.bad(`${path} must be a known errcode, got ${quote(s)}`);
}

function optionalMetadata(c: Checker, v: unknown, path: string): StreamMetadata | undefined {
  return absent(v) ? undefined : readStreamMetadata(c, v, path);
}

/** The id part of an A message. */
function idPart(id: string | undefined): { id?: string } {
  return id !== undefined ? { id } : {};
}

/** The body of a dialect A message (a link-mode checker also reads the link fields, §8.2–§8.3). */
export function bodyA(c: Checker, op: DcOp, o: JsonObject, id: string | undefined): DcMessage {
  switch (op) {
    case 'subscribe':
    case 'select':
      return {
        kind: 'subscribe',
        ...idPart(id),
        tracks: c.trackList(get(o, 'start'), 'start', c.link),
        ...(op === 'select' ? { alias: 'select' as const } : {}),
      };
    case 'unsubscribe':
      return { kind: 'unsubscribe', ...idPart(id), tracks: c.trackList(get(o, 'stop'), 'stop') };
    case 'publish': {
      const sdp = c.string(get(o, 'sdp'), 'sdp');
      return {
        kind: 'publish',
        ...idPart(id),
        sdp,
        metadata: readStreamMetadata(c, get(o, 'metadata'), 'metadata'),
      };
    }
    case 'unpublish': {
      const tracks = c.trackList(get(o, 'stop'), 'stop');
      const sdp = c.optionalString(get(o, 'sdp'), 'sdp');
      return { kind: 'unpublish', ...idPart(id), tracks, ...(sdp !== undefined ? { sdp } : {}) };
    }
    case 'offer':
    case 'answer': {
      const sdp = c.string(get(o, 'sdp'), 'sdp');
      const metadata = optionalMetadata(c, get(o, 'metadata'), 'metadata');
      return { kind: op, ...idPart(id), sdp, ...(metadata !== undefined ? { metadata } : {}) };
    }
    case 'metadata':
      return {
        kind: 'metadata',
        ...idPart(id),
        metadata: readStreamMetadata(c, get(o, 'metadata'), 'metadata'),
      };
    case 'alive':
      return { kind: 'alive', ...idPart(id) };
    case 'connect':
      return { kind: 'connect', ...idPart(id), foci: c.foci(get(o, 'foci'), 'foci') };
    case 'ack':
      return { kind: 'ack', id: id ?? c.bad('id must be a string, got missing') };
    case 'error': {
      const code = errcode(c, get(o, 'errcode'), 'errcode');
      const error = c.string(get(o, 'error'), 'error');
      const failed = absent(get(o, 'failed')) ? undefined : c.failed(get(o, 'failed'), 'failed');
      return {
        kind: 'error',
        ...idPart(id),
        errcode: code,
        error,
        ...(failed !== undefined ? { failed } : {}),
      };
    }
    case 'active_speaker':
      return activeSpeaker(c, o, '');
  }
}

/** B metadata lives under the stable key; the unstable MSC3077 key is read when the stable one is absent. */
function metadataB(c: Checker, content: JsonObject): StreamMetadata | undefined {
  const stable = get(content, METADATA_KEY_STABLE);
  if (!absent(stable)) {
    return readStreamMetadata(c, stable, `content.${METADATA_KEY_STABLE}`);
  }
  return optionalMetadata(c, get(content, METADATA_KEY), `content.${METADATA_KEY}`);
}

function bodyB(c: Checker, type: DcEventType, content: JsonObject): DcMessage {
  switch (type) {
    case DC_EVENT_TYPES.trackSubscription: {
      const sub = get(content, 'subscribe');
      const unsub = get(content, 'unsubscribe');
      if (absent(sub) && absent(unsub)) {
        return c.bad('content needs a subscribe or an unsubscribe list');
      }
      return {
        kind: 'track_subscription',
        subscribe: absent(sub) ? [] : c.trackList(sub, 'content.subscribe'),
        unsubscribe: absent(unsub) ? [] : c.trackList(unsub, 'content.unsubscribe'),
      };
    }
    case DC_EVENT_TYPES.negotiate: {
      const d = c.object(get(content, 'description'), 'content.description');
      const kind = c.optionalEnum(get(d, 'type'), 'content.description.type', ['offer', 'answer'] as const);
      if (kind === undefined) {
        return c.bad('content.description.type must be a string, got missing');
      }
      const sdp = c.string(get(d, 'sdp'), 'content.description.sdp');
      const metadata = metadataB(c, content);
      return { kind, sdp, ...(metadata !== undefined ? { metadata } : {}) };
    }
    case DC_EVENT_TYPES.metadataChanged: {
      const metadata = metadataB(c, content);
      return {
        kind: 'metadata',
        metadata: metadata ?? c.bad(`content.${METADATA_KEY_STABLE} must be an object, got missing`),
      };
    }
    case DC_EVENT_TYPES.ping:
      return { kind: 'ping' };
    case DC_EVENT_TYPES.pong:
      return { kind: 'alive' };
    case DC_EVENT_TYPES.connect:
      return { kind: 'connect', foci: c.foci(get(content, 'foci'), 'content.foci') };
    case DC_EVENT_TYPES.activeSpeaker:
      return activeSpeaker(c, content, 'content.');
    case DC_EVENT_TYPES.error: {
      const code = errcode(c, get(content, 'errcode'), 'content.errcode');
      const error = c.string(get(content, 'error'), 'content.error');
      const failed = get(content, 'failed');
      return {
        kind: 'error',
        errcode: code,
        error,
        ...(absent(failed) ? {} : { failed: c.failed(failed, 'content.failed') }),
      };
    }
  }
}

function activeSpeaker(c: Checker, o: JsonObject, prefix: string): DcMessage {
  return {
    kind: 'active_speaker',
    user_id: c.string(get(o, 'user_id'), `${prefix}user_id`),
    device_id: c.string(get(o, 'device_id'), `${prefix}device_id`),
    stream_id: c.string(get(o, 'stream_id'), `${prefix}stream_id`),
  };
}

/** Runs a body parser with `c` and applies the errcode priority (see the module comment). */
export function runBody<M>(
  dialect: Dialect,
  id: string | undefined,
  c: Checker,
  body: (c: Checker) => M,
): { ok: true; dialect: Dialect; message: M } | DcParseFailure {
  let message: M;
  try {
    message = body(c);
  } catch (e) {
    if (e instanceof BadJson) {
      return fail('M_BAD_JSON', e.message, dialect, id);
    }
    throw e;
  }
  const problem = c.problem;
  return problem === undefined
    ? { ok: true, dialect, message }
    : fail(problem.errcode, problem.error, dialect, id);
}

function run(
  dialect: Dialect,
  id: string | undefined,
  limits: DcParseLimits,
  body: (c: Checker) => DcMessage,
): DcParseResult {
  return runBody(dialect, id, new Checker(limits.maxListEntries), body);
}

/** The `id` of a dialect A request: absent, or 1–64 characters (else `M_BAD_JSON`, not echoed). */
export function readIdA(o: JsonObject): { ok: true; id: string | undefined } | DcParseFailure {
  const rawId = get(o, 'id');
  if (!absent(rawId) && !isValidId(rawId)) {
    return fail(
      'M_BAD_JSON',
      `id must be a string of 1–${MAX_ID_CHARS} characters, got ${describe(rawId)}`,
      'A',
    );
  }
  return { ok: true, id: absent(rawId) ? undefined : rawId };
}

function parseA(o: JsonObject, op: string, limits: DcParseLimits, from: DcSender): DcParseResult {
  const read = readIdA(o);
  if (!read.ok) {
    return read;
  }
  const id = read.id;
  if (!(DC_OPS as readonly string[]).includes(op)) {
    return fail('M_BAD_JSON', `unknown op ${quote(op)}`, 'A', id);
  }
  const known = op as DcOp;
  if (from === 'client' && (known === 'ack' || known === 'error' || known === 'active_speaker')) {
    return fail('M_BAD_JSON', `op "${known}" is not a client message`, 'A', id);
  }
  return run('A', id, limits, (c) => bodyA(c, known, o, id));
}

function parseB(type: string, content: JsonObject, limits: DcParseLimits, from: DcSender): DcParseResult {
  if (!EVENT_TYPES.includes(type)) {
    return fail('M_BAD_JSON', `unknown type ${quote(type)}`, 'B');
  }
  const known = type as DcEventType;
  if (
    from === 'client' &&
    (known === DC_EVENT_TYPES.ping ||
      known === DC_EVENT_TYPES.error ||
      known === DC_EVENT_TYPES.activeSpeaker)
  ) {
    return fail('M_BAD_JSON', `type "${known}" is not a client message`, 'B');
  }
  return run('B', undefined, limits, (c) => bodyB(c, known, content));
}

/**
 * Parses one data-channel frame (a text frame as a string, a binary frame as bytes). `from` is who sent it:
 * the SFU parses clients' frames (`'client'`, the default); test clients and links parse the frames of an
 * SFU with `'server'`, which also allows `ack`, `ping` and `error`.
 */
export function parseDcFrame(
  frame: string | Uint8Array,
  limits: DcParseLimits,
  from: DcSender = 'client',
): DcParseResult {
  const decoded = decodeFrame(frame, limits);
  if (!decoded.ok) {
    return decoded;
  }
  const v = decoded.value;
  const op = get(v, 'op');
  if (typeof op === 'string') {
    return parseA(v, op, limits, from);
  }
  const type = get(v, 'type');
  const content = get(v, 'content');
  if (typeof type === 'string' && isObject(content)) {
    return parseB(type, content, limits, from);
  }
  return fail(
    'M_BAD_JSON',
    'a message needs a string "op" (dialect A), or a string "type" and an object "content" (dialect B)',
  );
}

/** §5.1 before the dialect: a text frame within `maxBytes` UTF-8 bytes holding a JSON object. */
export function decodeFrame(
  frame: string | Uint8Array,
  limits: DcParseLimits,
): { ok: true; value: JsonObject } | DcParseFailure {
  if (typeof frame !== 'string') {
    return fail('M_NOT_JSON', 'binary frames are not accepted: send UTF-8 JSON text');
  }
  if (exceedsUtf8Bytes(frame, limits.maxBytes)) {
    return fail('M_LIMIT_EXCEEDED', `frame is larger than ${limits.maxBytes} bytes`);
  }
  let v: unknown;
  try {
    v = JSON.parse(frame);
  } catch {
    return fail('M_NOT_JSON', 'frame is not valid JSON');
  }
  if (!isObject(v)) {
    return fail('M_BAD_JSON', `frame must be a JSON object, got ${describe(v)}`);
  }
  return { ok: true, value: v };
}

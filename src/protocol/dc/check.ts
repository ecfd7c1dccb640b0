/**
 * Structural checks shared by the data-channel parser and the metadata reader. A {@link Checker} applies the
 * errcode priority of the parser: the first `M_BAD_JSON` (in field order) throws at once; a well-typed value
 * out of range (`M_INVALID_PARAM`) and an over-long list (`M_LIMIT_EXCEEDED`) are recorded and checking goes
 * on, so the result is the first `M_BAD_JSON`, else the first `M_INVALID_PARAM`, else the first limit.
 */
import {
  MAX_DIMENSION,
  MAX_ID_CHARS,
  MAX_LAYERS,
  MAX_RID_CHARS,
  MAX_SSRC,
  type DcErrcode,
  type FailedTrack,
  type FocusRef,
  type TrackRef,
} from './types.js';

export type JsonObject = Record<string, unknown>;

export function isObject(x: unknown): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** An own property only (no prototype lookups on attacker-shaped JSON). */
export function get(o: JsonObject, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Sets an own data property, also for keys such as `__proto__` that plain assignment would not create. */
export function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `null` on an optional field counts as absent. */
export function absent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

export function describe(v: unknown): string {
  if (v === undefined) {
    return 'missing';
  }
  if (v === null) {
    return 'null';
  }
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

/** A client-supplied string for an error text: JSON-quoted and cut to 64 characters. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

/** Length in Unicode code points, as JSON Schema counts. */
function charLength(s: string): number {
  let n = 0;
  for (const _ of s) {
    n++;
  }
  return n;
}

/** A dialect A `id`: a string of 1–64 characters. */
export function isValidId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && (v.length <= MAX_ID_CHARS || charLength(v) <= MAX_ID_CHARS);
}

/** A width or height within 0–16384 (the type is checked separately). */
export function isDimension(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= MAX_DIMENSION;
}

/** An RTP SSRC: an unsigned 32-bit integer (the type is checked separately). */
export function isSsrc(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= MAX_SSRC;
}

const RID = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_RID_CHARS}}$`);

/** A rid as links use it (RFC 8851 rid-id, 1–16 characters). */
export function isRid(s: string): boolean {
  return RID.test(s);
}

/**
 * `'session'`: a client's data channel (§5), where link fields are unknown keys and dropped. `'link'`: a link
 * between foci (§8), where `ssrc`, `layers` and the `layers` op are read and validated.
 */
export type DcChannel = 'session' | 'link';

interface Problem {
  readonly errcode: DcErrcode;
  readonly error: string;
}

/** Thrown inside the checks only; the parser turns it into a result. */
export class BadJson extends Error {
  constructor(error: string) {
    super(error);
    this.name = 'BadJson';
  }
}

export class Checker {
  readonly maxListEntries: number;
  readonly channel: DcChannel;
  #invalid: Problem | undefined;
  #limit: Problem | undefined;

  constructor(maxListEntries: number, channel: DcChannel = 'session') {
    this.maxListEntries = maxListEntries;
    this.channel = channel;
  }

  get link(): boolean {
    return this.channel === 'link';
  }

  bad(error: string): never {
    throw new BadJson(error);
  }

  invalid(error: string): void {
    this.#invalid ??= { errcode: 'M_INVALID_PARAM', error };
  }

  limit(error: string): void {
    this.#limit ??= { errcode: 'M_LIMIT_EXCEEDED', error };
  }

  /** The recorded problem that decides the result, if any. */
  get problem(): Problem | undefined {
    return this.#invalid ?? this.#limit;
  }

  object(v: unknown, path: string): JsonObject {
    return isObject(v) ? v : this.bad(`${path} must be an object, got ${describe(v)}`);
  }

  string(v: unknown, path: string): string {
    return typeof v === 'string' ? v : this.bad(`${path} must be a string, got ${describe(v)}`);
  }

  optionalString(v: unknown, path: string): string | undefined {
    return absent(v) ? undefined : this.string(v, path);
  }

  optionalBoolean(v: unknown, path: string): boolean | undefined {
    if (absent(v)) {
      return undefined;
    }
    return typeof v === 'boolean' ? v : this.bad(`${path} must be a boolean, got ${describe(v)}`);
  }

  /** One of `values`; anything else is `M_BAD_JSON`. */
  optionalEnum<T extends string>(v: unknown, path: string, values: readonly T[]): T | undefined {
    if (absent(v)) {
      return undefined;
    }
    const s = this.string(v, path);
    if (!(values as readonly string[]).includes(s)) {
      return this.bad(`${path} must be ${values.map((x) => `"${x}"`).join(' or ')}, got ${quote(s)}`);
    }
    return s as T;
  }

  /** An integer 0–16384: another type is `M_BAD_JSON`, another number `M_INVALID_PARAM` (then dropped). */
  optionalDimension(v: unknown, path: string): number | undefined {
    if (absent(v)) {
      return undefined;
    }
    if (typeof v !== 'number') {
      return this.bad(`${path} must be an integer, got ${describe(v)}`);
    }
    if (!isDimension(v)) {
      this.invalid(`${path} must be an integer 0–${MAX_DIMENSION}, got ${v}`);
      return undefined;
    }
    return v === 0 ? 0 : v; // -0
  }

  /** A trunk SSRC: another type is `M_BAD_JSON`, a number that is not a uint32 `M_INVALID_PARAM`. */
  ssrc(v: unknown, path: string): number {
    if (typeof v !== 'number') {
      return this.bad(`${path} must be an integer, got ${describe(v)}`);
    }
    if (!isSsrc(v)) {
      this.invalid(`${path} must be an integer 0–${MAX_SSRC}, got ${v}`);
    }
    return v;
  }

  /** A rid: another type is `M_BAD_JSON`, a string outside the rid syntax `M_INVALID_PARAM`. */
  rid(v: unknown, path: string): string {
    const s = this.string(v, path);
    if (!isRid(s)) {
      this.invalid(`${path} must be 1–${MAX_RID_CHARS} of A-Z a-z 0-9 - _, got ${quote(s)}`);
    }
    return s;
  }

  /**
   * A list of rids (§8.3 demand, §8.5 `sending`): unique, at most {@link MAX_LAYERS} (else
   * `M_LIMIT_EXCEEDED`); an empty list is `M_INVALID_PARAM` unless `allowEmpty`.
   */
  rids(v: unknown, path: string, allowEmpty: boolean): string[] {
    const list = this.array(v, path);
    const rids = list.map((e, i) => this.rid(e, `${path}[${i}]`));
    if (list.length === 0 && !allowEmpty) {
      this.invalid(`${path} must not be empty`);
    }
    if (list.length > MAX_LAYERS) {
      this.limit(`${path} has ${list.length} entries, more than ${MAX_LAYERS}`);
    }
    const dup = rids.find((r, i) => rids.indexOf(r) !== i);
    if (dup !== undefined) {
      this.invalid(`${path} names rid ${quote(dup)} twice`);
    }
    return rids;
  }

  array(v: unknown, path: string): unknown[] {
    return Array.isArray(v) ? v : this.bad(`${path} must be an array, got ${describe(v)}`);
  }

  /**
   * A subscription list: at most `maxListEntries` entries of `{stream_id, track_id, width?, height?}`, plus
   * `layers?` when `withLayers` (a link's `subscribe`, §8.3; elsewhere the key is dropped like any other).
   */
  trackList(v: unknown, path: string, withLayers = false): TrackRef[] {
    const list = this.array(v, path);
    if (list.length > this.maxListEntries) {
      this.limit(`${path} has ${list.length} entries, more than ${this.maxListEntries}`);
    }
    return list.map((e, i) => this.trackRef(e, `${path}[${i}]`, withLayers));
  }

  trackRef(v: unknown, path: string, withLayers = false): TrackRef {
    const o = this.object(v, path);
    const streamId = this.string(get(o, 'stream_id'), `${path}.stream_id`);
    const trackId = this.string(get(o, 'track_id'), `${path}.track_id`);
    const width = this.optionalDimension(get(o, 'width'), `${path}.width`);
    const height = this.optionalDimension(get(o, 'height'), `${path}.height`);
    const rawLayers = withLayers ? get(o, 'layers') : undefined;
    const layers = absent(rawLayers) ? undefined : this.rids(rawLayers, `${path}.layers`, false);
    return {
      streamId,
      trackId,
      ...(width !== undefined ? { width } : {}),
      ...(height !== undefined ? { height } : {}),
      ...(layers !== undefined ? { layers } : {}),
    };
  }

  /** `connect.foci`: a non-empty array of `{user_id, device_id}` strings; other keys are dropped. */
  foci(v: unknown, path: string): FocusRef[] {
    const list = this.array(v, path);
    if (list.length === 0) {
      return this.bad(`${path} must not be empty`);
    }
    return list.map((e, i) => {
      const o = this.object(e, `${path}[${i}]`);
      return {
        user_id: this.string(get(o, 'user_id'), `${path}[${i}].user_id`),
        device_id: this.string(get(o, 'device_id'), `${path}[${i}].device_id`),
      };
    });
  }

  /** `error.failed`: an array of `{stream_id, track_id}` strings. */
  failed(v: unknown, path: string): FailedTrack[] {
    return this.array(v, path).map((e, i) => {
      const o = this.object(e, `${path}[${i}]`);
      return {
        stream_id: this.string(get(o, 'stream_id'), `${path}[${i}].stream_id`),
        track_id: this.string(get(o, 'track_id'), `${path}[${i}].track_id`),
      };
    });
  }
}

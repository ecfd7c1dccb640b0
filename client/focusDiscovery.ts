/**
 * Where the focus comes from: the homeserver domain's `/.well-known/matrix/client`, whose
 * `org.matrix.msc4143.rtc_foci` list may name MSC3898 foci as `{type: "org.matrix.msc3898", user_id, device_id}`
 * (other types, e.g. `livekit`, are for other clients and skipped), else the focus the page was configured with.
 */
import { NoFocusError } from './errors.js';
import { describeError, isObject } from './ids.js';
import { MatrixHttp, type FetchLike } from './matrix.js';
import { FOCUS_TYPE, type FocusRef } from './membership.js';

export const RTC_FOCI_KEY = 'org.matrix.msc4143.rtc_foci';
export const WELL_KNOWN_CLIENT_PATH = '/.well-known/matrix/client';

export interface FociParse {
  /** Valid MSC3898 foci in the order listed, without duplicates. */
  foci: FocusRef[];
  /** Why each other entry was skipped. */
  ignored: string[];
}

const USER_ID = /^@[^:\s]+:\S+$/;

/** Why `f` is not a usable focus reference, or undefined when it is one. */
export function focusProblem(f: unknown): string | undefined {
  if (!isObject(f)) {
    return 'not an object';
  }
  const { user_id: userId, device_id: deviceId } = f;
  if (typeof userId !== 'string' || !USER_ID.test(userId) || userId.length > 255) {
    return `user_id ${JSON.stringify(userId)} is not a Matrix user id`;
  }
  if (typeof deviceId !== 'string' || deviceId === '' || deviceId.length > 255 || /\s/.test(deviceId)) {
    return `device_id ${JSON.stringify(deviceId)} is not a device id`;
  }
  return undefined;
}

/** The MSC3898 foci of a `.well-known/matrix/client` body. */
export function parseRtcFoci(wellKnown: unknown): FociParse {
  const out: FociParse = { foci: [], ignored: [] };
  if (!isObject(wellKnown)) {
    out.ignored.push('the .well-known body is not a JSON object');
    return out;
  }
  const list = wellKnown[RTC_FOCI_KEY];
  if (list === undefined) {
    return out;
  }
  if (!Array.isArray(list)) {
    out.ignored.push(`${RTC_FOCI_KEY} is not a list`);
    return out;
  }
  list.forEach((entry: unknown, i) => {
    if (!isObject(entry)) {
      out.ignored.push(`entry ${i}: not an object`);
      return;
    }
    if (entry['type'] !== FOCUS_TYPE) {
      out.ignored.push(`entry ${i}: type ${JSON.stringify(entry['type'])} is not ${FOCUS_TYPE}`);
      return;
    }
    const problem = focusProblem(entry);
    if (problem !== undefined) {
      out.ignored.push(`entry ${i}: ${problem}`);
      return;
    }
    const focus = { user_id: entry['user_id'] as string, device_id: entry['device_id'] as string };
    if (out.foci.some((f) => f.user_id === focus.user_id && f.device_id === focus.device_id)) {
      out.ignored.push(`entry ${i}: duplicate of an earlier entry`);
      return;
    }
    out.foci.push(focus);
  });
  return out;
}

export interface DiscoverFocusOptions {
  /** Base URL whose `/.well-known/matrix/client` is read (normally the homeserver domain's; e.g. the hsUrl). */
  wellKnownBase?: string | undefined;
  /** The fallback focus. */
  configured?: FocusRef | undefined;
  fetch?: FetchLike | undefined;
  /** Default 5 s. */
  timeoutMs?: number | undefined;
}

export interface DiscoveredFocus {
  focus: FocusRef;
  source: 'well-known' | 'configured';
  /** Everything skipped on the way (bad entries, an unreachable `.well-known`): for logs, not errors. */
  notes: string[];
}

/** The first MSC3898 focus of `.well-known`, else the configured one; NoFocusError when neither exists. */
export async function discoverFocus(o: DiscoverFocusOptions): Promise<DiscoveredFocus> {
  const notes: string[] = [];
  if (o.wellKnownBase !== undefined) {
    const http = new MatrixHttp(o.wellKnownBase, undefined, o.fetch);
    try {
      const body = await http.request('GET', WELL_KNOWN_CLIENT_PATH, undefined, {
        timeoutMs: o.timeoutMs ?? 5000,
      });
      const parsed = parseRtcFoci(body);
      notes.push(...parsed.ignored.map((why) => `${WELL_KNOWN_CLIENT_PATH}: ${why}`));
      const first = parsed.foci[0];
      if (first !== undefined) {
        return { focus: first, source: 'well-known', notes };
      }
      notes.push(`${WELL_KNOWN_CLIENT_PATH}: no ${FOCUS_TYPE} focus in ${RTC_FOCI_KEY}`);
    } catch (err) {
      notes.push(`${WELL_KNOWN_CLIENT_PATH}: ${describeError(err)}`);
    } finally {
      http.close();
    }
  }
  if (o.configured !== undefined) {
    const problem = focusProblem(o.configured);
    if (problem !== undefined) {
      throw new NoFocusError(`the configured focus is unusable: ${problem}`);
    }
    return {
      focus: { user_id: o.configured.user_id, device_id: o.configured.device_id },
      source: 'configured',
      notes,
    };
  }
  throw new NoFocusError(`no focus to call: ${notes.length === 0 ? 'none configured' : notes.join('; ')}`);
}

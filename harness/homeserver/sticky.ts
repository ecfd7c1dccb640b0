/**
 * MSC4354 sticky events, as far as a MatrixRTC client and the SFU need them: `PUT /send` takes
 * `org.matrix.msc4354.sticky_duration_ms` (unstable; the event then carries `msc4354_sticky: {duration_ms}`) or
 * `sticky_duration_ms` (stable; `sticky`), an integer in 0–3600000, anything else is 400 M_INVALID_PARAM; both
 * at once must agree. `/sync` returns a joined room's unexpired sticky events that its timeline does not carry
 * (initial sync, new join) in the section named like the event's key (`msc4354_sticky` / `sticky`), each with the
 * remaining stickiness in `unsigned` (`msc4354_sticky_duration_ttl_ms` / `sticky_duration_remaining_ms`).
 * This server's own events: the start of stickiness is `origin_server_ts`.
 */
import { queryParam, type Query } from './auth.js';
import { invalidParam } from './errors.js';
import type { Room, StoredEvent } from './rooms.js';
import type { ClientEvent } from './types.js';

export const MAX_STICKY_DURATION_MS = 3_600_000;

const PARAMS = [
  { param: 'org.matrix.msc4354.sticky_duration_ms', key: 'msc4354_sticky' },
  { param: 'sticky_duration_ms', key: 'sticky' },
] as const;

type StickyKey = (typeof PARAMS)[number]['key'];

const TTL_FIELD: Record<StickyKey, string> = {
  msc4354_sticky: 'msc4354_sticky_duration_ttl_ms',
  sticky: 'sticky_duration_remaining_ms',
};

/** The top-level field a `PUT /send` query asks for, e.g. `{msc4354_sticky: {duration_ms: 3600000}}`. */
export function stickyFromQuery(query: Query): Record<string, { duration_ms: number }> {
  let duration: number | undefined;
  let key: StickyKey | undefined;
  for (const p of PARAMS) {
    const raw = queryParam(query, p.param);
    if (raw === undefined) {
      continue;
    }
    const n = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(n <= MAX_STICKY_DURATION_MS)) {
      throw invalidParam(`${p.param} must be an integer from 0 to ${MAX_STICKY_DURATION_MS}`);
    }
    if (duration !== undefined && duration !== n) {
      throw invalidParam(`${p.param} disagrees with ${PARAMS[0].param}`);
    }
    duration = n;
    key = p.key;
  }
  return key === undefined || duration === undefined ? {} : { [key]: { duration_ms: duration } };
}

function stickyOf(event: ClientEvent): { key: StickyKey; durationMs: number } | undefined {
  for (const { key } of PARAMS) {
    const v = (event as unknown as Record<string, unknown>)[key];
    if (
      typeof v === 'object' &&
      v !== null &&
      typeof (v as { duration_ms?: unknown }).duration_ms === 'number'
    ) {
      return { key, durationMs: (v as { duration_ms: number }).duration_ms };
    }
  }
  return undefined;
}

/** Milliseconds of stickiness left at `now` (> 0), or undefined when the event is not (or no longer) sticky. */
export function stickyRemaining(event: ClientEvent, now: number): { key: StickyKey; ms: number } | undefined {
  const s = stickyOf(event);
  if (s === undefined) {
    return undefined;
  }
  const ms = event.origin_server_ts + Math.min(s.durationMs, MAX_STICKY_DURATION_MS) - now;
  return ms > 0 ? { key: s.key, ms } : undefined;
}

/**
 * The `/sync` sticky sections of a joined room: unexpired sticky events up to `head` that are not in `shown`
 * (the timeline sent alongside), oldest first, without `room_id`, with the remaining stickiness in `unsigned`.
 */
export function stickySections(
  room: Room,
  head: number,
  now: number,
  shown: ReadonlySet<StoredEvent>,
): Partial<Record<StickyKey, { events: Omit<ClientEvent, 'room_id'>[] }>> {
  const out: Partial<Record<StickyKey, { events: Omit<ClientEvent, 'room_id'>[] }>> = {};
  for (const stored of room.timeline) {
    if (stored.pos > head || shown.has(stored)) {
      continue;
    }
    const left = stickyRemaining(stored.event, now);
    if (left === undefined) {
      continue;
    }
    const { room_id: _roomId, ...event } = structuredClone(stored.event);
    event.unsigned = { ...event.unsigned, [TTL_FIELD[left.key]]: left.ms };
    (out[left.key] ??= { events: [] }).events.push(event);
  }
  return out;
}

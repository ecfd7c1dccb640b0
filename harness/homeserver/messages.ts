/**
 * `GET /rooms/{roomId}/messages` (client-server/message_pagination.yaml). Tokens are the `/sync` ones, `s<stream
 * position>`: `dir=b` returns events at or before the token newest first, `dir=f` events after it oldest first;
 * without `from`, from the newest (b) or oldest (f) visible event. `end` is omitted when no event is left. The
 * RoomEventFilter's `types`/`not_types` (with `*` wildcards), `senders`/`not_senders` and `limit` are applied;
 * its other fields are checked for type only where used. Visibility: a joined user sees the whole timeline
 * (this server creates rooms with `history_visibility: shared`), a user who left sees it up to the leave, others
 * get 403.
 */
import { queryParam, type Query } from './auth.js';
import { forbidden, invalidParam, violation } from './errors.js';
import type { Room, StoredEvent } from './rooms.js';
import { parseSince } from './sync.js';
import type { ClientEvent } from './types.js';

const DEFAULT_LIMIT = 10;
/** Like Synapse: larger limits are clamped. */
const MAX_LIMIT = 1000;

interface EventFilter {
  types?: string[];
  not_types?: string[];
  senders?: string[];
  not_senders?: string[];
  limit?: number;
}

function stringList(o: Record<string, unknown>, key: string): string[] | undefined {
  const v = o[key];
  if (v === undefined) {
    return undefined;
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw invalidParam(`filter.${key} must be an array of strings`);
  }
  return v;
}

export function parseEventFilter(raw: string | undefined): EventFilter {
  if (raw === undefined) {
    return {};
  }
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw violation(400, 'M_NOT_JSON', 'filter is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalidParam('filter must be a JSON object');
  }
  const o = v as Record<string, unknown>;
  const f: EventFilter = {};
  for (const key of ['types', 'not_types', 'senders', 'not_senders'] as const) {
    const list = stringList(o, key);
    if (list !== undefined) {
      f[key] = list;
    }
  }
  if (o.limit !== undefined) {
    if (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 1) {
      throw invalidParam('filter.limit must be a positive integer');
    }
    f.limit = o.limit;
  }
  return f;
}

function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) {
    return pattern === type;
  }
  const source = pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${source.join('.*')}$`).test(type);
}

function passes(f: EventFilter, e: ClientEvent): boolean {
  return (
    (f.types === undefined || f.types.some((p) => typeMatches(p, e.type))) &&
    !(f.not_types ?? []).some((p) => typeMatches(p, e.type)) &&
    (f.senders === undefined || f.senders.includes(e.sender)) &&
    !(f.not_senders ?? []).includes(e.sender)
  );
}

/** The last stream position `userId` may read in `room`; undefined when they never joined it. */
function visibleUpTo(room: Room, userId: string, head: number): number | undefined {
  const current = room.stateEvent('m.room.member', userId);
  if (current === undefined) {
    return undefined;
  }
  if (current.event.content.membership === 'join') {
    return head;
  }
  const wasJoined = room.timeline.some(
    (s) =>
      s.pos < current.pos &&
      s.event.type === 'm.room.member' &&
      s.event.state_key === userId &&
      s.event.content.membership === 'join',
  );
  return wasJoined ? current.pos : undefined;
}

export interface MessagesPage {
  start: string;
  end?: string;
  chunk: ClientEvent[];
}

export function buildMessages(room: Room, userId: string, head: number, query: Query): MessagesPage {
  const dir = queryParam(query, 'dir');
  if (dir === undefined) {
    throw violation(400, 'M_MISSING_PARAM', 'Missing required query parameter dir');
  }
  if (dir !== 'b' && dir !== 'f') {
    throw invalidParam('dir must be b or f');
  }
  const limitRaw = queryParam(query, 'limit');
  if (limitRaw !== undefined && !/^\d+$/.test(limitRaw)) {
    throw invalidParam('limit must be a non-negative integer');
  }
  const filter = parseEventFilter(queryParam(query, 'filter'));
  const limit = Math.min(
    limitRaw === undefined ? DEFAULT_LIMIT : Number(limitRaw),
    filter.limit ?? MAX_LIMIT,
    MAX_LIMIT,
  );
  const fromRaw = queryParam(query, 'from');
  const from = parseSince(fromRaw) ?? (dir === 'b' ? head : 0);
  const to = parseSince(queryParam(query, 'to'));
  const upTo = visibleUpTo(room, userId, head);
  if (upTo === undefined) {
    throw forbidden(`User ${userId} not in room ${room.roomId}, and room previews are disabled`);
  }
  const visible = room.timeline.filter((s) => s.pos <= upTo);
  const window: StoredEvent[] =
    dir === 'b'
      ? visible.filter((s) => s.pos <= from && (to === undefined || s.pos > to)).reverse()
      : visible.filter((s) => s.pos > from && (to === undefined || s.pos <= to));
  const chunk: StoredEvent[] = [];
  let last: StoredEvent | undefined;
  for (const s of window) {
    if (chunk.length >= limit) {
      break;
    }
    last = s;
    if (passes(filter, s.event)) {
      chunk.push(s);
    }
  }
  const page: MessagesPage = {
    start: fromRaw ?? `s${from}`,
    chunk: chunk.map((s) => structuredClone(s.event)),
  };
  const more = last !== undefined && window.indexOf(last) < window.length - 1;
  if (more && last !== undefined) {
    page.end = `s${dir === 'b' ? last.pos - 1 : last.pos}`;
  }
  return page;
}

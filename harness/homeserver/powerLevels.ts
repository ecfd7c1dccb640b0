/**
 * Power levels in the room authorisation rules (event-schemas/schema/m.room.power_levels.yaml; the room
 * versions' auth rules): the level of a user, the level an event type needs, and the checks on a change of the
 * m.room.power_levels event itself. Pure functions over the event content; rooms.ts applies them.
 */
import { forbidden, badJson, type MatrixError } from './errors.js';

/** The m.room.power_levels content as far as the auth rules read it. */
export type PowerLevels = Record<string, unknown>;

const LEVEL_KEYS = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const;
type LevelKey = (typeof LEVEL_KEYS)[number];

/** The spec's defaults when a key (or the whole event) is missing. */
const DEFAULTS: Record<LevelKey, number> = {
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  redact: 50,
  kick: 50,
  invite: 0,
};

const isLevel = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** A top-level level (`kick`, `state_default`, …): the value when it is an integer, else the default. */
export function levelFor(pl: PowerLevels | undefined, key: LevelKey): number {
  const v = pl?.[key];
  return isLevel(v) ? v : DEFAULTS[key];
}

/** A user's level; without a power levels event, the creator has 100 and everyone else 0. */
export function userLevel(pl: PowerLevels | undefined, userId: string, creator: string | undefined): number {
  if (pl === undefined) {
    return userId === creator ? 100 : 0;
  }
  const v = record(pl['users'])[userId];
  return isLevel(v) ? v : levelFor(pl, 'users_default');
}

/** The level needed to send an event of `type` (not m.room.member): `events`, else the state or event default. */
export function eventLevel(pl: PowerLevels | undefined, type: string, isState: boolean): number {
  const v = record(pl?.['events'])[type];
  return isLevel(v) ? v : levelFor(pl, isState ? 'state_default' : 'events_default');
}

/**
 * Room versions 10+: every level in the content an integer (`users`, `events`, `notifications` maps of integers,
 * `users` keyed by user ids). Returns the error, or undefined when the content is well formed.
 */
export function malformedPowerLevels(content: PowerLevels): MatrixError | undefined {
  for (const key of LEVEL_KEYS) {
    if (key in content && !isLevel(content[key])) {
      return badJson(`m.room.power_levels ${key} must be an integer`);
    }
  }
  for (const map of ['users', 'events', 'notifications'] as const) {
    if (!(map in content)) {
      continue;
    }
    const v = content[map];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return badJson(`m.room.power_levels ${map} must be an object`);
    }
    for (const [k, level] of Object.entries(v as Record<string, unknown>)) {
      if (!isLevel(level)) {
        return badJson(`m.room.power_levels ${map}.${k} must be an integer`);
      }
      if (map === 'users' && !/^@[^:]+:.+$/.test(k)) {
        return badJson(`m.room.power_levels users key ${k} is not a user id`);
      }
    }
  }
  return undefined;
}

/**
 * The auth rules on replacing m.room.power_levels (`prev` the current content, `next` the new one): no level the
 * sender cannot reach may be added, removed or changed, nor may the sender change another user whose level is
 * at least the sender's, nor give anyone more than the sender has. Undefined when allowed.
 */
export function powerLevelsChangeRefusal(
  prev: PowerLevels,
  next: PowerLevels,
  sender: string,
  senderLevel: number,
): MatrixError | undefined {
  const over = (v: unknown): boolean => isLevel(v) && v > senderLevel;
  for (const key of LEVEL_KEYS) {
    if (prev[key] !== next[key] && (over(prev[key]) || over(next[key]))) {
      return forbidden(`Changing ${key} needs a power level above ${senderLevel}`);
    }
  }
  for (const map of ['events', 'notifications'] as const) {
    const a = record(prev[map]);
    const b = record(next[map]);
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[k] !== b[k] && (over(a[k]) || over(b[k]))) {
        return forbidden(`Changing the level of ${map}.${k} needs a power level above ${senderLevel}`);
      }
    }
  }
  const a = record(prev['users']);
  const b = record(next['users']);
  for (const user of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[user] === b[user]) {
      continue;
    }
    if (user !== sender && isLevel(a[user]) && a[user] >= senderLevel) {
      return forbidden(`Cannot change the power level of ${user}: it is not below yours (${senderLevel})`);
    }
    if (over(b[user])) {
      return forbidden(`Cannot give ${user} a power level above yours (${senderLevel})`);
    }
  }
  return undefined;
}

/**
 * A room made for calls, as Element creates them (its createRoom override): the call membership event types need
 * level 0, so every member may join calls. The test homeserver's own `createRoom` helper uses it by default.
 */
export const CALL_ROOM_POWER_LEVELS: PowerLevels = {
  events: {
    'org.matrix.msc3401.call.member': 0,
    'm.call.member': 0,
    'org.matrix.msc4143.rtc.member': 0,
  },
};

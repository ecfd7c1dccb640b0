/**
 * The room model: events in order, current state keyed by (type, state_key), memberships and a simplified
 * form of the room authorisation rules (rooms v1–v11): only joined users send events, a state key starting with
 * `@` must be the sender's own id, membership moves follow the m.room.member transition table
 * (event-schemas/schema/m.room.member.yaml), and power levels apply (powerLevels.ts): the level an event type
 * needs, invite/kick/ban levels (kick and ban only of users below the sender), and the rules on changing
 * m.room.power_levels itself.
 */
import { isDeepStrictEqual } from 'node:util';
import { forbidden, notFound, outcome, invalidParam } from './errors.js';
import { isRoomAlias, newEventId, newRoomId, parseUserId } from './ids.js';
import {
  eventLevel,
  levelFor,
  malformedPowerLevels,
  powerLevelsChangeRefusal,
  userLevel,
  type PowerLevels,
} from './powerLevels.js';
import { check, validators, type CreateRoomBody, type MemberContent } from './schemas.js';
import type { ClientEvent } from './types.js';

export type Membership = MemberContent['membership'];

export interface StoredEvent {
  /** Position in the server-wide stream (shared with to-device messages). */
  pos: number;
  event: ClientEvent;
}

/** What the room store needs from the server around it. */
export interface RoomHost {
  readonly serverName: string;
  now(): number;
  nextPos(): number;
  userExists(userId: string): boolean;
  /** Called synchronously for every event appended, in order. */
  onRoomEvent(room: Room, stored: StoredEvent): void;
}

const SUPPORTED_ROOM_VERSIONS = new Set(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
export const DEFAULT_ROOM_VERSION = '10';

const stateKeyOf = (type: string, stateKey: string): string => `${type}\u0000${stateKey}`;

export class Room {
  readonly roomId: string;
  readonly version: string;
  readonly timeline: StoredEvent[] = [];
  readonly #state = new Map<string, StoredEvent>();

  constructor(roomId: string, version: string) {
    this.roomId = roomId;
    this.version = version;
  }

  currentState(): StoredEvent[] {
    return [...this.#state.values()];
  }

  stateEvent(type: string, stateKey: string): StoredEvent | undefined {
    return this.#state.get(stateKeyOf(type, stateKey));
  }

  membership(userId: string): Membership | undefined {
    return this.stateEvent('m.room.member', userId)?.event.content.membership as Membership | undefined;
  }

  /** The current m.room.power_levels content (undefined before there is one). */
  powerLevels(): PowerLevels | undefined {
    return this.stateEvent('m.room.power_levels', '')?.event.content;
  }

  /** A user's power level now. */
  levelOf(userId: string): number {
    return userLevel(this.powerLevels(), userId, this.stateEvent('m.room.create', '')?.event.sender);
  }

  members(membership: Membership = 'join'): string[] {
    return this.currentState()
      .filter((s) => s.event.type === 'm.room.member' && s.event.content.membership === membership)
      .map((s) => s.event.state_key!);
  }

  /** State after every event up to and including stream position `pos`. */
  stateAt(pos: number): StoredEvent[] {
    const state = new Map<string, StoredEvent>();
    for (const s of this.timeline) {
      if (s.pos > pos) {
        break;
      }
      if (s.event.state_key !== undefined) {
        state.set(stateKeyOf(s.event.type, s.event.state_key), s);
      }
    }
    return [...state.values()];
  }

  /**
   * The state `userId` may read (rooms.yaml GET /state): the current state while joined, the state when they
   * left if they were joined before; undefined (403) if they are not and never were a member.
   */
  visibleState(userId: string): StoredEvent[] | undefined {
    const current = this.stateEvent('m.room.member', userId);
    if (current === undefined) {
      return undefined;
    }
    if (current.event.content.membership === 'join') {
      return this.currentState();
    }
    const wasJoined = this.timeline.some(
      (s) =>
        s.pos < current.pos &&
        s.event.type === 'm.room.member' &&
        s.event.state_key === userId &&
        s.event.content.membership === 'join',
    );
    return wasJoined ? this.stateAt(current.pos) : undefined;
  }

  append(stored: StoredEvent): void {
    this.timeline.push(stored);
    if (stored.event.state_key !== undefined) {
      this.#state.set(stateKeyOf(stored.event.type, stored.event.state_key), stored);
    }
  }
}

export class RoomStore {
  readonly #host: RoomHost;
  readonly #rooms: Map<string, Room>;
  readonly #aliases: Map<string, string>;

  /** `shared`: the rooms and aliases of every server name (federation); new rooms get the host's name. */
  constructor(
    host: RoomHost,
    shared: { rooms: Map<string, Room>; aliases: Map<string, string> } = {
      rooms: new Map(),
      aliases: new Map(),
    },
  ) {
    this.#host = host;
    this.#rooms = shared.rooms;
    this.#aliases = shared.aliases;
  }

  get(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  all(): Room[] {
    return [...this.#rooms.values()];
  }

  resolve(roomIdOrAlias: string): Room {
    const roomId = isRoomAlias(roomIdOrAlias) ? this.#aliases.get(roomIdOrAlias) : roomIdOrAlias;
    const room = roomId === undefined ? undefined : this.#rooms.get(roomId);
    if (room === undefined) {
      throw notFound(`Unknown room ${roomIdOrAlias}`);
    }
    return room;
  }

  joinedRooms(userId: string): string[] {
    return this.all()
      .filter((r) => r.membership(userId) === 'join')
      .map((r) => r.roomId);
  }

  /** client-server/create_room.yaml: events in the order the spec lists. */
  createRoom(creator: string, body: CreateRoomBody): Room {
    const version = body.room_version ?? DEFAULT_ROOM_VERSION;
    if (!SUPPORTED_ROOM_VERSIONS.has(version)) {
      throw outcome(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${version} is not supported`);
    }
    let alias: string | undefined;
    if (body.room_alias_name !== undefined) {
      if (!/^[^:\s]+$/.test(body.room_alias_name)) {
        throw invalidParam(`Invalid room_alias_name ${JSON.stringify(body.room_alias_name)}`);
      }
      alias = `#${body.room_alias_name}:${this.#host.serverName}`;
      if (this.#aliases.has(alias)) {
        throw outcome(400, 'M_ROOM_IN_USE', `Room alias ${alias} already taken`);
      }
    }
    for (const invitee of body.invite ?? []) {
      if (parseUserId(invitee) === undefined) {
        throw invalidParam(`Invalid user id ${invitee}`);
      }
    }
    const preset = body.preset ?? (body.visibility === 'public' ? 'public_chat' : 'private_chat');
    const users: Record<string, number> = { [creator]: 100 };
    if (preset === 'trusted_private_chat') {
      for (const invitee of body.invite ?? []) {
        users[invitee] = 100; // create_room.yaml: invitees get the creator's power level
      }
    }
    const powerLevels: PowerLevels = {
      users,
      users_default: 0,
      events: {},
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
      ...body.power_level_content_override,
    };
    const malformed = malformedPowerLevels(powerLevels);
    if (malformed !== undefined) {
      throw malformed;
    }
    const room = new Room(newRoomId(this.#host.serverName), version);
    this.#rooms.set(room.roomId, room);
    if (alias !== undefined) {
      this.#aliases.set(alias, room.roomId);
    }
    const create: Record<string, unknown> = { ...body.creation_content, room_version: version };
    if (Number(version) < 11) {
      create.creator = creator;
    }
    this.#append(room, creator, 'm.room.create', '', create);
    this.#append(room, creator, 'm.room.member', creator, { membership: 'join' });
    this.#append(room, creator, 'm.room.power_levels', '', powerLevels);
    if (alias !== undefined) {
      this.#append(room, creator, 'm.room.canonical_alias', '', { alias });
    }
    const isPublic = preset === 'public_chat';
    this.#append(room, creator, 'm.room.join_rules', '', { join_rule: isPublic ? 'public' : 'invite' });
    this.#append(room, creator, 'm.room.history_visibility', '', { history_visibility: 'shared' });
    this.#append(room, creator, 'm.room.guest_access', '', {
      guest_access: isPublic ? 'forbidden' : 'can_join',
    });
    for (const ev of body.initial_state ?? []) {
      this.sendState(creator, room.roomId, ev.type, ev.state_key ?? '', ev.content);
    }
    if (body.name !== undefined) {
      this.#append(room, creator, 'm.room.name', '', { name: body.name });
    }
    if (body.topic !== undefined) {
      this.#append(room, creator, 'm.room.topic', '', { topic: body.topic });
    }
    for (const invitee of body.invite ?? []) {
      this.setMembership(
        creator,
        room.roomId,
        invitee,
        'invite',
        body.is_direct === true ? { is_direct: true } : {},
      );
    }
    return room;
  }

  /** Membership changes with the transition rules of m.room.member (sender may differ from target). */
  setMembership(
    sender: string,
    roomId: string,
    target: string,
    membership: Membership,
    extra: Record<string, unknown> = {},
  ): ClientEvent {
    const room = this.resolve(roomId);
    if (parseUserId(target) === undefined) {
      throw invalidParam(`Invalid user id ${target}`);
    }
    const s = room.membership(sender);
    const t = room.membership(target);
    switch (membership) {
      case 'join': {
        if (sender !== target) {
          throw forbidden('Cannot force another user to join');
        }
        if (t === 'ban') {
          throw forbidden('You are banned from this room');
        }
        const joinRule = room.stateEvent('m.room.join_rules', '')?.event.content.join_rule;
        if (joinRule !== 'public' && t !== 'invite' && t !== 'join') {
          throw forbidden('You are not invited to this room');
        }
        break;
      }
      case 'invite':
        if (s !== 'join') {
          throw forbidden(`${sender} is not in the room`);
        }
        requireLevel(room, sender, levelFor(room.powerLevels(), 'invite'), 'invite users');
        if (!this.#host.userExists(target)) {
          throw notFound(`Unknown user ${target}`);
        }
        if (t === 'join' || t === 'ban') {
          throw forbidden(`${target} is ${t === 'join' ? 'already in the room' : 'banned from the room'}`);
        }
        break;
      case 'leave':
        if (sender === target) {
          if (t !== 'join' && t !== 'invite' && t !== 'knock') {
            throw forbidden(`${sender} is not in the room`);
          }
        } else {
          if (s !== 'join') {
            throw forbidden(`${sender} is not in the room`);
          }
          if (t !== 'join' && t !== 'invite' && t !== 'knock' && t !== 'ban') {
            throw forbidden(`${target} is not in the room`);
          }
          if (t === 'ban') {
            requireLevel(room, sender, levelFor(room.powerLevels(), 'ban'), 'unban users');
          } else {
            requireOver(room, sender, target, levelFor(room.powerLevels(), 'kick'), 'kick');
          }
        }
        break;
      case 'ban':
        if (s !== 'join') {
          throw forbidden(`${sender} is not in the room`);
        }
        requireOver(room, sender, target, levelFor(room.powerLevels(), 'ban'), 'ban');
        break;
      case 'knock':
        throw forbidden('This room does not allow knocking');
    }
    return this.#appendState(room, sender, 'm.room.member', target, { ...extra, membership });
  }

  /**
   * The targeted membership endpoints (inviting.yaml, kicking.yaml, banning.yaml): kick applies to joined,
   * invited or knocking users, unban only to banned ones.
   */
  act(
    action: 'invite' | 'kick' | 'ban' | 'unban',
    sender: string,
    roomId: string,
    target: string,
    reason?: string,
  ): ClientEvent {
    const room = this.resolve(roomId);
    const current = room.membership(target);
    const applies =
      action === 'kick' ? ['join', 'invite', 'knock'] : action === 'unban' ? ['ban'] : undefined;
    if (applies !== undefined && (current === undefined || !applies.includes(current))) {
      throw forbidden(`Cannot ${action} ${target}: membership is ${current ?? 'none'}`);
    }
    const membership = action === 'kick' || action === 'unban' ? 'leave' : action;
    return this.setMembership(
      sender,
      room.roomId,
      target,
      membership,
      reason === undefined ? {} : { reason },
    );
  }

  /** A state event; m.room.member goes through setMembership. */
  sendState(
    sender: string,
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): ClientEvent {
    const room = this.resolve(roomId);
    if (type === 'm.room.member') {
      const { membership, ...rest } = check(validators.memberContent, content);
      return this.setMembership(sender, room.roomId, stateKey, membership, rest);
    }
    if (room.membership(sender) !== 'join') {
      throw forbidden(`${sender} is not in the room`);
    }
    if (type === 'm.room.create') {
      throw forbidden('The room already has an m.room.create event');
    }
    if (stateKey.startsWith('@') && stateKey !== sender) {
      throw forbidden(`State key ${stateKey} belongs to another user`);
    }
    requireLevel(room, sender, eventLevel(room.powerLevels(), type, true), `send ${type} state events`);
    if (type === 'm.room.power_levels') {
      const refusal =
        malformedPowerLevels(content) ??
        powerLevelsChangeRefusal(room.powerLevels() ?? {}, content, sender, room.levelOf(sender));
      if (refusal !== undefined) {
        throw refusal;
      }
    }
    return this.#appendState(room, sender, type, stateKey, content);
  }

  /** `top`: extra top-level event fields, e.g. MSC4354 `sticky` (sticky.ts). */
  sendMessage(
    sender: string,
    roomId: string,
    type: string,
    content: Record<string, unknown>,
    top: Record<string, unknown> = {},
  ): ClientEvent {
    const room = this.resolve(roomId);
    if (room.membership(sender) !== 'join') {
      throw forbidden(`${sender} is not in the room`);
    }
    requireLevel(room, sender, eventLevel(room.powerLevels(), type, false), `send ${type} events`);
    return this.#append(room, sender, type, undefined, content, top).event;
  }

  /** Like Synapse, re-sending the current state (same sender and content) returns the existing event. */
  #appendState(
    room: Room,
    sender: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): ClientEvent {
    const prev = room.stateEvent(type, stateKey);
    if (
      prev !== undefined &&
      prev.event.sender === sender &&
      isDeepStrictEqual(prev.event.content, content)
    ) {
      return prev.event;
    }
    return this.#append(room, sender, type, stateKey, content).event;
  }

  #append(
    room: Room,
    sender: string,
    type: string,
    stateKey: string | undefined,
    content: Record<string, unknown>,
    top: Record<string, unknown> = {},
  ): StoredEvent {
    const event: ClientEvent = {
      ...structuredClone(top),
      event_id: newEventId(),
      room_id: room.roomId,
      sender,
      origin_server_ts: this.#host.now(),
      type,
      content: structuredClone(content),
    };
    if (stateKey !== undefined) {
      event.state_key = stateKey;
      const prev = room.stateEvent(type, stateKey);
      if (prev !== undefined) {
        event.unsigned = { replaces_state: prev.event.event_id, prev_content: prev.event.content };
      }
    }
    const stored = { pos: this.#host.nextPos(), event };
    room.append(stored);
    this.#host.onRoomEvent(room, stored);
    return stored;
  }
}

/** M_FORBIDDEN unless `sender` has at least `needed` (`what`: the action, for the message). */
function requireLevel(room: Room, sender: string, needed: number, what: string): void {
  const level = room.levelOf(sender);
  if (level < needed) {
    throw forbidden(`You need power level ${needed} to ${what} in this room (yours is ${level})`);
  }
}

/** Kick and ban: the sender needs the action's level and a level above the target's. */
function requireOver(room: Room, sender: string, target: string, needed: number, action: string): void {
  requireLevel(room, sender, needed, `${action} users`);
  const level = room.levelOf(sender);
  const theirs = room.levelOf(target);
  if (theirs >= level) {
    throw forbidden(
      `Cannot ${action} ${target}: their power level (${theirs}) is not below yours (${level})`,
    );
  }
}

/**
 * `GET /sync` (client-server/sync.yaml), correct but minimal. Tokens are `s<stream position>`. To-device
 * messages follow Synapse: a request with `since=N` acknowledges (deletes) the device's messages up to N and
 * returns everything after it. Rooms: joined rooms get new timeline events (and the state before the join when
 * the join is new, and then the unexpired MSC4354 sticky events the timeline lacks: sticky.ts), invites get
 * stripped `invite_state`, rooms left since `since` appear under `leave`.
 * Filters are ignored.
 */
import { invalidParam } from './errors.js';
import type { Room, StoredEvent } from './rooms.js';
import type { Change, HomeserverState } from './state.js';
import { stickySections } from './sticky.js';
import type { ClientEvent } from './types.js';

export interface SyncParams {
  userId: string;
  deviceId?: string;
  since?: number;
  fullState: boolean;
}

type EventWithoutRoomId = Omit<ClientEvent, 'room_id'>;

export interface SyncResponse {
  next_batch: string;
  rooms: {
    join: Record<
      string,
      { state: { events: EventWithoutRoomId[] }; timeline: TimelineBatch } & ReturnType<typeof stickySections>
    >;
    invite: Record<string, { invite_state: { events: StrippedStateEvent[] } }>;
    leave: Record<string, { state: { events: EventWithoutRoomId[] }; timeline: TimelineBatch }>;
    knock: Record<string, never>;
  };
  to_device: { events: { type: string; sender: string; content: Record<string, unknown> }[] };
  presence: { events: never[] };
  account_data: { events: never[] };
}

interface TimelineBatch {
  events: EventWithoutRoomId[];
  limited: boolean;
  prev_batch: string;
}

/** core-event-schema/stripped_state.yaml */
interface StrippedStateEvent {
  type: string;
  state_key: string;
  sender: string;
  content: Record<string, unknown>;
}

const STRIPPED_TYPES = new Set([
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.canonical_alias',
  'm.room.avatar',
  'm.room.encryption',
  'm.room.topic',
]);

export function parseSince(since: string | undefined): number | undefined {
  if (since === undefined) {
    return undefined;
  }
  const m = /^s(\d+)$/.exec(since);
  if (m === null) {
    throw invalidParam(`Invalid stream token ${JSON.stringify(since)}`);
  }
  return Number(m[1]);
}

export function withoutRoomId(event: ClientEvent): EventWithoutRoomId {
  const { room_id: _roomId, ...rest } = event;
  return structuredClone(rest);
}

const myMembershipEvents = (room: Room, userId: string): StoredEvent[] =>
  room.timeline.filter((s) => s.event.type === 'm.room.member' && s.event.state_key === userId);

export function buildSync(state: HomeserverState, p: SyncParams): { body: SyncResponse; hasData: boolean } {
  const head = state.position;
  const body: SyncResponse = {
    next_batch: `s${head}`,
    rooms: { join: {}, invite: {}, leave: {}, knock: {} },
    to_device: { events: [] },
    presence: { events: [] },
    account_data: { events: [] },
  };
  if (p.deviceId !== undefined) {
    const device = state.device(p.userId, p.deviceId);
    if (device !== undefined) {
      if (p.since !== undefined) {
        const acked = p.since;
        device.inbox.splice(0, device.inbox.length, ...device.inbox.filter((e) => e.pos > acked));
      }
      body.to_device.events = device.inbox
        .filter((e) => e.pos <= head)
        .map((e) => structuredClone(e.message));
    }
  }
  for (const room of state.rooms.all()) {
    addRoom(body, room, p, head, state);
  }
  const rooms = body.rooms;
  const hasData =
    body.to_device.events.length > 0 ||
    Object.keys(rooms.join).length + Object.keys(rooms.invite).length + Object.keys(rooms.leave).length > 0;
  return { body, hasData };
}

function addRoom(body: SyncResponse, room: Room, p: SyncParams, head: number, state: HomeserverState): void {
  const mine = myMembershipEvents(room, p.userId);
  const latest = mine.at(-1);
  if (latest === undefined) {
    return;
  }
  const since = p.since ?? 0;
  const membership = latest.event.content.membership;
  const prevBatch = `s${since}`;
  if (membership === 'invite') {
    if (p.since === undefined || latest.pos > since) {
      const stripped = room
        .stateAt(latest.pos)
        .filter((s) => STRIPPED_TYPES.has(s.event.type) || s === latest)
        .map(({ event }) => ({
          type: event.type,
          state_key: event.state_key!,
          sender: event.sender,
          content: structuredClone(event.content),
        }));
      body.rooms.invite[room.roomId] = { invite_state: { events: stripped } };
    }
    return;
  }
  const wasJoined =
    p.since !== undefined && mine.filter((s) => s.pos <= since).at(-1)?.event.content.membership === 'join';
  const window = room.timeline.filter((s) => s.pos > since && s.pos <= head);
  if (membership === 'join') {
    if (p.since === undefined) {
      body.rooms.join[room.roomId] = {
        state: { events: room.stateAt(head).map((s) => withoutRoomId(s.event)) },
        timeline: { events: [], limited: false, prev_batch: `s${head}` },
        ...stickySections(room, head, state.now(), new Set()),
      };
      return;
    }
    const timeline = wasJoined ? window : window.filter((s) => s.pos >= latestJoinPos(mine));
    const first = timeline[0];
    if (first === undefined && !p.fullState) {
      return;
    }
    const stateBefore = first === undefined ? room.stateAt(head) : room.stateAt(first.pos - 1);
    body.rooms.join[room.roomId] = {
      state: { events: wasJoined && !p.fullState ? [] : stateBefore.map((s) => withoutRoomId(s.event)) },
      timeline: {
        events: timeline.map((s) => withoutRoomId(s.event)),
        limited: false,
        prev_batch: prevBatch,
      },
      ...(wasJoined ? {} : stickySections(room, head, state.now(), new Set(timeline))),
    };
    return;
  }
  // leave or ban: report it once, after the `since` that preceded it.
  if (p.since === undefined || latest.pos <= since) {
    return;
  }
  const timeline = wasJoined ? window.filter((s) => s.pos <= latest.pos) : [latest];
  body.rooms.leave[room.roomId] = {
    state: { events: [] },
    timeline: { events: timeline.map((s) => withoutRoomId(s.event)), limited: false, prev_batch: prevBatch },
  };
}

function latestJoinPos(mine: StoredEvent[]): number {
  return mine.filter((s) => s.event.content.membership === 'join').at(-1)?.pos ?? 0;
}

/** Long-poll support: resolves waiters on every change, on timeout, or when the server closes. */
export class SyncWaiters {
  readonly #waiters = new Set<() => void>();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(state: HomeserverState) {
    this.#unsubscribe = state.subscribe((_change: Change) => {
      this.#wakeAll();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  wait(ms: number): Promise<void> {
    if (this.#closed || ms <= 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.#waiters.add(wake);
    });
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) {
      wake();
    }
  }
}

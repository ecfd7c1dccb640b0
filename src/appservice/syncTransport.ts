/**
 * The `/sync` fallback for receiving to-device messages (protocol.md §2.4 b, `to_device.transport: sync`):
 * long-polls `/sync` as the focus device (`user_id` + `org.matrix.msc3202.device_id` and the MSC4326
 * `device_id`) and feeds to-device events, joined rooms' state, timeline and sticky events (MSC4354) and invites
 * to the focus user into the same event bus the appservice push uses. Backs off 2 s after a failure; stops on
 * close().
 */
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import { toError } from '../util/errors.js';
import type { AppserviceEventBus } from './eventBus.js';
import { isRecord, isRoomEvent, type RoomEvent } from './events.js';
import type { HomeserverClient } from './homeserverClient.js';

export interface SyncTransportOptions {
  client: HomeserverClient;
  bus: AppserviceEventBus;
  focus: { userId: string; deviceId: string };
  clock: Clock;
  log: Logger;
  pollTimeoutMs?: number;
  retryMs?: number;
  onIgnored?: (reason: string) => void;
}

function arrayAt(o: unknown, ...path: string[]): unknown[] {
  let cur: unknown = o;
  for (const p of path) {
    cur = isRecord(cur) ? cur[p] : undefined;
  }
  return Array.isArray(cur) ? (cur as unknown[]) : [];
}

export class SyncTransport {
  readonly #o: SyncTransportOptions;
  readonly #abort = new AbortController();
  #since: string | undefined;
  #running: Promise<void> | undefined;
  #syncs = 0;

  constructor(opts: SyncTransportOptions) {
    this.#o = opts;
  }

  /** Number of completed /sync responses (for tests and /status). */
  get syncs(): number {
    return this.#syncs;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async #loop(): Promise<void> {
    const poll = this.#o.pollTimeoutMs ?? 30_000;
    while (!this.#stopped()) {
      try {
        const res = await this.#o.client.request('GET', '/_matrix/client/v3/sync', {
          query: {
            'org.matrix.msc3202.device_id': this.#o.focus.deviceId,
            device_id: this.#o.focus.deviceId,
            timeout: this.#since === undefined ? 0 : poll,
            since: this.#since,
          },
          timeoutMs: poll + 15_000,
          signal: this.#abort.signal,
        });
        if (!isRecord(res) || typeof res['next_batch'] !== 'string') {
          throw new Error('sync response without next_batch');
        }
        await this.#process(res);
        this.#since = res['next_batch'];
        this.#syncs++;
      } catch (e) {
        if (this.#stopped()) {
          return;
        }
        this.#o.log.warn({ err: toError(e).message }, 'sync failed; retrying');
        await new Promise<void>((resolve) => {
          const t = this.#o.clock.setTimeout(resolve, this.#o.retryMs ?? 2000);
          this.#abort.signal.addEventListener('abort', () => {
            t.cancel();
            resolve();
          });
        });
      }
    }
  }

  async #process(res: Record<string, unknown>): Promise<void> {
    const bus = this.#o.bus;
    const rooms = isRecord(res['rooms']) ? res['rooms'] : {};
    for (const section of ['join', 'leave'] as const) {
      const map = isRecord(rooms[section]) ? rooms[section] : {};
      for (const [roomId, room] of Object.entries(map)) {
        const events = [
          ...arrayAt(room, 'state', 'events'),
          ...arrayAt(room, 'timeline', 'events'),
          // MSC4354: unexpired sticky events outside the timeline (format (d) memberships, §3.3b).
          ...arrayAt(room, 'sticky', 'events'),
          ...arrayAt(room, 'msc4354_sticky', 'events'),
        ];
        for (const raw of events) {
          const ev: unknown = isRecord(raw) ? { ...raw, room_id: roomId } : raw;
          if (isRoomEvent(ev)) {
            await bus.dispatch('room_event', ev);
          } else {
            this.#o.onIgnored?.('malformed');
          }
        }
      }
    }
    const invites = isRecord(rooms['invite']) ? rooms['invite'] : {};
    for (const [roomId, room] of Object.entries(invites)) {
      const inviteEvent = arrayAt(room, 'invite_state', 'events').find(
        (e) =>
          isRecord(e) &&
          e['type'] === 'm.room.member' &&
          e['state_key'] === this.#o.focus.userId &&
          isRecord(e['content']) &&
          e['content']['membership'] === 'invite',
      );
      if (isRecord(inviteEvent) && typeof inviteEvent['sender'] === 'string') {
        // Stripped state has no event id or timestamp: synthesise a ClientEvent for the membership module.
        const ev: RoomEvent = {
          type: 'm.room.member',
          state_key: this.#o.focus.userId,
          sender: inviteEvent['sender'],
          room_id: roomId,
          event_id: `$sync-invite-${roomId}`,
          origin_server_ts: this.#o.clock.now(),
          content: { membership: 'invite' },
        };
        await bus.dispatch('room_event', ev);
      }
    }
    for (const raw of arrayAt(res, 'to_device', 'events')) {
      if (
        isRecord(raw) &&
        typeof raw['type'] === 'string' &&
        typeof raw['sender'] === 'string' &&
        isRecord(raw['content'])
      ) {
        if (raw['type'] === 'm.room.encrypted') {
          this.#o.onIgnored?.('encrypted');
          continue;
        }
        await bus.dispatch('to_device', {
          type: raw['type'],
          sender: raw['sender'],
          content: raw['content'],
          to_user_id: this.#o.focus.userId,
          to_device_id: this.#o.focus.deviceId,
        });
      } else {
        this.#o.onIgnored?.('malformed');
      }
    }
  }
}

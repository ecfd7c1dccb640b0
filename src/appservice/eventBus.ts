/**
 * The in-process bus between the appservice API and the modules that consume Matrix input (membership,
 * signalling). Handlers of one kind run in subscription order and are awaited, so the transaction
 * queue stays strictly in order; a handler's error is reported and never stops the others. Room events come
 * singly or in chunks; each consumer gets them in the form it subscribed to (`dispatch`).
 */
import { toError } from '../util/errors.js';
import type { EphemeralEvent, RoomEvent, ToDeviceEvent } from './events.js';

export interface BusPayloads {
  room_event: RoomEvent;
  /**
   * Consecutive room events of one transaction or sync response, in order (at most `ROOM_EVENT_CHUNK`): a
   * consumer may do its per-change work once per chunk instead of once per event.
   */
  room_events: readonly RoomEvent[];
  to_device: ToDeviceEvent;
  ephemeral: EphemeralEvent;
}

export type BusKind = keyof BusPayloads;

/** Room events handed over per `room_events` dispatch; the event loop is yielded to between chunks. */
export const ROOM_EVENT_CHUNK = 200;

/** Lets timers and I/O (media, health checks) run before the next chunk of a long input. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
type Handler<K extends BusKind> = (ev: BusPayloads[K]) => void | Promise<void>;

export class AppserviceEventBus {
  readonly #handlers: { [K in BusKind]: Handler<K>[] } = {
    room_event: [],
    room_events: [],
    to_device: [],
    ephemeral: [],
  };
  readonly #onError: (kind: BusKind, err: Error) => void;

  constructor(onError: (kind: BusKind, err: Error) => void) {
    this.#onError = onError;
  }

  /** Adds a handler; the returned function removes it. */
  subscribe<K extends BusKind>(kind: K, handler: Handler<K>): () => void {
    const list = this.#handlers[kind];
    list.push(handler);
    return () => {
      const i = list.indexOf(handler);
      if (i >= 0) {
        list.splice(i, 1);
      }
    };
  }

  /**
   * Hands `ev` to the handlers of `kind`. Room events reach both room kinds: a chunk (`room_events`) is also
   * handed event by event to the `room_event` handlers, and one `room_event` to the `room_events` handlers as a
   * chunk of one — so a consumer subscribes to the one it wants (not both) and sees every room event once.
   */
  async dispatch<K extends BusKind>(kind: K, ev: BusPayloads[K]): Promise<void> {
    await this.#run(kind, ev);
    if (kind === 'room_events' && this.#handlers.room_event.length > 0) {
      for (const one of ev as BusPayloads['room_events']) {
        await this.#run('room_event', one);
      }
    } else if (kind === 'room_event' && this.#handlers.room_events.length > 0) {
      await this.#run('room_events', [ev as BusPayloads['room_event']]);
    }
  }

  async #run<K extends BusKind>(kind: K, ev: BusPayloads[K]): Promise<void> {
    for (const h of [...this.#handlers[kind]]) {
      try {
        await h(ev);
      } catch (e) {
        this.#onError(kind, toError(e));
      }
    }
  }
}

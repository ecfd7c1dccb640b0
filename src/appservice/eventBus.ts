/**
 * The in-process bus between the appservice API and the modules that consume Matrix input (membership,
 * signalling). Handlers of one kind run in subscription order and are awaited, so the transaction
 * queue stays strictly in order; a handler's error is reported and never stops the others.
 */
import { toError } from '../util/errors.js';
import type { EphemeralEvent, RoomEvent, ToDeviceEvent } from './events.js';

export interface BusPayloads {
  room_event: RoomEvent;
  to_device: ToDeviceEvent;
  ephemeral: EphemeralEvent;
}

export type BusKind = keyof BusPayloads;
type Handler<K extends BusKind> = (ev: BusPayloads[K]) => void | Promise<void>;

export class AppserviceEventBus {
  readonly #handlers: { [K in BusKind]: Handler<K>[] } = { room_event: [], to_device: [], ephemeral: [] };
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

  async dispatch<K extends BusKind>(kind: K, ev: BusPayloads[K]): Promise<void> {
    for (const h of [...this.#handlers[kind]]) {
      try {
        await h(ev);
      } catch (e) {
        this.#onError(kind, toError(e));
      }
    }
  }
}

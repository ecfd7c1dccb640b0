/**
 * Appservice transaction processing: body checks, txnId idempotency (the last 1000 ids), and one in-order
 * queue that hands room events, then to-device messages, then ephemeral events to the bus (protocol.md §2.3).
 * A bad event inside a transaction is counted and skipped; it never fails the transaction.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { ProtocolError } from '../util/errors.js';
import { SerialQueue } from '../util/serialQueue.js';
import { ROOM_EVENT_CHUNK, yieldToLoop, type AppserviceEventBus } from './eventBus.js';
import {
  isRecord,
  isRoomEvent,
  isToDeviceEvent,
  type EphemeralEvent,
  type RoomEvent,
  type ToDeviceEvent,
} from './events.js';

const TO_DEVICE_KEYS = ['to_device', 'de.sorunome.msc2409.to_device'] as const;
const EPHEMERAL_KEYS = ['ephemeral', 'de.sorunome.msc2409.ephemeral'] as const;
const REMEMBERED_TXNS = 1000;

export interface FocusIdentity {
  userId: string;
  deviceId: string;
}

interface ParsedTransaction {
  events: unknown[];
  toDevice: unknown[];
  ephemeral: unknown[];
}

/** Checks the body's shape (not its events): throws ProtocolError M_NOT_JSON / M_BAD_JSON. */
export function parseTransactionBody(body: unknown): ParsedTransaction {
  if (!isRecord(body)) {
    throw new ProtocolError('M_NOT_JSON', 'Body is not a JSON object');
  }
  const events = body['events'];
  if (!Array.isArray(events)) {
    throw new ProtocolError('M_BAD_JSON', 'events must be an array');
  }
  const pick = (keys: readonly string[]): unknown[] => {
    // The stable key wins when both are present.
    for (const k of keys) {
      const v = body[k];
      if (v === undefined) {
        continue;
      }
      if (!Array.isArray(v)) {
        throw new ProtocolError('M_BAD_JSON', `${k} must be an array`);
      }
      return v;
    }
    return [];
  };
  // Validate both spellings even when only one is read.
  for (const k of [...TO_DEVICE_KEYS, ...EPHEMERAL_KEYS]) {
    if (body[k] !== undefined && !Array.isArray(body[k])) {
      throw new ProtocolError('M_BAD_JSON', `${k} must be an array`);
    }
  }
  return { events, toDevice: pick(TO_DEVICE_KEYS), ephemeral: pick(EPHEMERAL_KEYS) };
}

export class TransactionProcessor {
  readonly #queue = new SerialQueue();
  readonly #seen = new Map<string, Promise<void>>();
  readonly #bus: AppserviceEventBus;
  readonly #focus: FocusIdentity;
  readonly #metrics: Metrics;
  readonly #log: Logger;

  constructor(deps: { bus: AppserviceEventBus; focus: FocusIdentity; metrics: Metrics; log: Logger }) {
    this.#bus = deps.bus;
    this.#focus = deps.focus;
    this.#metrics = deps.metrics;
    this.#log = deps.log;
  }

  /**
   * Accepts a transaction: resolves once it is queued (or, for a duplicate, once the first copy was).
   * Throws ProtocolError for a malformed body; nothing is queued then.
   */
  receive(txnId: string, body: unknown): 'accepted' | 'duplicate' {
    if (this.#seen.has(txnId)) {
      this.#metrics.transactions.inc({ result: 'duplicate' });
      this.#log.debug({ txnId }, 'duplicate transaction ignored');
      return 'duplicate';
    }
    const txn = parseTransactionBody(body);
    const done = this.#queue.push(() => this.#process(txnId, txn));
    this.#remember(txnId, done);
    this.#metrics.transactions.inc({ result: 'accepted' });
    return 'accepted';
  }

  /** Resolves when every accepted transaction has been processed. */
  drain(): Promise<void> {
    return this.#queue.drain();
  }

  async close(): Promise<void> {
    await this.#queue.close();
  }

  #remember(txnId: string, done: Promise<void>): void {
    this.#seen.set(txnId, done);
    if (this.#seen.size > REMEMBERED_TXNS) {
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) {
        this.#seen.delete(oldest.value);
      }
    }
  }

  #ignore(reason: string, detail: Record<string, unknown>): void {
    this.#metrics.eventsIgnored.inc({ reason });
    this.#log.debug({ reason, ...detail }, 'event ignored');
  }

  /**
   * Room events go to the bus in chunks (`room_events`, at most ROOM_EVENT_CHUNK), to-device and ephemeral
   * events one by one; the event loop is yielded to after every chunk and every ROOM_EVENT_CHUNK other events,
   * so a large transaction never holds up media, timers or health checks for long.
   */
  async #process(txnId: string, txn: ParsedTransaction): Promise<void> {
    let chunk: RoomEvent[] = [];
    for (const ev of txn.events) {
      if (!isRoomEvent(ev)) {
        this.#ignore('malformed', { txnId, kind: 'room' });
        continue;
      }
      this.#metrics.appserviceEvents.inc({ kind: 'room' });
      chunk.push(ev);
      if (chunk.length >= ROOM_EVENT_CHUNK) {
        await this.#bus.dispatch('room_events', chunk);
        chunk = [];
        await yieldToLoop();
      }
    }
    if (chunk.length > 0) {
      await this.#bus.dispatch('room_events', chunk);
    }
    let handled = 0;
    const pace = async (): Promise<void> => {
      if (++handled % ROOM_EVENT_CHUNK === 0) {
        await yieldToLoop();
      }
    };
    for (const ev of txn.toDevice) {
      await pace();
      if (!isToDeviceEvent(ev)) {
        this.#ignore('malformed', { txnId, kind: 'to_device' });
        continue;
      }
      if (ev.to_user_id !== this.#focus.userId || ev.to_device_id !== this.#focus.deviceId) {
        this.#ignore('not_for_focus', { txnId, to_user_id: ev.to_user_id, to_device_id: ev.to_device_id });
        continue;
      }
      if (ev.type === 'm.room.encrypted') {
        // The SFU has no Olm (protocol.md §1.4): clients must send to the focus unencrypted.
        this.#ignore('encrypted', { txnId, sender: ev.sender });
        continue;
      }
      this.#metrics.appserviceEvents.inc({ kind: 'to_device' });
      await this.#bus.dispatch('to_device', ev satisfies ToDeviceEvent);
    }
    for (const ev of txn.ephemeral) {
      await pace();
      if (!isRecord(ev)) {
        this.#ignore('malformed', { txnId, kind: 'ephemeral' });
        continue;
      }
      this.#metrics.appserviceEvents.inc({ kind: 'ephemeral' });
      await this.#bus.dispatch('ephemeral', ev satisfies EphemeralEvent);
    }
  }
}

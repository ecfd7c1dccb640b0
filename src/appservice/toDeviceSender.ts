/**
 * Outgoing to-device messages (protocol.md §2.5): one FIFO per destination device, so an answer always precedes
 * its session's candidates, while different destinations proceed independently. Each message gets a txnId
 * `sfu.<boot ms>.<counter>` once; the HomeserverClient reuses it on every retry (429 waits `retry_after_ms`,
 * 5xx and network errors back off). A message not delivered within `giveUpMs` (30 s) of `send()` is dropped,
 * counted, logged once and reported: `send()` resolves 'dropped' and `onDropped` is called. Nothing is lost
 * silently, not even at close().
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../util/clock.js';
import { toError } from '../util/errors.js';
import { HomeserverUnavailableError, MatrixHttpError, type HomeserverClient } from './homeserverClient.js';

/** One device of one user. */
export interface ToDeviceDestination {
  readonly userId: string;
  readonly deviceId: string;
}

export type ToDeviceSendResult = 'sent' | 'dropped';

/** `ok` delivered; `dropped` gave up (retries exhausted, or closed); `error` refused by the homeserver (4xx). */
export type ToDeviceOutcome = 'ok' | 'dropped' | 'error';

/** sfu_to_device_sent_total{type,result}. */
export class ToDeviceMetrics {
  readonly #sent: Counter<'type' | 'result'>;

  constructor(registry: Registry) {
    this.#sent = new Counter({
      name: 'sfu_to_device_sent_total',
      help: 'To-device messages sent by the SFU, by event type and result (ok, dropped, error)',
      labelNames: ['type', 'result'],
      registers: [registry],
    });
  }

  sent(type: string, result: ToDeviceOutcome): void {
    this.#sent.inc({ type, result });
  }
}

export interface ToDeviceSenderOptions {
  client: Pick<HomeserverClient, 'sendToDevice'>;
  clock: Clock;
  log: Logger;
  metrics: ToDeviceMetrics;
  /** A message not delivered this long after send() is dropped (default 30 000 ms). */
  giveUpMs?: number;
  /** How long close() waits for queued messages before dropping them (default 2000 ms). */
  closeTimeoutMs?: number;
  /**
   * Messages one destination may have waiting (default 256): a send beyond it is dropped at once, counted and
   * reported like any other drop (logged once per destination until its queue empties).
   */
  maxQueuedPerDestination?: number;
  /** Called once for every message that was not delivered (after `send()`'s promise settles 'dropped'). */
  onDropped?: (dest: ToDeviceDestination, type: string, content: Record<string, unknown>) => void;
}

export const DEFAULT_TO_DEVICE_GIVE_UP_MS = 30_000;
export const DEFAULT_TO_DEVICE_CLOSE_TIMEOUT_MS = 2000;
export const DEFAULT_TO_DEVICE_MAX_QUEUED = 256;

interface Message {
  readonly dest: ToDeviceDestination;
  readonly type: string;
  readonly content: Record<string, unknown>;
  readonly txnId: string;
  /** clock time after which no new attempt is started (the one under way may finish). */
  readonly deadline: number;
  readonly resolve: (r: ToDeviceSendResult) => void;
  settled: boolean;
}

export class ToDeviceSender {
  readonly #o: ToDeviceSenderOptions;
  readonly #log: Logger;
  readonly #bootMs: number;
  readonly #giveUpMs: number;
  #counter = 0;
  /** destination key → its FIFO; the head is the message being sent. Absent when empty. */
  readonly #queues = new Map<string, Message[]>();
  /** Destinations whose queue overflowed since it last emptied (their drops were logged once). */
  readonly #full = new Set<string>();
  #idleWaiters: (() => void)[] = [];
  /** No new messages are accepted. */
  #closing = false;
  /** Queues are abandoned; workers stop after their current attempt. */
  #closed = false;

  constructor(opts: ToDeviceSenderOptions) {
    this.#o = opts;
    this.#log = opts.log.child({ component: 'to-device' });
    this.#bootMs = opts.clock.now();
    this.#giveUpMs = opts.giveUpMs ?? DEFAULT_TO_DEVICE_GIVE_UP_MS;
  }

  /** Messages accepted and not yet settled (sent or dropped). */
  get pending(): number {
    let n = 0;
    for (const q of this.#queues.values()) {
      n += q.length;
    }
    return n;
  }

  /**
   * Queues `content` as a to-device `type` for one device. Resolves 'sent' once the homeserver accepted it,
   * 'dropped' when it was given up (counted, logged, `onDropped` called). Never rejects.
   */
  send(
    dest: ToDeviceDestination,
    type: string,
    content: Record<string, unknown>,
  ): Promise<ToDeviceSendResult> {
    return new Promise<ToDeviceSendResult>((resolve) => {
      const msg: Message = {
        dest: { userId: dest.userId, deviceId: dest.deviceId },
        type,
        content,
        txnId: `sfu.${this.#bootMs}.${++this.#counter}`,
        deadline: this.#o.clock.now() + this.#giveUpMs,
        resolve,
        settled: false,
      };
      if (this.#closing) {
        this.#settle(msg, 'dropped', 'sender closed');
        return;
      }
      const key = `${dest.userId}\u0000${dest.deviceId}`;
      const queue = this.#queues.get(key);
      if (queue !== undefined) {
        if (queue.length >= (this.#o.maxQueuedPerDestination ?? DEFAULT_TO_DEVICE_MAX_QUEUED)) {
          // The destination is not draining (homeserver down, or a flood): newest dropped, oldest kept in order.
          const first = !this.#full.has(key);
          this.#full.add(key);
          this.#settle(msg, 'dropped', `queue full (${queue.length} waiting for this device)`, first);
          return;
        }
        queue.push(msg);
        return;
      }
      const fresh = [msg];
      this.#queues.set(key, fresh);
      void this.#drain(key, fresh);
    });
  }

  /**
   * Stops accepting messages (later sends resolve 'dropped'), waits up to `closeTimeoutMs` for the queued ones,
   * then drops what is left, including a message whose request is still under way (its outcome is no longer
   * awaited). Close it after the layers that send (shutdown hangups must be queued first). Idempotent.
   */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#queues.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#o.clock.setTimeout(
          resolve,
          this.#o.closeTimeoutMs ?? DEFAULT_TO_DEVICE_CLOSE_TIMEOUT_MS,
        );
        this.#idleWaiters.push(() => {
          timer.cancel();
          resolve();
        });
      });
    }
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    const left = [...this.#queues.values()].flat();
    this.#queues.clear();
    if (left.length > 0) {
      this.#log.warn(
        { count: left.length, types: [...new Set(left.map((m) => m.type))] },
        'to-device messages dropped at shutdown',
      );
    }
    for (const msg of left) {
      this.#settle(msg, 'dropped', 'sender closed', false);
    }
    this.#notifyIdle();
  }

  async #drain(key: string, queue: Message[]): Promise<void> {
    while (!this.#closed) {
      const msg = queue[0];
      if (msg === undefined) {
        break;
      }
      const { outcome, why } = await this.#deliver(msg);
      this.#settle(msg, outcome, why);
      queue.shift();
    }
    if (this.#queues.get(key) === queue) {
      this.#queues.delete(key);
      this.#full.delete(key);
    }
    if (this.#queues.size === 0) {
      this.#notifyIdle();
    }
  }

  /** One message through the client's retry loop, bounded by the message's deadline (at least one attempt). */
  async #deliver(msg: Message): Promise<{ outcome: ToDeviceOutcome; why?: string }> {
    const giveUpMs = Math.max(0, msg.deadline - this.#o.clock.now());
    try {
      await this.#o.client.sendToDevice(
        msg.type,
        msg.txnId,
        { [msg.dest.userId]: { [msg.dest.deviceId]: msg.content } },
        giveUpMs,
      );
      return { outcome: 'ok' };
    } catch (e) {
      const err = toError(e);
      if (err instanceof HomeserverUnavailableError) {
        return { outcome: 'dropped', why: err.message };
      }
      // MatrixHttpError: a 4xx the homeserver will refuse again; anything else: a fault of ours.
      return {
        outcome: 'error',
        why: err instanceof MatrixHttpError ? err.message : `unexpected: ${err.message}`,
      };
    }
  }

  /** Settles a message once: counts it, and for a failure logs it (unless told not to) and reports it. */
  #settle(msg: Message, outcome: ToDeviceOutcome, why = '', log = true): void {
    if (msg.settled) {
      return;
    }
    msg.settled = true;
    this.#o.metrics.sent(msg.type, outcome);
    if (outcome === 'ok') {
      msg.resolve('sent');
      return;
    }
    if (log) {
      this.#log.warn(
        {
          type: msg.type,
          txnId: msg.txnId,
          userId: msg.dest.userId,
          deviceId: msg.dest.deviceId,
          result: outcome,
          err: why,
        },
        'to-device message dropped',
      );
    }
    msg.resolve('dropped');
    if (this.#o.onDropped !== undefined) {
      try {
        this.#o.onDropped(msg.dest, msg.type, msg.content);
      } catch (e) {
        this.#log.error({ err: toError(e) }, 'onDropped callback failed');
      }
    }
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) {
      w();
    }
  }
}

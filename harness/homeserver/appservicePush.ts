/**
 * Pushing to application services (application-service/transactions.yaml, MSC2409 for to-device): one
 * in-order queue per AS; each transaction is retried with the SAME txnId and body after a non-200 answer or a
 * network error, backing off from `initialMs` doubling to `maxMs`, until it succeeds or the server closes.
 */
import type { Appservice } from './appservices.js';
import type { HttpClient } from './httpClient.js';
import type { Change } from './state.js';
import type { ClientEvent, PushRecord, PushedToDevice, ToDevicePushKey } from './types.js';

/** Synapse's cap per transaction. */
const MAX_PER_TXN = 100;
const PUSH_TIMEOUT_MS = 10_000;

export interface PusherOptions {
  http: HttpClient;
  toDeviceKey: ToDevicePushKey;
  log: PushRecord[];
  retry: { initialMs: number; maxMs: number };
  /** Records carry this AS's server name (set when the homeserver serves several). */
  tagged?: boolean;
}

export class AppservicePusher {
  readonly as: Appservice;
  readonly #opts: PusherOptions;
  readonly #events: ClientEvent[] = [];
  readonly #toDevice: PushedToDevice[] = [];
  readonly #idleWaiters: (() => void)[] = [];
  #txnCounter = 0;
  #running = false;
  #closed = false;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(as: Appservice, opts: PusherOptions) {
    this.as = as;
    this.#opts = opts;
  }

  enqueueEvent(event: ClientEvent): void {
    if (this.as.reg.url === null) {
      return;
    }
    this.#events.push(event);
    this.#kick();
  }

  enqueueToDevice(message: PushedToDevice): void {
    if (this.as.reg.url === null) {
      return;
    }
    this.#toDevice.push(message);
    this.#kick();
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (!this.#running) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Nothing queued and nothing in flight. */
  get idleNow(): boolean {
    return this.#closed || (!this.#running && this.#events.length === 0 && this.#toDevice.length === 0);
  }

  close(): void {
    this.#closed = true;
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.wake();
    }
  }

  #kick(): void {
    if (this.#running || this.#closed) {
      return;
    }
    this.#running = true;
    void this.#run();
  }

  async #run(): Promise<void> {
    try {
      while (!this.#closed && (this.#events.length > 0 || this.#toDevice.length > 0)) {
        const txnId = String(++this.#txnCounter);
        await this.#deliver(txnId, this.#takeBody());
      }
    } finally {
      this.#running = false;
      for (const resolve of this.#idleWaiters.splice(0)) {
        resolve();
      }
    }
  }

  #takeBody(): Record<string, unknown> {
    const body: Record<string, unknown> = { events: this.#events.splice(0, MAX_PER_TXN) };
    if (this.as.pushesEphemeral) {
      body[this.#opts.toDeviceKey] = this.#toDevice.splice(0, MAX_PER_TXN);
      const ephemeralKey =
        this.#opts.toDeviceKey === 'to_device' ? 'ephemeral' : 'de.sorunome.msc2409.ephemeral';
      body[ephemeralKey] = [];
    }
    return body;
  }

  async #deliver(txnId: string, body: Record<string, unknown>): Promise<void> {
    const url = `${this.as.reg.url!.replace(/\/+$/, '')}/_matrix/app/v1/transactions/${encodeURIComponent(txnId)}`;
    let delay = this.#opts.retry.initialMs;
    for (let attempt = 1; !this.#closed; attempt++) {
      const record: PushRecord = { appserviceId: this.as.id, txnId, body, attempt };
      if (this.#opts.tagged === true) {
        record.serverName = this.as.serverName;
      }
      this.#opts.log.push(record);
      try {
        const res = await this.#opts.http.request(
          'PUT',
          url,
          { authorization: `Bearer ${this.as.reg.hs_token}` },
          body,
          PUSH_TIMEOUT_MS,
        );
        record.status = res.status;
        record.responseBody = res.text;
        if (res.status === 200) {
          return;
        }
      } catch (e) {
        record.error = e instanceof Error ? e.message : String(e);
      }
      await this.#wait(delay);
      delay = Math.min(delay * 2, this.#opts.retry.maxMs);
    }
  }

  #wait(ms: number): Promise<void> {
    if (this.#closed) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleep = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.#sleep = { timer, wake };
    });
  }
}

/**
 * Which changes an AS is pushed (registration.yaml): room events in rooms matching its rooms namespace, sent by
 * or targeting one of its users, or in rooms where one of its users is joined; to-device messages for its
 * users when it asked for ephemeral data (MSC2409). "Its users" are users of its own server name
 * (appservices.ts), so with several server names each AS gets what its server would push it.
 */
export function routeChange(change: Change, pushers: Iterable<AppservicePusher>): void {
  for (const pusher of pushers) {
    const as = pusher.as;
    if (change.kind === 'toDevice') {
      if (as.pushesEphemeral && as.isInterestedInUser(change.userId)) {
        pusher.enqueueToDevice({
          ...structuredClone(change.entry.message),
          to_user_id: change.userId,
          to_device_id: change.deviceId,
        });
      }
      continue;
    }
    const { event } = change.stored;
    const interested =
      as.isInterestedInRoom(event.room_id) ||
      as.isInterestedInUser(event.sender) ||
      (event.type === 'm.room.member' &&
        event.state_key !== undefined &&
        as.isInterestedInUser(event.state_key)) ||
      change.room.members('join').some((m) => as.isInterestedInUser(m));
    if (interested) {
      pusher.enqueueEvent(structuredClone(event));
    }
  }
}

/**
 * The few Client-Server API calls the SFU makes, as the appservice (as_token, `user_id` masquerading).
 * Every call has a timeout; 429 waits `retry_after_ms` (or Retry-After), 5xx and network errors back off
 * 0.5, 1, 2, 4, 8 s (then 8 s) until `giveUpMs` has passed, then fail with HomeserverUnavailableError.
 * Other 4xx fail at once with MatrixHttpError carrying the errcode.
 */
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import { toError } from '../util/errors.js';

export class MatrixHttpError extends Error {
  readonly status: number;
  readonly errcode: string;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, errcode: string, error: string, body: unknown) {
    super(`${method} ${path} → ${status} ${errcode}: ${error}`);
    this.name = 'MatrixHttpError';
    this.status = status;
    this.errcode = errcode;
    this.body = body;
  }
}

export class HomeserverUnavailableError extends Error {
  constructor(method: string, path: string, attempts: number, cause: Error) {
    super(`${method} ${path} failed after ${attempts} attempts: ${cause.message}`, { cause });
    this.name = 'HomeserverUnavailableError';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Masquerade as this user (must be in the appservice's namespace); default: the focus user. */
  asUser?: string | null;
  /** Overrides the client's give-up time for this call (e.g. 0 = one attempt). */
  giveUpMs?: number;
  /** Overrides the per-request timeout (long-poll /sync). */
  timeoutMs?: number;
  /** Aborts the call (and its retries) early, e.g. on shutdown. */
  signal?: AbortSignal;
  /** Refuses a response body larger than this (ResponseTooLargeError, not retried). */
  maxBytes?: number;
}

/** A response body over RequestOptions.maxBytes. */
export class ResponseTooLargeError extends Error {
  constructor(method: string, path: string, limit: number) {
    super(`${method} ${path}: response over ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

export interface HomeserverClientOptions {
  baseUrl: string;
  asToken: string;
  /** The focus user: default masquerade target. */
  userId: string;
  timeoutMs: number;
  clock: Clock;
  log: Logger;
  giveUpMs?: number;
  backoffMs?: readonly number[];
  onRequest?: (method: string, endpoint: string, result: 'ok' | 'retry' | 'error') => void;
}

export type ToDeviceMessages = Record<string, Record<string, Record<string, unknown>>>;

const DEFAULT_BACKOFF = [500, 1000, 2000, 4000, 8000] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class HomeserverClient {
  readonly #o: HomeserverClientOptions;
  readonly #backoff: readonly number[];

  constructor(opts: HomeserverClientOptions) {
    this.#o = opts;
    this.#backoff = opts.backoffMs ?? DEFAULT_BACKOFF;
  }

  get userId(): string {
    return this.#o.userId;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#o.clock.setTimeout(resolve, ms);
    });
  }

  #url(path: string, opts: RequestOptions): URL {
    const url = new URL(path, this.#o.baseUrl);
    const asUser = opts.asUser === undefined ? this.#o.userId : opts.asUser;
    if (asUser !== null) {
      url.searchParams.set('user_id', asUser);
    }
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) {
        url.searchParams.set(k, String(v));
      }
    }
    return url;
  }

  /** One API call with retries; resolves with the parsed JSON body of a 2xx answer. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    return (await this.requestWithStatus(method, path, opts)).body;
  }

  /** As request(), also giving the 2xx status (e.g. 200 vs 201). */
  async requestWithStatus(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ status: number; body: unknown }> {
    const url = this.#url(path, opts);
    const endpoint = path.replace(/\/(![^/]+|%21[^/]+|@[^/]+|%40[^/]+)/g, '/{id}');
    const giveUpAt = this.#o.clock.now() + (opts.giveUpMs ?? this.#o.giveUpMs ?? 30_000);
    const init: RequestInit = {
      method,
      headers: {
        authorization: `Bearer ${this.#o.asToken}`,
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      let waitMs: number;
      let failure: Error;
      try {
        const res = await fetch(url, {
          ...init,
          signal: AbortSignal.timeout(opts.timeoutMs ?? this.#o.timeoutMs),
        });
        const text = await readBody(res, opts.maxBytes, method, path);
        let body: unknown;
        try {
          body = text === '' ? {} : JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (res.ok) {
          this.#o.onRequest?.(method, endpoint, 'ok');
          return { status: res.status, body };
        }
        const errcode = isRecord(body) && typeof body['errcode'] === 'string' ? body['errcode'] : 'M_UNKNOWN';
        const error =
          isRecord(body) && typeof body['error'] === 'string' ? body['error'] : text.slice(0, 200);
        const httpErr = new MatrixHttpError(method, path, res.status, errcode, error, body);
        if (res.status === 429) {
          const fromBody =
            isRecord(body) && typeof body['retry_after_ms'] === 'number' ? body['retry_after_ms'] : undefined;
          const header = Number(res.headers.get('retry-after'));
          waitMs =
            fromBody ?? (Number.isFinite(header) && header > 0 ? header * 1000 : this.#backoffFor(attempt));
          failure = httpErr;
        } else if (res.status >= 500) {
          waitMs = this.#backoffFor(attempt);
          failure = httpErr;
        } else {
          this.#o.onRequest?.(method, endpoint, 'error');
          throw httpErr;
        }
      } catch (e) {
        if (
          e instanceof MatrixHttpError ||
          e instanceof ResponseTooLargeError ||
          opts.signal?.aborted === true
        ) {
          throw e;
        }
        failure = toError(e);
        waitMs = this.#backoffFor(attempt);
      }
      if (this.#o.clock.now() + waitMs > giveUpAt) {
        this.#o.onRequest?.(method, endpoint, 'error');
        throw new HomeserverUnavailableError(method, path, attempt, failure);
      }
      this.#o.onRequest?.(method, endpoint, 'retry');
      this.#o.log.debug(
        { method, endpoint, attempt, waitMs, err: failure.message },
        'homeserver request will be retried',
      );
      await this.#sleep(waitMs);
    }
  }

  #backoffFor(attempt: number): number {
    return this.#backoff[Math.min(attempt - 1, this.#backoff.length - 1)] ?? 8000;
  }

  // --- typed calls ---------------------------------------------------------------------------

  /** Registers the appservice user; resolves false if it already existed. */
  async registerAppserviceUser(localpart: string): Promise<boolean> {
    try {
      await this.request('POST', '/_matrix/client/v3/register', {
        asUser: null,
        body: { type: 'm.login.application_service', username: localpart, inhibit_login: true },
      });
      return true;
    } catch (e) {
      if (e instanceof MatrixHttpError && e.errcode === 'M_USER_IN_USE') {
        return false;
      }
      throw e;
    }
  }

  /** PUT /devices/{id}: 'exists' (200), 'created' (201, MSC4190) or 'missing' (404). */
  async putDevice(deviceId: string, displayName: string): Promise<'exists' | 'created' | 'missing'> {
    try {
      const res = await this.requestWithStatus(
        'PUT',
        `/_matrix/client/v3/devices/${encodeURIComponent(deviceId)}`,
        {
          body: { display_name: displayName },
        },
      );
      return res.status === 201 ? 'created' : 'exists';
    } catch (e) {
      if (e instanceof MatrixHttpError && e.status === 404) {
        return 'missing';
      }
      throw e;
    }
  }

  /** Logs in as the appservice user with a fixed device_id (creates the device); returns the device id. */
  async loginWithDevice(localpart: string, deviceId: string, displayName: string): Promise<string> {
    const res = await this.request('POST', '/_matrix/client/v3/login', {
      asUser: null,
      body: {
        type: 'm.login.application_service',
        identifier: { type: 'm.id.user', user: localpart },
        device_id: deviceId,
        initial_device_display_name: displayName,
      },
    });
    return isRecord(res) && typeof res['device_id'] === 'string' ? res['device_id'] : '';
  }

  async joinedRooms(): Promise<string[]> {
    const res = await this.request('GET', '/_matrix/client/v3/joined_rooms');
    const rooms = isRecord(res) ? res['joined_rooms'] : undefined;
    return Array.isArray(rooms) ? rooms.filter((r): r is string => typeof r === 'string') : [];
  }

  /** `maxBytes`: a larger answer throws ResponseTooLargeError. */
  async roomState(roomId: string, maxBytes?: number): Promise<unknown[]> {
    const res = await this.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state`, {
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
    return Array.isArray(res) ? (res as unknown[]) : [];
  }

  /** One page of `GET /rooms/{id}/messages` (newest first with `dir: 'b'`); `end` absent = no more pages. */
  async roomMessages(
    roomId: string,
    page: { dir: 'b' | 'f'; from?: string; limit: number; filter?: Record<string, unknown> },
  ): Promise<{ chunk: unknown[]; end?: string }> {
    const res = await this.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`, {
      query: {
        dir: page.dir,
        from: page.from,
        limit: page.limit,
        filter: page.filter === undefined ? undefined : JSON.stringify(page.filter),
      },
    });
    const chunk = isRecord(res) && Array.isArray(res['chunk']) ? (res['chunk'] as unknown[]) : [];
    const end = isRecord(res) && typeof res['end'] === 'string' ? res['end'] : undefined;
    return end === undefined ? { chunk } : { chunk, end };
  }

  async joinRoom(roomId: string): Promise<void> {
    await this.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { body: {} });
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`, { body: {} });
  }

  async sendToDevice(
    type: string,
    txnId: string,
    messages: ToDeviceMessages,
    giveUpMs?: number,
  ): Promise<void> {
    await this.request(
      'PUT',
      `/_matrix/client/v3/sendToDevice/${encodeURIComponent(type)}/${encodeURIComponent(txnId)}`,
      { body: { messages }, ...(giveUpMs !== undefined ? { giveUpMs } : {}) },
    );
  }
}

/** The body as text; over `maxBytes` (by Content-Length or as read) it is dropped and ResponseTooLargeError thrown. */
async function readBody(
  res: Response,
  maxBytes: number | undefined,
  method: string,
  path: string,
): Promise<string> {
  if (maxBytes === undefined) {
    return res.text();
  }
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new ResponseTooLargeError(method, path, maxBytes);
  }
  const buf = await res.arrayBuffer();
  if (buf.byteLength > maxBytes) {
    throw new ResponseTooLargeError(method, path, maxBytes);
  }
  return new TextDecoder().decode(buf);
}

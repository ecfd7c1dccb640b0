/**
 * The client's Matrix Client-Server HTTP over the global `fetch` (Node ≥ 18 and browsers): JSON in, JSON out,
 * bearer token, a timeout per request, and `close()` aborting everything in flight. Only the endpoints the call
 * client needs: state and room events, to-device sends and `/sync`.
 */
import { isObject } from './ids.js';

export class MatrixRequestError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(method: string, path: string, status: number, body: unknown) {
    super(`${method} ${path} → ${status} ${JSON.stringify(body)}`);
    this.name = 'MatrixRequestError';
    this.status = status;
    this.body = body;
  }

  /** The Matrix `errcode` of the answer, if it had one. */
  get errcode(): string | undefined {
    return isObject(this.body) && typeof this.body['errcode'] === 'string' ? this.body['errcode'] : undefined;
  }
}

export class ClientClosedError extends Error {
  constructor() {
    super('call client closed');
    this.name = 'ClientClosedError';
  }
}

export class RequestTimeoutError extends Error {
  constructor(method: string, path: string, timeoutMs: number) {
    super(`${method} ${path} timed out after ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}

export interface RequestOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export class MatrixHttp {
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #fetch: FetchLike;
  readonly #closing = new AbortController();
  /** Send requests with `keepalive` (they outlive the page: for the requests of a page that is unloading). */
  keepalive = false;

  /** `accessToken` undefined: unauthenticated requests (login, `.well-known`) carry no `Authorization` header. */
  constructor(
    baseUrl: string,
    accessToken: string | undefined,
    fetchImpl: FetchLike = (i, init) => globalThis.fetch(i, init),
  ) {
    this.#base = new URL(baseUrl);
    this.#token = accessToken;
    this.#fetch = fetchImpl;
  }

  /** Resolves with the parsed JSON body of a 2xx answer; anything else rejects (MatrixRequestError for non-2xx). */
  async request(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    body?: unknown,
    opts: RequestOptions = {},
  ): Promise<unknown> {
    if (this.#closing.signal.aborted) {
      throw new ClientClosedError();
    }
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const url = new URL(path, this.#base);
    const abort = new AbortController();
    const cause: { why: Error | undefined } = { why: undefined };
    const stop = (why: Error): void => {
      cause.why ??= why;
      abort.abort(why);
    };
    const onClose = (): void => {
      stop(new ClientClosedError());
    };
    const onCaller = (): void => {
      stop(new Error(`${method} ${url.pathname} aborted`));
    };
    const timer = setTimeout(() => {
      stop(new RequestTimeoutError(method, url.pathname, timeoutMs));
    }, timeoutMs);
    this.#closing.signal.addEventListener('abort', onClose);
    opts.signal?.addEventListener('abort', onCaller);
    if (opts.signal?.aborted === true) {
      onCaller();
    }
    const headers: Record<string, string> =
      this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    try {
      const res = await this.#fetch(url.href, {
        method,
        headers,
        signal: abort.signal,
        ...(this.keepalive ? { keepalive: true } : {}),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text
      }
      if (res.status < 200 || res.status >= 300) {
        throw new MatrixRequestError(method, url.pathname, res.status, parsed);
      }
      return parsed;
    } catch (err) {
      throw cause.why ?? err;
    } finally {
      clearTimeout(timer);
      this.#closing.signal.removeEventListener('abort', onClose);
      opts.signal?.removeEventListener('abort', onCaller);
    }
  }

  /** Aborts every request in flight; later requests reject with ClientClosedError. Idempotent. */
  close(): void {
    this.#closing.abort(new ClientClosedError());
  }
}

const enc = encodeURIComponent;

/** The Client-Server endpoints of a call client, for one user's access token. */
export class MatrixApi {
  readonly http: MatrixHttp;

  constructor(http: MatrixHttp) {
    this.http = http;
  }

  /** `PUT /rooms/{roomId}/state/{type}/{stateKey}`; resolves with the event id. */
  async putState(
    roomId: string,
    eventType: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): Promise<string> {
    const res = await this.http.request(
      'PUT',
      `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(eventType)}/${enc(stateKey)}`,
      content,
    );
    return eventIdOf(res, 'state PUT');
  }

  /** `PUT /rooms/{roomId}/send/{type}/{txnId}` (with optional query, e.g. a sticky duration); the event id. */
  async sendEvent(
    roomId: string,
    eventType: string,
    txnId: string,
    content: Record<string, unknown>,
    query: Record<string, string> = {},
  ): Promise<string> {
    const qs = new URLSearchParams(query).toString();
    const res = await this.http.request(
      'PUT',
      `/_matrix/client/v3/rooms/${enc(roomId)}/send/${enc(eventType)}/${enc(txnId)}${qs === '' ? '' : `?${qs}`}`,
      content,
    );
    return eventIdOf(res, 'event PUT');
  }

  /** `PUT /sendToDevice/{type}/{txnId}` with `messages: {user: {device: content}}`. */
  async sendToDevice(
    eventType: string,
    txnId: string,
    messages: Record<string, Record<string, Record<string, unknown>>>,
  ): Promise<void> {
    await this.http.request('PUT', `/_matrix/client/v3/sendToDevice/${enc(eventType)}/${enc(txnId)}`, {
      messages,
    });
  }

  /** `POST /join/{roomIdOrAlias}`; resolves with the room id. */
  async joinRoom(roomIdOrAlias: string): Promise<string> {
    const res = await this.http.request('POST', `/_matrix/client/v3/join/${enc(roomIdOrAlias)}`, {});
    if (!isObject(res) || typeof res['room_id'] !== 'string') {
      throw new Error(`join answered ${JSON.stringify(res)}`);
    }
    return res['room_id'];
  }

  /** `GET /_matrix/client/versions`: the spec versions and unstable features the homeserver announces. */
  async versions(): Promise<{ versions: string[]; unstableFeatures: Record<string, boolean> }> {
    const res = await this.http.request('GET', '/_matrix/client/versions');
    const versions = isObject(res) && Array.isArray(res['versions']) ? res['versions'] : [];
    const unstable = isObject(res) && isObject(res['unstable_features']) ? res['unstable_features'] : {};
    return {
      versions: versions.filter((v): v is string => typeof v === 'string'),
      unstableFeatures: Object.fromEntries(
        Object.entries(unstable).filter((e): e is [string, boolean] => typeof e[1] === 'boolean'),
      ),
    };
  }

  /** One `/sync`: an initial one without `since`, else a long-poll of up to `timeoutMs`. */
  async sync(since: string | undefined, timeoutMs: number, signal: AbortSignal): Promise<SyncResponse> {
    const query = since === undefined ? '' : `?since=${enc(since)}&timeout=${timeoutMs}`;
    const body = await this.http.request('GET', `/_matrix/client/v3/sync${query}`, undefined, {
      timeoutMs: timeoutMs + 10_000,
      signal,
    });
    if (!isObject(body) || typeof body['next_batch'] !== 'string') {
      throw new Error(`/sync answered ${JSON.stringify(body)}`);
    }
    const toDevice = body['to_device'];
    const events =
      isObject(toDevice) && Array.isArray(toDevice['events']) ? (toDevice['events'] as unknown[]) : [];
    return { nextBatch: body['next_batch'], toDevice: events };
  }
}

export interface SyncResponse {
  nextBatch: string;
  /** The raw `to_device.events` entries (validated by the caller). */
  toDevice: unknown[];
}

function eventIdOf(res: unknown, what: string): string {
  if (!isObject(res) || typeof res['event_id'] !== 'string') {
    throw new Error(`${what} answered ${JSON.stringify(res)}`);
  }
  return res['event_id'];
}

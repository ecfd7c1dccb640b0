/**
 * A scripted homeserver for the high-level client's unit tests: login, join, `.well-known`, state writes,
 * to-device out (recorded; the test decides what the "focus" answers) and to-device in through a short-poll
 * `/sync`. Every request is recorded in order.
 */
import type { FetchLike } from '../../../client/matrix.js';

export interface FakeRequest {
  method: string;
  path: string;
  body: unknown;
  auth: string | undefined;
}

type Reply = { status: number; body: unknown };

export class FakeHomeserver {
  readonly requests: FakeRequest[] = [];
  /** To-device events waiting for the next `/sync`. */
  readonly inbox: { type: string; sender: string; content: Record<string, unknown> }[] = [];
  password = 'pw';
  wellKnown: Reply = { status: 404, body: { errcode: 'M_NOT_FOUND' } };
  /** Overrides by `METHOD path-prefix`. */
  readonly overrides = new Map<string, Reply>();
  /** Called for every to-device message sent (type, content for the focus). */
  onToDevice: (type: string, content: Record<string, unknown>) => void = () => undefined;
  #batch = 0;

  readonly fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const path = decodeURIComponent(url.pathname);
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const headers = (init.headers ?? {}) as Record<string, string>;
    this.requests.push({ method: init.method ?? 'GET', path, body, auth: headers['authorization'] });
    const r = await this.#route(init.method ?? 'GET', path, body, url, init.signal ?? undefined);
    return new Response(JSON.stringify(r.body), {
      status: r.status,
      headers: { 'content-type': 'application/json' },
    });
  };

  async #route(
    method: string,
    path: string,
    body: unknown,
    url: URL,
    signal: AbortSignal | undefined,
  ): Promise<Reply> {
    for (const [key, reply] of this.overrides) {
      const [m, prefix] = key.split(' ') as [string, string];
      if (m === method && path.startsWith(prefix)) {
        return reply;
      }
    }
    const b = (body ?? {}) as Record<string, unknown>;
    if (method === 'POST' && path === '/_matrix/client/v3/login') {
      return b['password'] === this.password
        ? { status: 200, body: { user_id: '@alice:example.org', access_token: 'tok', device_id: 'ALICEDEV' } }
        : { status: 403, body: { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' } };
    }
    if (method === 'POST' && path.startsWith('/_matrix/client/v3/join/')) {
      return { status: 200, body: { room_id: '!room:example.org' } };
    }
    if (method === 'GET' && path === '/.well-known/matrix/client') {
      return this.wellKnown;
    }
    if (method === 'GET' && path === '/_matrix/client/versions') {
      return {
        status: 200,
        body: { versions: ['v1.12'], unstable_features: { 'org.matrix.msc4354': true } },
      };
    }
    if (method === 'PUT' && (path.includes('/state/') || path.includes('/send/'))) {
      return { status: 200, body: { event_id: `$e${this.requests.length}` } };
    }
    if (method === 'PUT' && path.startsWith('/_matrix/client/v3/sendToDevice/')) {
      const type = path.split('/')[5]!;
      const messages = (b['messages'] ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
      for (const devices of Object.values(messages)) {
        for (const content of Object.values(devices)) {
          this.onToDevice(type, content);
        }
      }
      return { status: 200, body: {} };
    }
    if (method === 'GET' && path === '/_matrix/client/v3/sync') {
      if (url.searchParams.get('since') !== null) {
        await new Promise((r) => setTimeout(r, 10));
      }
      if (signal?.aborted === true) {
        throw new DOMException('aborted', 'AbortError');
      }
      return {
        status: 200,
        body: { next_batch: `s${++this.#batch}`, to_device: { events: this.inbox.splice(0) } },
      };
    }
    return { status: 404, body: { errcode: 'M_UNRECOGNIZED' } };
  }

  /** Requests other than `/sync`, as `METHOD path`. */
  trail(): string[] {
    return this.requests.filter((r) => !r.path.endsWith('/sync')).map((r) => `${r.method} ${r.path}`);
  }
}

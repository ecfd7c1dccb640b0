/**
 * A minimal client of Janus's HTTP API for the VideoRoom plugin (the bench's comparison peer,
 * performance.md §2): sessions, handles, long-poll events, keep-alives, room create, publish and subscribe.
 * Every request has a timeout; the long poll stops with `destroy`.
 */

export type Json = Record<string, unknown>;

export class JanusApiError extends Error {
  override name = 'JanusApiError';
}

let tx = 0;

export class JanusSession {
  readonly #base: string;
  readonly id: number;
  readonly #events: Json[] = [];
  readonly #waiters: { match: (e: Json) => boolean; resolve: (e: Json) => void }[] = [];
  #polling = true;
  readonly #keepalive: NodeJS.Timeout;

  private constructor(base: string, id: number) {
    this.#base = base;
    this.id = id;
    void this.#poll();
    this.#keepalive = setInterval(() => {
      void this.#post(`${this.#base}/${this.id}`, { janus: 'keepalive' }).catch(() => undefined);
    }, 20_000);
  }

  static async create(base: string): Promise<JanusSession> {
    const r = await post(base, { janus: 'create' });
    return new JanusSession(base, (r['data'] as { id: number }).id);
  }

  async attach(): Promise<number> {
    const r = await this.#post(`${this.#base}/${this.id}`, {
      janus: 'attach',
      plugin: 'janus.plugin.videoroom',
    });
    return (r['data'] as { id: number }).id;
  }

  /** A plugin request; synchronous answers come back directly, asynchronous ones through `event`. */
  message(handle: number, body: Json, jsep?: Json): Promise<Json> {
    return this.#post(`${this.#base}/${this.id}/${handle}`, {
      janus: 'message',
      body,
      ...(jsep !== undefined ? { jsep } : {}),
    });
  }

  trickle(handle: number, candidate: Json): Promise<Json> {
    return this.#post(`${this.#base}/${this.id}/${handle}`, { janus: 'trickle', candidate });
  }

  /** The next event (already received or coming) that matches. */
  event(match: (e: Json) => boolean, timeoutMs = 20_000): Promise<Json> {
    const i = this.#events.findIndex(match);
    if (i >= 0) {
      return Promise.resolve(this.#events.splice(i, 1)[0]!);
    }
    return new Promise((resolve, reject) => {
      const w = { match, resolve };
      this.#waiters.push(w);
      setTimeout(() => {
        const k = this.#waiters.indexOf(w);
        if (k >= 0) {
          this.#waiters.splice(k, 1);
          reject(new JanusApiError('janus: timed out waiting for an event'));
        }
      }, timeoutMs).unref();
    });
  }

  async destroy(): Promise<void> {
    this.#polling = false;
    clearInterval(this.#keepalive);
    await this.#post(`${this.#base}/${this.id}`, { janus: 'destroy' }).catch(() => undefined);
  }

  async #poll(): Promise<void> {
    while (this.#polling) {
      try {
        const res = await fetch(`${this.#base}/${this.id}?maxev=10&rid=${Date.now()}`, {
          signal: AbortSignal.timeout(40_000),
        });
        const body = (await res.json()) as Json | Json[];
        for (const e of Array.isArray(body) ? body : [body]) {
          if (e['janus'] === 'keepalive') {
            continue;
          }
          const w = this.#waiters.find((x) => x.match(e));
          if (w !== undefined) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(e);
          } else if (this.#events.length < 1000) {
            this.#events.push(e);
          }
        }
      } catch {
        await new Promise((r) => setTimeout(r, 200)); // Janus restarting or the poll timed out: poll again
      }
    }
  }

  #post(url: string, body: Json): Promise<Json> {
    return post(url, body);
  }
}

async function post(url: string, body: Json): Promise<Json> {
  const transaction = `t${++tx}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, transaction }),
    signal: AbortSignal.timeout(10_000),
  });
  const r = (await res.json()) as Json;
  if (r['janus'] === 'error') {
    throw new JanusApiError(`janus: ${JSON.stringify(r['error'])}`);
  }
  return r;
}

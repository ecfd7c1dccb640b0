/** A scripted `fetch` for the client's unit tests: records requests, answers through `respond`. */
import type { FetchLike } from '../../../client/matrix.js';

export interface Seen {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal | undefined;
}

export type Responder = (req: Seen) => { status: number; body: unknown } | 'hang';

export function fakeFetch(respond: Responder): { fetch: FetchLike; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetch: FetchLike = (input, init) => {
    const req: Seen = {
      method: init.method ?? 'GET',
      url: new URL(input),
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      signal: init.signal ?? undefined,
    };
    seen.push(req);
    const r = respond(req);
    if (r === 'hang') {
      return new Promise((_, reject) => {
        init.signal?.addEventListener('abort', () => {
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
    }
    return Promise.resolve(
      new Response(JSON.stringify(r.body), {
        status: r.status,
        headers: { 'content-type': 'application/json' },
      }),
    );
  };
  return { fetch, seen };
}

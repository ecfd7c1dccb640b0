/**
 * The call client's Client-Server HTTP: node:http with one owned keep-alive Agent, so `close()` aborts what is in
 * flight and destroys every socket (no handle outlives the client). JSON in, JSON out.
 */
import http from 'node:http';

export class MatrixRequestError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(method: string, path: string, status: number, body: unknown) {
    super(`${method} ${path} → ${status} ${JSON.stringify(body)}`);
    this.name = 'MatrixRequestError';
    this.status = status;
    this.body = body;
  }
}

export class ClientHttp {
  readonly #base: URL;
  readonly #token: string;
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #inFlight = new Set<http.ClientRequest>();
  #closed = false;

  constructor(baseUrl: string, accessToken: string) {
    this.#base = new URL(baseUrl);
    this.#token = accessToken;
  }

  /** Resolves with the parsed JSON body of a 2xx answer; anything else rejects with MatrixRequestError. */
  request(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    body?: unknown,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    if (this.#closed) {
      return Promise.reject(new Error('call client closed'));
    }
    const url = new URL(path, this.#base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise<unknown>((resolve, reject) => {
      const req = http.request(url, {
        method,
        agent: this.#agent,
        headers,
        timeout: timeoutMs,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
      this.#inFlight.add(req);
      const done = (): void => {
        this.#inFlight.delete(req);
      };
      req.on('timeout', () => {
        req.destroy(new Error(`${method} ${url.pathname} timed out after ${timeoutMs} ms`));
      });
      req.on('error', (err) => {
        done();
        reject(err);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          done();
          reject(err);
        });
        res.on('end', () => {
          done();
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(parsed);
          } else {
            reject(new MatrixRequestError(method, url.pathname, status, parsed));
          }
        });
      });
      req.end(payload);
    });
  }

  /** Aborts requests in flight and closes every pooled socket. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const req of this.#inFlight) {
      req.destroy(new Error('call client closed'));
    }
    this.#inFlight.clear();
    this.#agent.destroy();
  }
}

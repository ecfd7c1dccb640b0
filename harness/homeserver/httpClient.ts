/**
 * The homeserver's outgoing HTTP (AS pushes and pings) over node:http with one owned Agent, so close() can
 * destroy every socket it opened and no handle outlives the server.
 */
import http from 'node:http';

export interface HttpResult {
  status: number;
  text: string;
}

export class HttpTimeoutError extends Error {
  constructor(url: string, ms: number) {
    super(`request to ${url} timed out after ${ms} ms`);
    this.name = 'HttpTimeoutError';
  }
}

export class HttpClient {
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #inFlight = new Set<http.ClientRequest>();

  request(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: unknown,
    timeoutMs: number,
  ): Promise<HttpResult> {
    const target = new URL(url);
    if (target.protocol !== 'http:') {
      return Promise.reject(new Error(`test homeserver speaks plain http only, not ${target.protocol}`));
    }
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise<HttpResult>((resolve, reject) => {
      const req = http.request(target, {
        method,
        agent: this.#agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) },
        timeout: timeoutMs,
      });
      this.#inFlight.add(req);
      const done = (): void => {
        this.#inFlight.delete(req);
      };
      req.on('timeout', () => {
        req.destroy(new HttpTimeoutError(url, timeoutMs));
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
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(payload);
    });
  }

  /** Aborts requests in flight and closes every pooled socket. */
  close(): void {
    for (const req of this.#inFlight) {
      req.destroy(new Error('homeserver closed'));
    }
    this.#inFlight.clear();
    this.#agent.destroy();
  }
}

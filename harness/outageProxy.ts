/**
 * An HTTP reverse proxy on loopback in front of the test homeserver, for outage tests: requests pass through
 * to `target` while `down` is false; while it is true each is answered 502 with an nginx-like HTML body, as a
 * reverse proxy whose upstream is gone answers. Counts what it refused and lists what it passed. Closed at the test's teardown.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Teardown } from './sfu.js';

export interface OutageProxy {
  readonly url: string;
  /** While true, every request is answered 502. */
  down: boolean;
  /** Requests answered 502 so far. */
  readonly refused: number;
  /** Method and path of each request passed through, oldest first (the last 1,000). */
  readonly passed: readonly string[];
}

export async function startOutageProxy(t: Teardown, target: string): Promise<OutageProxy> {
  const to = new URL(target);
  let refused = 0;
  const state = { down: false };
  const passed: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (state.down) {
      refused++;
      req.resume();
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
      return;
    }
    passed.push(`${req.method ?? ''} ${req.url ?? ''}`);
    if (passed.length > 1000) {
      passed.shift();
    }
    const up = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502).end();
      } else {
        res.destroy();
      }
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => {
          r();
        });
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    get refused() {
      return refused;
    },
    passed,
  };
}

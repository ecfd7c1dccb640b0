// `--healthcheck`: the command line, the URL it asks (the configured operations listener), and the probe's
// verdict against a real HTTP server on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { parseCommand } from '../../../src/cli.js';
import { healthUrl, probeHealth } from '../../../src/healthcheck.js';

t.test('command line', async (t) => {
  t.same(parseCommand(['--healthcheck', '-c', '/data/config.yaml']), {
    kind: 'healthcheck',
    configPath: '/data/config.yaml',
  });
  t.match(parseCommand(['--healthcheck']), { kind: 'usage-error', message: /missing -c/ });
  t.match(parseCommand(['--healthcheck', '--check-config', '-c', 'x']), { kind: 'usage-error' });
  t.match(parseCommand(['--healthcheck', '-c', 'x', '-f', 'r.yaml']), { kind: 'usage-error' });
});

t.test('the URL follows http.bind and http.port; wildcards are asked on loopback', async (t) => {
  const rows: [bind: string, port: number, url: string][] = [
    ['127.0.0.1', 8080, 'http://127.0.0.1:8080/healthz'],
    ['0.0.0.0', 9100, 'http://127.0.0.1:9100/healthz'],
    ['::', 8080, 'http://[::1]:8080/healthz'],
    ['::1', 8081, 'http://[::1]:8081/healthz'],
    ['fd00::5', 8080, 'http://[fd00::5]:8080/healthz'],
    ['10.1.2.3', 1, 'http://10.1.2.3:1/healthz'],
  ];
  for (const [bind, port, url] of rows) {
    t.equal(healthUrl({ http: { bind, port } }), url, `${bind}:${port}`);
  }
});

async function server(status: () => number): Promise<{ url: string; close: () => Promise<void> }> {
  const s: Server = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? status() : 404;
    res.setHeader('connection', 'close'); // each probe is a new process in real use: no pooled connection
    res.end('{}');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/healthz`,
    close: () =>
      new Promise((r) =>
        s.close(() => {
          r();
        }),
      ),
  };
}

t.test('healthy only on 200; an error status or no listener is unhealthy, said in one line', async (t) => {
  let status = 200;
  const s = await server(() => status);
  t.teardown(s.close);
  t.same(await probeHealth(s.url, 3000), { healthy: true, detail: `${s.url}: 200` });
  status = 503;
  t.same(await probeHealth(s.url, 3000), { healthy: false, detail: `${s.url}: answered 503` });
  await s.close();
  const gone = await probeHealth(s.url, 3000);
  t.equal(gone.healthy, false);
  t.match(gone.detail, /no answer \(ECONNREFUSED\)/);
});

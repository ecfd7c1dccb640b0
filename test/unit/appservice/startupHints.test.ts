// Start-up failures in words: fetch's "fetch failed" turned into its cause and what to check, and the known
// set-up mistakes (a registration the homeserver has not loaded, a focus user outside the namespace) with the fix.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { MatrixHttpError } from '../../../src/appservice/homeserverClient.js';
import { describeNetworkError, setupHint } from '../../../src/appservice/startupHints.js';

const fetchFailed = (code: string) =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(`some ${code} text`), { code }) });

t.test('a real refused connection on loopback', async (t) => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  const url = `http://127.0.0.1:${port}`;
  const err = await fetch(`${url}/_matrix/client/versions`).catch((e: unknown) => e);
  t.equal(
    describeNetworkError(url, err),
    `nothing listens at 127.0.0.1:${port} (ECONNREFUSED): is the homeserver running, and is homeserver.url right? In a container, localhost is the container itself`,
  );
});

t.test('a real timeout on loopback (a server that never answers)', async (t) => {
  const srv = createServer(() => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    srv.close();
  });
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const err = await fetch(url, { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
  t.match(describeNetworkError(url, err), /did not answer in time: raise homeserver.request_timeout_s/);
});

t.test('each cause code: what happened, what to check', async (t) => {
  const rows: [code: string, want: RegExp][] = [
    [
      'ENOTFOUND',
      /^the host name in hs\.example:8448 does not resolve \(ENOTFOUND\): check homeserver\.url$/,
    ],
    ['EAI_AGAIN', /does not resolve \(EAI_AGAIN\)/],
    ['EHOSTUNREACH', /cannot be reached \(EHOSTUNREACH\): check homeserver\.url and the network or firewall/],
    ['ECONNRESET', /closed the connection \(ECONNRESET\): .*http vs https/],
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      /TLS certificate of hs\.example:8448 is not trusted .*NODE_EXTRA_CA_CERTS/,
    ],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /not trusted \(ERR_TLS_CERT_ALTNAME_INVALID\)/],
    ['EWHATEVER', /^hs\.example:8448: fetch failed \(EWHATEVER\)$/],
  ];
  for (const [code, want] of rows) {
    t.match(describeNetworkError('https://hs.example:8448', fetchFailed(code)), want, code);
  }
  t.equal(describeNetworkError('not a url', new Error('boom')), 'not a url: boom', 'no code, no URL: as is');
});

t.test('set-up mistakes get their fix; anything else none', async (t) => {
  const m = (status: number, errcode: string) =>
    new MatrixHttpError('POST', '/_matrix/client/v3/register', status, errcode, 'x', {});
  t.match(setupHint(m(401, 'M_UNKNOWN_TOKEN')), /app_service_config_files .*restart the homeserver/);
  t.match(setupHint(m(401, 'M_MISSING_TOKEN')), /app_service_config_files/);
  t.match(setupHint(m(400, 'M_EXCLUSIVE')), /regenerate the registration with -r/);
  t.equal(setupHint(m(403, 'M_FORBIDDEN')), undefined);
  t.equal(setupHint(new Error('M_UNKNOWN_TOKEN')), undefined, 'only a Matrix error from the homeserver');
});

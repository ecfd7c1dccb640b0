/** The homeserver client against the strict test homeserver: masquerading, 429 retry_after_ms, giving up. */
import { pino } from 'pino';
import t from 'tap';
import {
  HomeserverClient,
  HomeserverUnavailableError,
  MatrixHttpError,
} from '../../src/appservice/homeserverClient.js';
import { startTestHomeserver } from '../../harness/homeserver/index.js';
import { refClock } from '../helpers/refClock.js';
import { AS_TOKEN, testRegistration } from '../../harness/sfu.js';

const clock = refClock;

async function setup(
  t: { teardown(fn: () => unknown): void },
  giveUpMs = 30_000,
  backoffMs = [50, 100, 200],
) {
  const hs = await startTestHomeserver({ serverName: 'example.org', logger: false });
  t.teardown(() => hs.close());
  const reg = testRegistration({ url: 'http://127.0.0.1:1' });
  hs.addAppservice({ ...reg, url: '', namespaces: { users: reg.namespaces.users } });
  const client = new HomeserverClient({
    baseUrl: hs.url,
    asToken: AS_TOKEN,
    userId: '@sfu:example.org',
    timeoutMs: 5000,
    clock,
    log: pino({ level: 'silent' }),
    giveUpMs,
    backoffMs,
  });
  return { hs, client };
}

t.test('calls are made as the focus user with the as_token', async (t) => {
  const { hs, client } = await setup(t);
  t.same(await client.joinedRooms(), []);
  const req = hs.requests.at(-1)!;
  t.equal(req.query['user_id'], '@sfu:example.org');
  t.same(hs.rejections, []);
});

t.test('429 is retried after retry_after_ms', async (t) => {
  const { hs, client } = await setup(t);
  hs.failNext(
    { path: '/_matrix/client/v3/joined_rooms' },
    { status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', error: 'slow down', retry_after_ms: 300 } },
  );
  const start = Date.now();
  t.same(await client.joinedRooms(), []);
  const elapsed = Date.now() - start;
  t.ok(elapsed >= 290, `waited retry_after_ms before retrying (${elapsed} ms)`);
  t.equal(hs.requests.filter((r) => r.path === '/_matrix/client/v3/joined_rooms').length, 2);
});

t.test('5xx is retried with backoff', async (t) => {
  const { hs, client } = await setup(t);
  hs.failNext(
    { path: '/_matrix/client/v3/joined_rooms' },
    { status: 502, body: { errcode: 'M_UNKNOWN', error: 'bad gateway' } },
    2,
  );
  t.same(await client.joinedRooms(), []);
  t.equal(hs.requests.filter((r) => r.path === '/_matrix/client/v3/joined_rooms').length, 3);
});

t.test('gives up with a clear error after its limit', async (t) => {
  const { hs, client } = await setup(t, 600, [100, 200, 400]);
  hs.failNext(
    { path: '/_matrix/client/v3/joined_rooms' },
    { status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', error: 'no', retry_after_ms: 250 } },
    100,
  );
  const err = await client.joinedRooms().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof HomeserverUnavailableError, 'HomeserverUnavailableError');
  t.match(
    (err as Error).message,
    /GET \/_matrix\/client\/v3\/joined_rooms failed after \d+ attempts: .*M_LIMIT_EXCEEDED/,
  );
  const attempts = hs.requests.filter((r) => r.path === '/_matrix/client/v3/joined_rooms').length;
  t.ok(attempts >= 2 && attempts <= 4, `bounded attempts (${attempts})`);
});

t.test('other 4xx fail at once with the errcode', async (t) => {
  const { client } = await setup(t);
  const err = await client.roomState('!nope:example.org').then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof MatrixHttpError);
  t.equal((err as MatrixHttpError).status, 403);
  t.equal((err as MatrixHttpError).errcode, 'M_FORBIDDEN');
});

t.test('network errors are retried, then reported', async (t) => {
  const client = new HomeserverClient({
    baseUrl: 'http://127.0.0.1:1',
    asToken: AS_TOKEN,
    userId: '@sfu:example.org',
    timeoutMs: 1000,
    clock,
    log: pino({ level: 'silent' }),
    giveUpMs: 300,
    backoffMs: [50, 100],
  });
  const err = await client.joinedRooms().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof HomeserverUnavailableError);
});

t.test(
  'roomState with maxBytes: a larger answer is refused (declared or chunked), not retried',
  async (t) => {
    const { createServer } = await import('node:http');
    const big = JSON.stringify([
      { type: 'm.room.member', state_key: '@a:x', content: { pad: 'x'.repeat(5000) } },
    ]);
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      if (req.url?.includes('chunked') === true) {
        res.write(big.slice(0, 100));
        res.end(big.slice(100));
      } else {
        res.setHeader('content-length', Buffer.byteLength(big));
        res.end(big);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.teardown(
      () =>
        new Promise<void>((r) => {
          server.close(() => {
            r();
          });
        }),
    );
    const port = (server.address() as { port: number }).port;
    const client = new HomeserverClient({
      baseUrl: `http://127.0.0.1:${port}`,
      asToken: AS_TOKEN,
      userId: '@sfu:example.org',
      timeoutMs: 5000,
      clock,
      log: pino({ level: 'silent' }),
    });
    await t.rejects(client.roomState('!declared:x', 4096), { name: 'ResponseTooLargeError' });
    await t.rejects(client.roomState('!chunked:x', 4096), { name: 'ResponseTooLargeError' });
    t.equal(hits, 2, 'one request each: not retried');
    t.equal((await client.roomState('!declared:x', 65536)).length, 1, 'under the limit: read');
    t.equal((await client.roomState('!chunked:x')).length, 1, 'no limit: read');
  },
);

import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import { call, SERVER } from './fixtures/helpers.js';

t.test('failNext injects rate limits and server errors, then the real answer', async (t) => {
  const hs = await startTestHomeserver({ serverName: SERVER });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const bob = hs.createUser('bob', { deviceId: 'BOBDEV' });
  const send = (txn: string) =>
    call(hs, 'PUT', `/_matrix/client/v3/sendToDevice/m.call.answer/${txn}`, {
      token: alice.accessToken,
      body: { messages: { [bob.userId]: { BOBDEV: { txn } } } },
    });

  hs.failNext(
    { method: 'PUT', path: /\/sendToDevice\/m\.call\.answer\// },
    { status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 200 } },
  );
  const limited = await send('a');
  t.equal(limited.status, 429);
  t.same(limited.body, { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 200 });
  t.same(hs.toDeviceInbox(bob.userId, 'BOBDEV'), [], 'nothing delivered');

  const retried = await send('a');
  t.equal(retried.status, 200);
  t.equal(hs.toDeviceInbox(bob.userId, 'BOBDEV').length, 1, 'the retry with the same txnId is delivered');

  hs.failNext(
    { path: '/_matrix/client/v3/account/whoami' },
    { status: 500, body: { errcode: 'M_UNKNOWN', error: 'boom' } },
    2,
  );
  const who = () => call(hs, 'GET', '/_matrix/client/v3/account/whoami', { token: alice.accessToken });
  t.same([(await who()).status, (await who()).status, (await who()).status], [500, 500, 200]);

  const injected = hs.requests.filter((r) => r.injected === true);
  t.same(
    injected.map((r) => [r.method, r.path, r.status]),
    [
      ['PUT', '/_matrix/client/v3/sendToDevice/m.call.answer/a', 429],
      ['GET', '/_matrix/client/v3/account/whoami', 500],
      ['GET', '/_matrix/client/v3/account/whoami', 500],
    ],
  );
  t.same(hs.rejections, [], 'injected failures are not spec violations');
  t.throws(() => {
    hs.failNext({ path: '/x' }, { status: 500, body: {} }, 0);
  });

  const msg = await hs.waitForToDevice(bob.userId, 'BOBDEV', (m) => m.type === 'm.call.answer', 100);
  t.same(msg, { type: 'm.call.answer', sender: alice.userId, content: { txn: 'a' } });
  setTimeout(() => void send('b'), 20);
  const later = await hs.waitForToDevice(bob.userId, 'BOBDEV', (m) => m.content.txn === 'b', 2000);
  t.equal(later.content.txn, 'b');
  await t.rejects(hs.waitForToDevice(bob.userId, 'BOBDEV', (m) => m.content.txn === 'never', 50));
});

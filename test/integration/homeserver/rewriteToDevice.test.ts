/** The test homeserver's to-device hook: rewrite or drop a message after its request was checked, before delivery. */
import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';

t.test('rewriteToDevice sees every message once per recipient entry, may rewrite or drop it', async (t) => {
  const hs = await startTestHomeserver({
    serverName: 'a.example',
    logger: false,
    federation: [{ serverName: 'b.example' }],
  });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice', { serverName: 'a.example', deviceId: 'ADEV' });
  const bob = hs.createUser('bob', { serverName: 'b.example', deviceId: 'BDEV' });
  const seen: string[] = [];
  const remove = hs.rewriteToDevice(({ sender, recipient, deviceId, type, content }) => {
    seen.push(`${sender}>${recipient}/${deviceId} ${type}`);
    if (content['drop'] === true) {
      return null;
    }
    return type === 'm.test' ? { ...content, rewritten: true } : content;
  });
  const put = async (txn: string, type: string, content: Record<string, unknown>) => {
    const res = await fetch(`${hs.urlOf('a.example')}/_matrix/client/v3/sendToDevice/${type}/${txn}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: { [bob.userId]: { BDEV: content } } }),
    });
    t.equal(res.status, 200, `PUT ${txn}`);
    await res.arrayBuffer();
  };
  await put('t1', 'm.test', { n: 1 });
  await put('t1', 'm.test', { n: 1 }); // the same transaction: not delivered twice, not seen twice
  await put('t2', 'm.other', { n: 2 });
  await put('t3', 'm.test', { n: 3, drop: true });
  t.same(
    hs.toDeviceInbox(bob.userId, 'BDEV'),
    [
      { type: 'm.test', sender: alice.userId, content: { n: 1, rewritten: true } },
      { type: 'm.other', sender: alice.userId, content: { n: 2 } },
    ],
    'rewritten, passed, dropped',
  );
  t.same(seen, [
    `${alice.userId}>${bob.userId}/BDEV m.test`,
    `${alice.userId}>${bob.userId}/BDEV m.other`,
    `${alice.userId}>${bob.userId}/BDEV m.test`,
  ]);
  remove();
  await put('t4', 'm.test', { n: 4, drop: true });
  t.same(hs.toDeviceInbox(bob.userId, 'BDEV').at(-1)?.content, { n: 4, drop: true }, 'hook removed');
  // A bad request never reaches the hook.
  const bad = await fetch(`${hs.urlOf('a.example')}/_matrix/client/v3/sendToDevice/m.test/t5`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: 'nope' }),
  });
  t.equal(bad.status, 400);
  await bad.arrayBuffer();
  t.equal(seen.length, 3);
  t.equal(hs.rejections.length, 1, 'only the bad request was rejected');
});

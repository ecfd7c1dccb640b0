import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import {
  call,
  pushedEvents,
  pushedToDevice,
  registration,
  SERVER,
  SFU,
  startStubAppservice,
} from './fixtures/helpers.js';

const V3 = '/_matrix/client/v3';
const UNSTABLE = 'de.sorunome.msc2409.to_device';

for (const key of [UNSTABLE, 'to_device'] as const) {
  t.test(`sendToDevice reaches the AS in a transaction under ${key}`, async (t) => {
    const reg = registration(null);
    const stub = await startStubAppservice(reg.hs_token);
    t.teardown(() => stub.close());
    const hs = await startTestHomeserver({
      serverName: SERVER,
      appservices: [{ ...reg, url: stub.url }],
      pushToDeviceKey: key,
    });
    t.teardown(() => hs.close());
    hs.addDevice(SFU, 'SFUDEV1');
    const alice = hs.createUser('alice', { deviceId: 'ALICEDEV' });

    const content = { call_id: 'c1', conf_id: 'conf', party_id: 'ALICEDEV', version: '1', seq: 1 };
    const sent = await call(hs, 'PUT', `${V3}/sendToDevice/m.call.invite/txn-1`, {
      token: alice.accessToken,
      body: { messages: { [SFU]: { SFUDEV1: content } } },
    });
    t.equal(sent.status, 200);
    t.same(sent.body, {});
    const [txn] = await stub.waitForTransactions(1);
    t.equal(txn!.authorization, `Bearer ${reg.hs_token}`);
    t.same(txn!.body.events, []);
    t.same(txn!.body[key], [
      { type: 'm.call.invite', sender: alice.userId, to_user_id: SFU, to_device_id: 'SFUDEV1', content },
    ]);
    t.notOk((key === UNSTABLE ? 'to_device' : UNSTABLE) in txn!.body, 'only the configured spelling');
    t.same(txn!.body[key === UNSTABLE ? 'de.sorunome.msc2409.ephemeral' : 'ephemeral'], []);
    t.same(hs.toDeviceInbox(SFU, 'SFUDEV1'), [{ type: 'm.call.invite', sender: alice.userId, content }]);

    // Same txnId from the same device: idempotent, nothing new delivered.
    await call(hs, 'PUT', `${V3}/sendToDevice/m.call.invite/txn-1`, {
      token: alice.accessToken,
      body: { messages: { [SFU]: { SFUDEV1: content } } },
    });
    // `*` reaches every device; unknown users and devices are dropped silently.
    hs.addDevice(SFU, 'SFUDEV2');
    await call(hs, 'PUT', `${V3}/sendToDevice/m.call.hangup/txn-2`, {
      token: alice.accessToken,
      body: {
        messages: {
          [SFU]: { '*': { call_id: 'c1' } },
          '@nobody:example.org': { X: {} },
          [alice.userId]: { NODEV: {} },
        },
      },
    });
    await hs.pushesSettled();
    const all = pushedToDevice(stub, key);
    t.same(
      all.map((m) => [m.type, m.to_device_id]),
      [
        ['m.call.invite', 'SFUDEV1'],
        ['m.call.hangup', 'SFUDEV1'],
        ['m.call.hangup', 'SFUDEV2'],
      ],
    );
    t.same(hs.rejections, []);
  });
}

t.test('room events pushed by namespace interest', async (t) => {
  const reg = registration(null);
  const stub = await startStubAppservice(reg.hs_token);
  const watcherStub = await startStubAppservice('hs-watch');
  t.teardown(() => Promise.all([stub.close(), watcherStub.close()]));
  const watcher = registration(watcherStub.url, {
    id: 'watcher',
    as_token: 'as-watch',
    hs_token: 'hs-watch',
    sender_localpart: 'watcher',
    namespaces: { users: [], rooms: [{ regex: '!.*', exclusive: false }] },
    'de.sorunome.msc2409.push_ephemeral': false,
    receive_ephemeral: false,
  });
  const hs = await startTestHomeserver({
    serverName: SERVER,
    appservices: [{ ...reg, url: stub.url }, watcher],
  });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const bob = hs.createUser('bob');

  const unrelated = hs.createRoom(bob.userId);
  hs.sendState(bob.userId, unrelated, 'm.call', '', { v: 0 });
  const roomId = hs.createRoom(alice.userId, { preset: 'private_chat' });
  const invite = hs.invite(alice.userId, SFU, roomId);
  const join = hs.join(SFU, roomId);
  const member = hs.sendState(alice.userId, roomId, 'org.matrix.msc3401.call.member', alice.userId, {
    memberships: [],
  });
  await hs.pushesSettled();

  const events = pushedEvents(stub);
  t.same(
    events.map((e) => e.event_id),
    [invite.event_id, join.event_id, member.event_id],
    'the invite for its user, then everything once its user is joined; nothing from other rooms',
  );
  t.match(events[2], {
    event_id: member.event_id,
    room_id: roomId,
    sender: alice.userId,
    type: 'org.matrix.msc3401.call.member',
    state_key: alice.userId,
    content: { memberships: [] },
    origin_server_ts: Number,
  });
  const watched = pushedEvents(watcherStub);
  t.ok(
    watched.some((e) => e.room_id === unrelated) && watched.some((e) => e.event_id === member.event_id),
    'a rooms namespace sees every matching room',
  );
  t.notOk(
    watcherStub.transactions.some((tx) => UNSTABLE in tx.body),
    'no ephemeral keys without the flag',
  );
});

t.test('without push_ephemeral no to-device is pushed', async (t) => {
  const reg = registration(null, { 'de.sorunome.msc2409.push_ephemeral': false, receive_ephemeral: false });
  const stub = await startStubAppservice(reg.hs_token);
  t.teardown(() => stub.close());
  const hs = await startTestHomeserver({ serverName: SERVER, appservices: [{ ...reg, url: stub.url }] });
  t.teardown(() => hs.close());
  hs.addDevice(SFU, 'SFUDEV1');
  const alice = hs.createUser('alice');
  hs.sendToDevice(alice.userId, 'm.call.invite', { [SFU]: { SFUDEV1: { call_id: 'x' } } });
  const roomId = hs.createRoom(alice.userId);
  hs.join(SFU, roomId);
  await hs.pushesSettled();
  t.ok(stub.transactions.length > 0);
  for (const tx of stub.transactions) {
    t.same(Object.keys(tx.body), ['events']);
  }
  t.equal(hs.toDeviceInbox(SFU, 'SFUDEV1').length, 1, 'still stored for /sync');
});

t.test('a failed push is retried with the same txnId and body; order is kept', async (t) => {
  const reg = registration(null);
  const stub = await startStubAppservice(reg.hs_token);
  t.teardown(() => stub.close());
  const hs = await startTestHomeserver({
    serverName: SERVER,
    appservices: [{ ...reg, url: stub.url }],
    pushRetry: { initialMs: 30, maxMs: 100 },
  });
  t.teardown(() => hs.close());
  hs.addDevice(SFU, 'SFUDEV1');
  const alice = hs.createUser('alice');
  stub.statuses.push(500, 503);

  hs.sendToDevice(alice.userId, 'm.call.invite', { [SFU]: { SFUDEV1: { seq: 1 } } });
  hs.sendToDevice(alice.userId, 'm.call.candidates', { [SFU]: { SFUDEV1: { seq: 2 } } });
  await stub.waitForTransactions(3);
  await hs.pushesSettled();

  const [a, b, c] = stub.transactions;
  t.equal(a!.txnId, b!.txnId, 'retry reuses the txnId');
  t.equal(b!.txnId, c!.txnId);
  t.same(a!.body, c!.body, 'and the body');
  const delivered = stub.transactions.slice(2).flatMap((tx) => tx.body[UNSTABLE]);
  t.same(
    delivered.map((m: { content: { seq: number } }) => m.content.seq),
    [1, 2],
    'messages arrive in order',
  );
  t.same(
    hs.pushes.slice(0, 3).map((p) => [p.txnId, p.attempt, p.status]),
    [
      [a!.txnId, 1, 500],
      [a!.txnId, 2, 503],
      [a!.txnId, 3, 200],
    ],
  );
});

t.test('pushes to an unreachable AS retry until close, which leaves no handles', async (t) => {
  const reg = registration('http://127.0.0.1:1');
  const hs = await startTestHomeserver({
    serverName: SERVER,
    appservices: [reg],
    pushRetry: { initialMs: 10, maxMs: 20 },
  });
  const alice = hs.createUser('alice');
  hs.addDevice(SFU, 'SFUDEV1');
  hs.sendToDevice(alice.userId, 'm.call.invite', { [SFU]: { SFUDEV1: {} } });
  const sync = call(hs, 'GET', `${V3}/sync`, {
    token: alice.accessToken,
    query: { since: 's0', timeout: '20000' },
  });
  while (hs.pushes.length < 3) {
    await new Promise((r) => setTimeout(r, 5));
  }
  t.ok(
    hs.pushes.every((p) => p.txnId === '1'),
    'retried with txnId 1',
  );
  t.ok(
    hs.pushes.slice(0, 2).every((p) => p.error !== undefined && p.status === undefined),
    'network errors',
  );
  await hs.close();
  t.equal((await sync).status, 200, 'a pending long-poll is answered at close');
  const count = hs.pushes.length;
  await new Promise((r) => setTimeout(r, 50));
  t.equal(hs.pushes.length, count, 'no retry after close');
  await new Promise((r) => setImmediate(r));
  const left = process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP') || r === 'Timeout');
  t.same(left, [], 'no sockets, servers or timers left');
});

t.test('pushTransaction sends a raw transaction', async (t) => {
  const reg = registration(null);
  const stub = await startStubAppservice(reg.hs_token);
  t.teardown(() => stub.close());
  const hs = await startTestHomeserver({ serverName: SERVER, appservices: [{ ...reg, url: stub.url }] });
  t.teardown(() => hs.close());
  const res = await hs.pushTransaction('sfu', { events: 'not an array' }, 'raw-1');
  t.same(res, { status: 200, body: {} });
  t.same(stub.transactions[0], {
    txnId: 'raw-1',
    body: { events: 'not an array' },
    authorization: 'Bearer hs-token-sfu',
  });
  stub.statuses.push(500);
  t.equal((await hs.pushTransaction('sfu', { events: [] })).status, 500, 'no retry for raw pushes');
  await t.rejects(hs.pushTransaction('nope', {}));
});

t.test('POST /appservice/{id}/ping', async (t) => {
  const reg = registration(null);
  const stub = await startStubAppservice(reg.hs_token);
  t.teardown(() => stub.close());
  const other = registration(null, {
    id: 'other',
    as_token: 'as-other',
    hs_token: 'hs-other',
    sender_localpart: 'other',
    namespaces: {},
  });
  const dead = registration('http://127.0.0.1:1', {
    id: 'dead',
    as_token: 'as-dead',
    hs_token: 'hs-dead',
    sender_localpart: 'dead',
    namespaces: {},
  });
  const hs = await startTestHomeserver({
    serverName: SERVER,
    appservices: [{ ...reg, url: stub.url }, other, dead],
  });
  t.teardown(() => hs.close());
  const ping = (id: string, token: string | undefined, body: unknown = {}) =>
    call(hs, 'POST', `/_matrix/client/v1/appservice/${id}/ping`, {
      ...(token === undefined ? {} : { token }),
      body,
    });

  const ok = await ping('sfu', reg.as_token, { transaction_id: 'ping-1' });
  t.equal(ok.status, 200);
  t.type(ok.body.duration_ms, 'number');
  t.same(stub.pings, [{ body: { transaction_id: 'ping-1' }, authorization: 'Bearer hs-token-sfu' }]);

  stub.pingStatus = 500;
  const bad = await ping('sfu', reg.as_token);
  t.equal(bad.status, 502);
  t.equal(bad.body.errcode, 'M_BAD_STATUS');
  t.equal(bad.body.status, 500);

  t.equal((await ping('other', reg.as_token)).status, 403, 'the id must be the caller');
  t.equal((await ping('other', 'as-other')).body.errcode, 'M_URL_NOT_SET');
  const refused = await ping('dead', 'as-dead');
  t.equal(refused.status, 502);
  t.equal(refused.body.errcode, 'M_CONNECTION_FAILED');
  const alice = hs.createUser('alice');
  t.equal((await ping('sfu', alice.accessToken)).status, 403, 'user tokens may not ping');
  t.equal((await ping('sfu', undefined)).status, 401);
  t.equal((await ping('sfu', reg.as_token, { transaction_id: 7 })).body.errcode, 'M_BAD_JSON');
});

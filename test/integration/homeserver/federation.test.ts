/**
 * The test homeserver serving several server names at once (`federation`): one listener, access tokens and
 * appservice registrations per server name; users, rooms and to-device shared as if federated; each appservice
 * pushed only what its own server would push it, its namespaces covering its own server's users only.
 */
import t from 'tap';
import {
  startTestHomeserver,
  type AsRegistration,
  type TestHomeserver,
} from '../../../harness/homeserver/index.js';
import {
  call,
  enc,
  pushedEvents,
  pushedToDevice,
  startStubAppservice,
  type StubAppservice,
} from './fixtures/helpers.js';
import type { TapTest } from '../../../harness/sfu.js';

const V3 = '/_matrix/client/v3';
const TD = 'de.sorunome.msc2409.to_device';
const A = 'a.example';
const B = 'b.example';
const C = 'c.example';

/** The SFU's registration on `server`: its own tokens, an exclusive namespace of `@sfu…:<server>`. */
function sfuRegistration(server: string, url: string | null): AsRegistration {
  return {
    id: 'sfu',
    url,
    as_token: `as-${server}`,
    hs_token: `hs-${server}`,
    sender_localpart: 'sfu',
    namespaces: { users: [{ regex: `@sfu(_[a-z0-9]+)?:${server.replace(/\./g, '\\.')}`, exclusive: true }] },
    'de.sorunome.msc2409.push_ephemeral': true,
    receive_ephemeral: true,
  };
}

interface Federated {
  hs: TestHomeserver;
  stubs: Record<string, StubAppservice>;
  at: (server: string) => { url: string };
}

/** a.example and b.example each with an SFU registration pushing to its own stub; c.example with none. */
async function startFederated(t: TapTest): Promise<Federated> {
  const stubs = { [A]: await startStubAppservice(`hs-${A}`), [B]: await startStubAppservice(`hs-${B}`) };
  t.teardown(() => Promise.all(Object.values(stubs).map((s) => s.close())));
  const hs = await startTestHomeserver({
    serverName: A,
    appservices: [sfuRegistration(A, stubs[A].url)],
    federation: [{ serverName: B, appservices: [sfuRegistration(B, stubs[B].url)] }, { serverName: C }],
  });
  t.teardown(() => hs.close());
  return { hs, stubs, at: (server) => ({ url: hs.urlOf(server) }) };
}

t.test('one listener per server name; ids, logins and tokens belong to their server', async (t) => {
  const { hs, at } = await startFederated(t);
  t.same(hs.serverNames, [A, B, C]);
  t.equal(hs.url, hs.urlOf(A));
  t.equal(new Set([hs.urlOf(A), hs.urlOf(B), hs.urlOf(C)]).size, 3, 'three listeners');
  t.throws(() => hs.urlOf('d.example'), /does not serve d\.example/);
  t.throws(() => hs.createUser('x', { serverName: 'd.example' }), /does not serve d\.example/);

  const carol = hs.createUser('carol', { serverName: C, password: 'pw' });
  t.equal(carol.userId, '@carol:c.example');
  const who = await call(at(C), 'GET', `${V3}/account/whoami`, { token: carol.accessToken });
  t.same(who.body, { user_id: carol.userId, device_id: carol.deviceId });
  // A token is valid only at the server that issued it.
  const elsewhere = await call(at(A), 'GET', `${V3}/account/whoami`, { token: carol.accessToken });
  t.equal(elsewhere.status, 401);
  t.equal(elsewhere.body.errcode, 'M_UNKNOWN_TOKEN');

  // Registering over HTTP makes a user of the listener's server.
  const reg = await call(at(B), 'POST', `${V3}/register`, {
    body: { username: 'dave', password: 'pw', auth: { type: 'm.login.dummy' } },
  });
  t.equal(reg.status, 200);
  t.equal(reg.body.user_id, '@dave:b.example');
  t.equal(reg.body.home_server, B);
  // Logging in: the server's own users only, by localpart or full id.
  const login = await call(at(C), 'POST', `${V3}/login`, {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carol' }, password: 'pw' },
  });
  t.equal(login.body.user_id, carol.userId);
  t.equal(login.body.home_server, C);
  const remoteLogin = await call(at(A), 'POST', `${V3}/login`, {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: carol.userId },
      password: 'pw',
    },
  });
  t.equal(remoteLogin.status, 403, 'a user of c.example cannot log in at a.example');
  t.equal(remoteLogin.body.errcode, 'M_FORBIDDEN');

  t.same(
    hs.rejections.map((r) => [r.serverName, r.status, r.errcode, r.path]),
    [[A, 401, 'M_UNKNOWN_TOKEN', `${V3}/account/whoami`]],
    'the only refusal is the token presented at the wrong server, tagged with that server',
  );
  t.ok(
    hs.requests.every((r) => r.serverName !== undefined),
    'requests say which listener got them',
  );
  t.same(
    hs.requests.filter((r) => r.path === `${V3}/register`).map((r) => r.serverName),
    [B],
  );
});

t.test('a room created on a.example, joined by users of b.example and c.example', async (t) => {
  const { hs, at } = await startFederated(t);
  const alice = hs.createUser('alice', { serverName: A, deviceId: 'ALICEDEV' });
  const bob = hs.createUser('bob', { serverName: B, deviceId: 'BOBDEV' });
  const carol = hs.createUser('carol', { serverName: C, deviceId: 'CAROLDEV' });

  const created = await call(at(A), 'POST', `${V3}/createRoom`, {
    token: alice.accessToken,
    body: {
      preset: 'public_chat',
      room_alias_name: 'call',
      power_level_content_override: { events: { 'm.call.member': 0 } },
    },
  });
  const roomId = created.body.room_id as string;
  t.match(roomId, /^![A-Za-z0-9]+:a\.example$/, 'the room id keeps its creating server');
  t.match(hs.createRoom(bob.userId), /:b\.example$/, 'a room created by a user of b.example is b.example’s');

  const bobSince = (await call(at(B), 'GET', `${V3}/sync`, { token: bob.accessToken })).body.next_batch;
  const joinById = await call(at(B), 'POST', `${V3}/join/${enc(roomId)}`, {
    token: bob.accessToken,
    body: {},
  });
  t.same(joinById.body, { room_id: roomId });
  const joinByAlias = await call(at(C), 'POST', `${V3}/join/${enc('#call:a.example')}`, {
    token: carol.accessToken,
    body: {},
  });
  t.same(joinByAlias.body, { room_id: roomId }, 'the alias of a.example resolves at c.example');

  const sent = await call(at(B), 'PUT', `${V3}/rooms/${enc(roomId)}/state/m.call.member/${enc(bob.userId)}`, {
    token: bob.accessToken,
    body: { memberships: [] },
  });
  t.equal(sent.status, 200);
  t.match(sent.body.event_id, /^\$/);

  // Shared state: each server's listener shows the same room to its own user.
  const stateAtA = await call(at(A), 'GET', `${V3}/rooms/${enc(roomId)}/state`, { token: alice.accessToken });
  const stateAtC = await call(at(C), 'GET', `${V3}/rooms/${enc(roomId)}/state`, { token: carol.accessToken });
  t.same(stateAtA.body, stateAtC.body);
  t.same(
    (stateAtA.body as { type: string; state_key: string; content: { membership?: string } }[])
      .filter((e) => e.type === 'm.room.member')
      .map((e) => [e.state_key, e.content.membership])
      .sort(),
    [
      [alice.userId, 'join'],
      [bob.userId, 'join'],
      [carol.userId, 'join'],
    ],
  );
  const bobSync = await call(at(B), 'GET', `${V3}/sync`, {
    token: bob.accessToken,
    query: { since: bobSince, timeout: '0' },
  });
  const timeline = bobSync.body.rooms.join[roomId].timeline.events as { type: string; sender: string }[];
  t.same(
    timeline.map((e) => [e.type, e.sender]),
    [
      ['m.room.member', bob.userId],
      ['m.room.member', carol.userId],
      ['m.call.member', bob.userId],
    ],
    'bob syncs the room at b.example from his join on',
  );
  t.same(hs.rejections, []);
});

t.test('to-device across servers reaches the addressed server’s appservice or /sync', async (t) => {
  const { hs, stubs, at } = await startFederated(t);
  hs.addDevice(`@sfu:${A}`, 'SFUDEV');
  hs.addDevice(`@sfu:${B}`, 'SFUDEV');
  const alice = hs.createUser('alice', { serverName: A, deviceId: 'ALICEDEV' });
  const bob = hs.createUser('bob', { serverName: B, deviceId: 'BOBDEV' });

  const invite = { call_id: 'c1', conf_id: 'conf', party_id: 'ALICEDEV', version: '1' };
  const sent = await call(at(A), 'PUT', `${V3}/sendToDevice/m.call.invite/t1`, {
    token: alice.accessToken,
    body: { messages: { [`@sfu:${B}`]: { SFUDEV: invite } } },
  });
  t.equal(sent.status, 200);
  // The focus of b.example answers a's focus, acting through b's appservice at b's listener.
  const link = { call_id: 'link-1', conf_id: 'conf', party_id: 'SFUDEV', version: '1' };
  const linked = await call(at(B), 'PUT', `${V3}/sendToDevice/m.call.invite/t2`, {
    token: `as-${B}`,
    query: { user_id: `@sfu:${B}`, 'org.matrix.msc3202.device_id': 'SFUDEV' },
    body: { messages: { [`@sfu:${A}`]: { SFUDEV: link } } },
  });
  t.equal(linked.status, 200);
  // A plain user of b.example gets hers by /sync at b.example; no appservice hears of it.
  await call(at(A), 'PUT', `${V3}/sendToDevice/m.call.hangup/t3`, {
    token: alice.accessToken,
    body: { messages: { [bob.userId]: { '*': { call_id: 'c1' } }, '@nobody:b.example': { X: {} } } },
  });
  await hs.pushesSettled();

  t.same(
    pushedToDevice(stubs[B]!, TD),
    [
      {
        type: 'm.call.invite',
        sender: alice.userId,
        to_user_id: `@sfu:${B}`,
        to_device_id: 'SFUDEV',
        content: invite,
      },
    ],
    "b's appservice gets alice's invite to its focus, and nothing else",
  );
  t.same(
    pushedToDevice(stubs[A]!, TD),
    [
      {
        type: 'm.call.invite',
        sender: `@sfu:${B}`,
        to_user_id: `@sfu:${A}`,
        to_device_id: 'SFUDEV',
        content: link,
      },
    ],
    "a's appservice gets b's focus's invite, and nothing else",
  );
  const bobSync = await call(at(B), 'GET', `${V3}/sync`, { token: bob.accessToken });
  t.same(bobSync.body.to_device.events, [
    { type: 'm.call.hangup', sender: alice.userId, content: { call_id: 'c1' } },
  ]);
  t.same(
    hs.pushes.map((p) => [p.serverName, p.appserviceId, p.status]).sort(),
    [
      [A, 'sfu', 200],
      [B, 'sfu', 200],
    ],
    'one push to each appservice; the records name its server',
  );
  t.same(hs.rejections, []);
});

t.test('each appservice gets only the room events of its own users', async (t) => {
  const { hs, stubs } = await startFederated(t);
  const alice = hs.createUser('alice', { serverName: A });
  const bob = hs.createUser('bob', { serverName: B });

  const roomId = hs.createRoom(alice.userId);
  const aInvite = hs.invite(alice.userId, `@sfu:${A}`, roomId);
  const aJoin = hs.join(`@sfu:${A}`, roomId);
  const early = hs.sendState(alice.userId, roomId, 'm.call.member', alice.userId, { memberships: [] });
  const bobJoin = hs.join(bob.userId, roomId);
  const bInvite = hs.invite(bob.userId, `@sfu:${B}`, roomId);
  const bJoin = hs.join(`@sfu:${B}`, roomId);
  const late = hs.sendState(bob.userId, roomId, 'm.call.member', bob.userId, { memberships: [] });
  const bLeave = hs.leave(`@sfu:${B}`, roomId);
  const after = hs.sendMessage(alice.userId, roomId, 'm.room.message', { body: 'x' });
  await hs.pushesSettled();

  const ids = (stub: StubAppservice): string[] =>
    pushedEvents(stub).map((e: { event_id: string }) => e.event_id);
  t.same(
    ids(stubs[B]!),
    [bInvite.event_id, bJoin.event_id, late.event_id, bLeave.event_id],
    'b.example’s appservice: the invite of its focus, then the room while its focus is joined',
  );
  t.same(
    ids(stubs[A]!),
    [
      aInvite.event_id,
      aJoin.event_id,
      early.event_id,
      bobJoin.event_id,
      bInvite.event_id,
      bJoin.event_id,
      late.event_id,
      bLeave.event_id,
      after.event_id,
    ],
    'a.example’s appservice: the invite of its focus, then everything while its focus is joined',
  );
  t.same(hs.rejections, []);
});

t.test('registrations are per server name: tokens, namespaces and exclusivity', async (t) => {
  const watcherStub = await startStubAppservice('hs-watch');
  t.teardown(() => watcherStub.close());
  const { hs, at } = await startFederated(t);
  // A second registration on a.example claiming every user id (non-exclusive): still only a.example's users.
  hs.addAppservice(
    {
      id: 'watcher',
      url: watcherStub.url,
      as_token: 'as-watch',
      hs_token: 'hs-watch',
      sender_localpart: 'watcher',
      namespaces: { users: [{ regex: '@.*', exclusive: false }] },
      receive_ephemeral: true,
    },
    A,
  );
  // Appservice ids are unique per server name: both a.example and b.example have an `sfu`, not two each.
  t.throws(() => {
    hs.addAppservice(sfuRegistration(B, null), B);
  }, /sfu is already registered/);
  const bob = hs.createUser('bob', { serverName: B, deviceId: 'BOBDEV' });
  const roomOfB = hs.createRoom(bob.userId);
  hs.sendMessage(bob.userId, roomOfB, 'm.room.message', { body: 'b only' });
  hs.sendToDevice(bob.userId, 'm.test', { [bob.userId]: { BOBDEV: { n: 1 } } });

  // An appservice registers users of its namespace at its own server…
  const made = await call(at(B), 'POST', `${V3}/register`, {
    token: `as-${B}`,
    body: { type: 'm.login.application_service', username: 'sfu_2' },
  });
  t.equal(made.body.user_id, '@sfu_2:b.example');
  // …its token means nothing at another server…
  const wrongServer = await call(at(B), 'POST', `${V3}/register`, {
    token: `as-${A}`,
    body: { type: 'm.login.application_service', username: 'sfu_3' },
  });
  t.equal(wrongServer.body.errcode, 'M_UNKNOWN_TOKEN');
  // …and it cannot act as a matching user id of another server.
  const masquerade = await call(at(A), 'GET', `${V3}/account/whoami`, {
    token: 'as-watch',
    query: { user_id: bob.userId },
  });
  t.equal(masquerade.status, 403);
  t.match(masquerade.body.error, /cannot masquerade/);
  const ownUser = await call(at(A), 'GET', `${V3}/account/whoami`, {
    token: 'as-watch',
    query: { user_id: `@sfu:${A}` },
  });
  t.same(ownUser.body, { user_id: `@sfu:${A}` }, 'its broad namespace covers users of a.example');
  // Exclusive namespaces reserve ids at their own server only.
  const reserved = await call(at(A), 'POST', `${V3}/register`, {
    body: { username: 'sfu_9', auth: { type: 'm.login.dummy' } },
  });
  t.equal(reserved.body.errcode, 'M_EXCLUSIVE');
  const free = await call(at(C), 'POST', `${V3}/register`, {
    body: { username: 'sfu_9', auth: { type: 'm.login.dummy' } },
  });
  t.equal(free.body.user_id, '@sfu_9:c.example');

  await hs.pushesSettled();
  t.same(watcherStub.transactions, [], 'the broad registration of a.example heard nothing of b.example');
  t.same(
    hs.rejections.map((r) => [r.serverName, r.status, r.errcode]),
    [
      [B, 401, 'M_UNKNOWN_TOKEN'],
      [A, 403, 'M_FORBIDDEN'],
      [A, 400, 'M_EXCLUSIVE'],
    ],
    'exactly the refusals above',
  );
});

t.test('failNext can target one server name; server names are unique', async (t) => {
  const { hs, at } = await startFederated(t);
  hs.failNext({ path: '/_matrix/client/versions', serverName: B }, { status: 503, body: {} });
  t.equal((await call(at(A), 'GET', '/_matrix/client/versions')).status, 200, 'not at a.example');
  t.equal((await call(at(B), 'GET', '/_matrix/client/versions')).status, 503, 'at b.example');
  t.equal((await call(at(B), 'GET', '/_matrix/client/versions')).status, 200, 'once');
  await t.rejects(
    startTestHomeserver({ serverName: A, federation: [{ serverName: A }] }),
    /a\.example is listed twice/,
  );
  t.same(hs.rejections, []);
});

t.test('one server name (the default) tags nothing', async (t) => {
  const hs = await startTestHomeserver({ serverName: 'example.org' });
  t.teardown(() => hs.close());
  t.same(hs.serverNames, ['example.org']);
  await call(hs, 'GET', `${V3}/account/whoami`);
  t.notOk('serverName' in hs.requests[0]!);
  t.notOk('serverName' in hs.rejections[0]!);
  t.same(hs.rejections, [
    {
      method: 'GET',
      path: `${V3}/account/whoami`,
      status: 401,
      errcode: 'M_MISSING_TOKEN',
      why: 'Missing access token.',
    },
  ]);
});

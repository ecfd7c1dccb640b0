import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import { call, enc, SERVER } from './fixtures/helpers.js';

/** The errcode a test-homeserver hook throws. */
function errcodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { errcode?: string }).errcode;
  }
  return undefined;
}

const V3 = '/_matrix/client/v3';

t.test('createRoom, joins, invites and joined_rooms over HTTP', async (t) => {
  const hs = await startTestHomeserver({ serverName: SERVER, now: () => 1_700_000_000_000 });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const bob = hs.createUser('bob');
  const carol = hs.createUser('carol');

  const created = await call(hs, 'POST', `${V3}/createRoom`, {
    token: alice.accessToken,
    body: { name: 'Call room', room_alias_name: 'calls' },
  });
  t.equal(created.status, 200);
  const roomId: string = created.body.room_id;
  t.match(roomId, /^![A-Za-z0-9]+:example\.org$/);

  const notInvited = await call(hs, 'POST', `${V3}/rooms/${enc(roomId)}/join`, {
    token: bob.accessToken,
    body: {},
  });
  t.equal(notInvited.status, 403, 'private_chat is the HTTP default: invite only');

  t.equal(
    (
      await call(hs, 'POST', `${V3}/rooms/${enc(roomId)}/invite`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      })
    ).status,
    200,
  );
  const byAlias = await call(hs, 'POST', `${V3}/join/${enc('#calls:example.org')}`, {
    token: bob.accessToken,
    body: {},
  });
  t.same(byAlias.body, { room_id: roomId }, 'join by alias after the invite');

  const unknownAlias = await call(hs, 'POST', `${V3}/join/${enc('#nope:example.org')}`, {
    token: carol.accessToken,
    body: {},
  });
  t.equal(unknownAlias.status, 404);

  const joined = await call(hs, 'GET', `${V3}/joined_rooms`, { token: bob.accessToken });
  t.same(joined.body, { joined_rooms: [roomId] });

  const members = hs
    .roomState(roomId)
    .filter((e) => e.type === 'm.room.member')
    .map((e) => [e.state_key, e.content.membership]);
  t.same(members, [
    [alice.userId, 'join'],
    [bob.userId, 'join'],
  ]);
  const first = hs.roomState(roomId)[0]!;
  t.equal(first.type, 'm.room.create');
  t.equal(first.origin_server_ts, 1_700_000_000_000, 'timestamps come from the injected clock');
  t.match(first.event_id, /^\$/);

  t.equal(
    (await call(hs, 'POST', `${V3}/rooms/${enc(roomId)}/leave`, { token: bob.accessToken, body: {} })).status,
    200,
  );
  t.same((await call(hs, 'GET', `${V3}/joined_rooms`, { token: bob.accessToken })).body, {
    joined_rooms: [],
  });
  t.same(hs.rejections, []);
});

t.test(
  'GET /state: ClientEvents without room_id; 403 for non-members; left users see the state at leave',
  async (t) => {
    const hs = await startTestHomeserver({ serverName: SERVER });
    t.teardown(() => hs.close());
    const alice = hs.createUser('alice');
    const bob = hs.createUser('bob');
    const mallory = hs.createUser('mallory');
    const roomId = hs.createRoom(alice.userId);
    hs.join(bob.userId, roomId);

    const state = await call(hs, 'GET', `${V3}/rooms/${enc(roomId)}/state`, { token: bob.accessToken });
    t.equal(state.status, 200);
    t.ok(Array.isArray(state.body));
    for (const ev of state.body) {
      t.notOk('room_id' in ev, `${ev.type} has no room_id`);
      t.match(ev, {
        type: String,
        sender: String,
        event_id: String,
        origin_server_ts: Number,
        state_key: String,
      });
    }

    const outsider = await call(hs, 'GET', `${V3}/rooms/${enc(roomId)}/state`, {
      token: mallory.accessToken,
    });
    t.equal(outsider.status, 403);
    t.equal(outsider.body.errcode, 'M_FORBIDDEN');

    hs.leave(bob.userId, roomId);
    hs.sendState(alice.userId, roomId, 'm.room.topic', '', { topic: 'after bob left' });
    const left = await call(hs, 'GET', `${V3}/rooms/${enc(roomId)}/state`, { token: bob.accessToken });
    t.equal(left.status, 200);
    t.notOk(
      left.body.some((e: { type: string }) => e.type === 'm.room.topic'),
      'state as of the leave, not later',
    );
    t.equal(
      left.body.find((e: { state_key: string }) => e.state_key === bob.userId).content.membership,
      'leave',
    );

    const hs2 = await startTestHomeserver({ serverName: SERVER, stateEventsIncludeRoomId: true });
    t.teardown(() => hs2.close());
    const dave = hs2.createUser('dave');
    const room2 = hs2.createRoom(dave.userId);
    const withIds = await call(hs2, 'GET', `${V3}/rooms/${enc(room2)}/state`, { token: dave.accessToken });
    t.ok(
      withIds.body.every((e: { room_id: string }) => e.room_id === room2),
      'option: the spec/Synapse form',
    );
  },
);

t.test('state events: auth rules, empty state keys, format=event, idempotent send', async (t) => {
  const hs = await startTestHomeserver({ serverName: SERVER });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const bob = hs.createUser('bob');
  const roomId = hs.createRoom(alice.userId);
  hs.join(bob.userId, roomId);
  const room = `${V3}/rooms/${enc(roomId)}`;

  const own = await call(hs, 'PUT', `${room}/state/org.matrix.msc3401.call.member/${enc(bob.userId)}`, {
    token: bob.accessToken,
    body: { memberships: [] },
  });
  t.equal(own.status, 200);
  t.match(own.body.event_id, /^\$/);
  const again = await call(hs, 'PUT', `${room}/state/org.matrix.msc3401.call.member/${enc(bob.userId)}`, {
    token: bob.accessToken,
    body: { memberships: [] },
  });
  t.equal(again.body.event_id, own.body.event_id, 'unchanged state is deduplicated, as Synapse does');

  const others = await call(hs, 'PUT', `${room}/state/org.matrix.msc3401.call.member/${enc(alice.userId)}`, {
    token: bob.accessToken,
    body: { memberships: [] },
  });
  t.equal(others.status, 403, '@-state keys belong to their user');
  t.equal(
    errcodeOf(() => hs.sendState(bob.userId, roomId, 'x.y', alice.userId, {})),
    'M_FORBIDDEN',
  );
  const underscored = `_${bob.userId}_BOBDEV_m.call`;
  t.equal(
    (
      await call(hs, 'PUT', `${room}/state/org.matrix.msc3401.call.member/${enc(underscored)}`, {
        token: bob.accessToken,
        body: { application: 'm.call' },
      })
    ).status,
    200,
    'MSC4143-style keys not starting with @ are allowed',
  );

  const noKey = await call(hs, 'PUT', `${room}/state/m.call`, { token: alice.accessToken, body: { v: 1 } });
  t.equal(noKey.status, 200);
  const slash = await call(hs, 'GET', `${room}/state/m.call/`, { token: bob.accessToken });
  t.same(slash.body, { v: 1 }, 'trailing slash: empty state key');
  const plain = await call(hs, 'GET', `${room}/state/m.call`, { token: bob.accessToken });
  t.same(plain.body, { v: 1 });
  const asEvent = await call(hs, 'GET', `${room}/state/m.call`, {
    token: bob.accessToken,
    query: { format: 'event' },
  });
  t.hasStrict(asEvent.body, { type: 'm.call', state_key: '', room_id: roomId, sender: alice.userId });
  const missing = await call(hs, 'GET', `${room}/state/m.nothing/x`, { token: bob.accessToken });
  t.equal(missing.status, 404);
  t.equal(missing.body.errcode, 'M_NOT_FOUND');

  const send1 = await call(hs, 'PUT', `${room}/send/m.room.message/txn1`, {
    token: bob.accessToken,
    body: { msgtype: 'm.text', body: 'hi' },
  });
  const send2 = await call(hs, 'PUT', `${room}/send/m.room.message/txn1`, {
    token: bob.accessToken,
    body: { msgtype: 'm.text', body: 'hi' },
  });
  t.equal(send1.body.event_id, send2.body.event_id, 'same txnId → same event');

  const mallory = hs.createUser('mallory');
  const outsider = await call(hs, 'PUT', `${room}/state/m.call`, {
    token: mallory.accessToken,
    body: { v: 2 },
  });
  t.equal(outsider.status, 403, 'only joined users send state');
  t.same(hs.rejections, [], 'room-auth refusals are outcomes, not spec violations');
});

t.test('kick, ban and unban', async (t) => {
  const hs = await startTestHomeserver({ serverName: SERVER });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const bob = hs.createUser('bob');
  const roomId = hs.createRoom(alice.userId);
  hs.join(bob.userId, roomId);
  const room = `${V3}/rooms/${enc(roomId)}`;

  t.equal(
    (await call(hs, 'POST', `${room}/kick`, { token: alice.accessToken, body: { user_id: bob.userId } }))
      .status,
    200,
  );
  const kicked = hs.roomState(roomId).find((e) => e.state_key === bob.userId)!;
  t.hasStrict(
    kicked,
    { sender: alice.userId, content: { membership: 'leave' } },
    'kick = leave sent by another',
  );
  const kickAgain = await call(hs, 'POST', `${room}/kick`, {
    token: alice.accessToken,
    body: { user_id: bob.userId },
  });
  t.equal(kickAgain.status, 403);

  hs.join(bob.userId, roomId);
  hs.ban(alice.userId, bob.userId, roomId, 'spam');
  t.equal(hs.roomState(roomId).find((e) => e.state_key === bob.userId)!.content.membership, 'ban');
  t.equal(
    errcodeOf(() => hs.join(bob.userId, roomId)),
    'M_FORBIDDEN',
    'banned users cannot join',
  );
  t.equal(
    (await call(hs, 'POST', `${room}/unban`, { token: alice.accessToken, body: { user_id: bob.userId } }))
      .status,
    200,
  );
  hs.join(bob.userId, roomId);
  t.equal(hs.roomState(roomId).find((e) => e.state_key === bob.userId)!.content.membership, 'join');
});

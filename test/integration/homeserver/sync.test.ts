import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import { call, registration, SERVER, SFU } from './fixtures/helpers.js';

const SYNC = '/_matrix/client/v3/sync';

t.test(
  '/sync fallback: an AS long-polls as its device (MSC3202) and gets to-device sent meanwhile',
  async (t) => {
    const reg = registration(null);
    const hs = await startTestHomeserver({ serverName: SERVER, appservices: [reg] });
    t.teardown(() => hs.close());
    hs.addDevice(SFU, 'SFUDEV1');
    const alice = hs.createUser('alice', { deviceId: 'ALICEDEV' });
    const asDevice = { user_id: SFU, 'org.matrix.msc3202.device_id': 'SFUDEV1' };

    const initial = await call(hs, 'GET', SYNC, {
      token: reg.as_token,
      query: { ...asDevice, timeout: '30000' },
    });
    t.equal(initial.status, 200, 'initial sync answers at once');
    t.match(initial.body.next_batch, /^s\d+$/);
    t.same(initial.body.to_device, { events: [] });

    const started = Date.now();
    const poll = call(hs, 'GET', SYNC, {
      token: reg.as_token,
      query: { ...asDevice, since: initial.body.next_batch, timeout: '10000' },
    });
    setTimeout(() => {
      void call(hs, 'PUT', '/_matrix/client/v3/sendToDevice/m.call.invite/t1', {
        token: alice.accessToken,
        body: { messages: { [SFU]: { SFUDEV1: { call_id: 'c1' } } } },
      });
    }, 100);
    const woke = await poll;
    t.ok(Date.now() - started < 5000, 'woke up on arrival, not at the timeout');
    t.same(woke.body.to_device.events, [
      { type: 'm.call.invite', sender: alice.userId, content: { call_id: 'c1' } },
    ]);

    // Not acknowledged yet: a retry with the same since sees it again.
    const repeat = await call(hs, 'GET', SYNC, {
      token: reg.as_token,
      query: { ...asDevice, since: initial.body.next_batch },
    });
    t.equal(repeat.body.to_device.events.length, 1);

    // Acknowledged by the next since: consumed.
    const next = await call(hs, 'GET', SYNC, {
      token: reg.as_token,
      query: { ...asDevice, since: woke.body.next_batch, timeout: '0' },
    });
    t.same(next.body.to_device.events, []);
    t.same(hs.toDeviceInbox(SFU, 'SFUDEV1'), []);

    // MSC4326 stable parameter name.
    hs.sendToDevice(alice.userId, 'm.call.hangup', { [SFU]: { SFUDEV1: { call_id: 'c1' } } });
    const stable = await call(hs, 'GET', SYNC, {
      token: reg.as_token,
      query: { user_id: SFU, device_id: 'SFUDEV1', since: next.body.next_batch },
    });
    t.same(
      stable.body.to_device.events.map((e: { type: string }) => e.type),
      ['m.call.hangup'],
    );

    const timedOut = Date.now();
    const empty = await call(hs, 'GET', SYNC, {
      token: reg.as_token,
      query: { ...asDevice, since: stable.body.next_batch, timeout: '150' },
    });
    t.ok(Date.now() - timedOut >= 140, 'waits for the timeout when nothing arrives');
    t.same(empty.body.to_device.events, []);
    t.same(empty.body.rooms, { join: {}, invite: {}, leave: {}, knock: {} });
    t.same(hs.rejections, []);
  },
);

t.test('/sync rooms: invite_state, joined state and timeline, leave', async (t) => {
  const hs = await startTestHomeserver({ serverName: SERVER });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const bob = hs.createUser('bob');
  const sync = async (since?: string) =>
    (await call(hs, 'GET', SYNC, { token: bob.accessToken, query: since === undefined ? {} : { since } }))
      .body;

  const roomId = hs.createRoom(alice.userId, { preset: 'private_chat', name: 'Calls' });
  const s0 = await sync();
  t.same(s0.rooms.join, {});

  hs.invite(alice.userId, bob.userId, roomId);
  const s1 = await sync(s0.next_batch);
  const inviteState = s1.rooms.invite[roomId].invite_state.events;
  t.ok(inviteState.some((e: { type: string }) => e.type === 'm.room.name'));
  t.ok(
    inviteState.some(
      (e: { type: string; state_key: string }) => e.type === 'm.room.member' && e.state_key === bob.userId,
    ),
  );
  for (const e of inviteState) {
    t.same(Object.keys(e).sort(), ['content', 'sender', 'state_key', 'type'], 'stripped state');
  }

  hs.join(bob.userId, roomId);
  const s2 = await sync(s1.next_batch);
  const joined = s2.rooms.join[roomId];
  t.ok(
    joined.state.events.some((e: { type: string }) => e.type === 'm.room.create'),
    'state before the join',
  );
  t.same(
    joined.timeline.events.map((e: { type: string; state_key: string }) => [e.type, e.state_key]),
    [['m.room.member', bob.userId]],
  );
  t.ok(
    [...joined.state.events, ...joined.timeline.events].every((e: object) => !('room_id' in e)),
    'sync events have no room_id',
  );

  hs.sendState(alice.userId, roomId, 'org.matrix.msc3401.call.member', alice.userId, { memberships: [] });
  const s3 = await sync(s2.next_batch);
  t.same(s3.rooms.join[roomId].state.events, [], 'no state for an ongoing membership');
  t.same(
    s3.rooms.join[roomId].timeline.events.map((e: { type: string }) => e.type),
    ['org.matrix.msc3401.call.member'],
  );

  hs.kick(alice.userId, bob.userId, roomId);
  const s4 = await sync(s3.next_batch);
  t.same(s4.rooms.join, {});
  t.equal(s4.rooms.leave[roomId].timeline.events.at(-1).content.membership, 'leave');
  const s5 = await sync(s4.next_batch);
  t.same(s5.rooms.leave, {}, 'reported once');
  const initial = await sync();
  t.same(initial.rooms, { join: {}, invite: {}, leave: {}, knock: {} });
});

t.test('/sync timeout is bounded by the server maximum', async (t) => {
  const hs = await startTestHomeserver({ serverName: SERVER, maxSyncTimeoutMs: 100 });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const started = Date.now();
  const res = await call(hs, 'GET', SYNC, {
    token: alice.accessToken,
    query: { since: 's0', timeout: '60000' },
  });
  t.equal(res.status, 200);
  t.ok(Date.now() - started < 2000);
});

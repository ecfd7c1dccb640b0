/**
 * Membership and authorization through the strict test homeserver: start-up identity, bootstrap from
 * room state, revocation by transaction, timer-driven expiry in real time, auto-join on invite.
 */
import t from 'tap';
import type { Revocation } from '../../src/conference/ports.js';
import { CONF, session } from '../fixtures/matrix/events.js';
import type { TestHomeserver } from '../../harness/homeserver/index.js';
import type { Teardown } from '../../harness/sfu.js';
import { startStack, waitFor } from '../../harness/stack.js';

const FOCUS = { user_id: '@sfu:example.org', device_id: 'SFUDEV1' };
const focusRef = { type: 'org.matrix.msc3898', ...FOCUS };
const MEMBER_TYPE = 'org.matrix.msc3401.call.member';

/** The owner's room (call memberships open to all) with Alice and the focus user joined. */
function roomWithFocus(hs: TestHomeserver): { roomId: string; alice: string; owner: string } {
  const owner = hs.createUser('owner').userId;
  const alice = hs.createUser('alice').userId;
  const roomId = hs.createRoom(owner);
  hs.join(alice, roomId);
  hs.invite(owner, FOCUS.user_id, roomId);
  hs.join(FOCUS.user_id, roomId);
  return { roomId, alice, owner };
}

function aliceSession(hs: TestHomeserver, roomId: string, alice: string, over: Record<string, unknown> = {}) {
  return hs.sendState(alice, roomId, MEMBER_TYPE, `_${alice}_ALICEDEV_m.call`, {
    ...session('ALICEDEV', { created_ts: Date.now(), expires: 3_600_000, focus_active: focusRef }),
    ...over,
  });
}

/** A ready SFU and a room with the focus joined and Alice's live membership naming it. */
async function readyWithAlice(t: Teardown) {
  let room = { roomId: '', alice: '', owner: '' };
  const stack = await startStack(t, {
    before: (hs) => {
      room = roomWithFocus(hs);
      aliceSession(hs, room.roomId, room.alice);
    },
  });
  await waitFor(() => stack.sfu.readiness.snapshot()['matrix']?.ok === true, 10_000, 'matrix readiness');
  return { ...stack, room };
}

const query = (roomId: string, user: string) => ({
  roomId,
  userId: user,
  deviceId: 'ALICEDEV',
  confId: CONF,
  focus: FOCUS,
});

t.test(
  'start-up: focus user and device set up, room state bootstrapped, nothing the spec rejects',
  async (t) => {
    let room = { roomId: '', alice: '', owner: '' };
    const { hs, sfu } = await startStack(t, {
      before: (hs) => {
        room = roomWithFocus(hs);
        aliceSession(hs, room.roomId, room.alice);
      },
    });
    await waitFor(() => sfu.readiness.snapshot()['matrix']?.ok === true, 10_000, 'matrix readiness');
    const paths = hs.requests.map((r) => `${r.method} ${r.path}`);
    t.ok(paths.includes('POST /_matrix/client/v3/register'), 'registers the focus user');
    t.ok(paths.includes('PUT /_matrix/client/v3/devices/SFUDEV1'), 'checks the focus device');
    t.ok(
      paths.includes('POST /_matrix/client/v3/login'),
      'creates the device by logging in (no MSC4190 here)',
    );
    t.ok(paths.includes('GET /_matrix/client/v3/joined_rooms'));
    t.ok(paths.some((p) => p.startsWith('GET /_matrix/client/v3/rooms/') && p.endsWith('/state')));
    t.same(hs.rejections, [], 'the homeserver rejected nothing');
    t.same(sfu.membership.authorize(query(room.roomId, room.alice), Date.now()).allowed, true);
    t.match(sfu.membership.authorize({ ...query(room.roomId, room.alice), deviceId: 'OTHER' }, Date.now()), {
      allowed: false,
      reason: 'device_not_listed',
    });
  },
);

t.test('start-up with MSC4190: the device is created by PUT /devices, no login', async (t) => {
  const { hs, sfu } = await startStack(t, { homeserver: { msc4190: true } });
  await waitFor(() => sfu.readiness.snapshot()['matrix']?.ok === true, 10_000, 'matrix readiness');
  const paths = hs.requests.map((r) => `${r.method} ${r.path}`);
  t.ok(paths.includes('PUT /_matrix/client/v3/devices/SFUDEV1'));
  t.notOk(paths.includes('POST /_matrix/client/v3/login'));
  t.same(hs.rejections, []);
});

t.test('appservice login unsupported is a fatal configuration error', async (t) => {
  const { hs, sfu } = await startStack(t, {
    start: false,
  });
  hs.failNext(
    { method: 'POST', path: '/_matrix/client/v3/login' },
    { status: 400, body: { errcode: 'M_APPSERVICE_LOGIN_UNSUPPORTED', error: 'use MSC4190' } },
  );
  const fatal = new Promise<Error>((resolve) => sfu.once('fatal', resolve));
  await sfu.start();
  const err = await fatal;
  t.equal(err.name, 'ConfigError');
  t.match(err.message, /M_APPSERVICE_LOGIN_UNSUPPORTED/);
  t.equal(sfu.readiness.snapshot()['matrix']?.ok, false);
});

t.test('a transaction that removes a membership emits the change', async (t) => {
  const { hs, sfu, room } = await readyWithAlice(t);
  const revoked: Revocation[] = [];
  sfu.membership.on('revoked', (r) => revoked.push(r));
  const sent = Date.now();
  hs.sendState(room.alice, room.roomId, MEMBER_TYPE, `_${room.alice}_ALICEDEV_m.call`, {});
  // The contract is 1 s; the generous bound keeps a loaded CI machine from failing the test.
  await waitFor(() => revoked.length > 0, 5_000, 'revocation');
  const ms = Date.now() - sent;
  t.match(revoked[0], {
    roomId: room.roomId,
    userId: room.alice,
    deviceId: 'ALICEDEV',
    reason: 'left_membership',
  });
  t.comment(`revocation arrived ${ms} ms after the state event was sent`);
  t.match(sfu.membership.authorize(query(room.roomId, room.alice), Date.now()), {
    allowed: false,
    reason: 'no_membership',
  });

  // Kick: the second device's membership is lost with reason "kicked".
  aliceSession(hs, room.roomId, room.alice);
  await waitFor(
    () => sfu.membership.authorize(query(room.roomId, room.alice), Date.now()).allowed,
    5_000,
    're-grant',
  );
  const mod = hs.createUser('mod').userId;
  hs.join(mod, room.roomId);
  const levels = hs.roomState(room.roomId).find((e) => e.type === 'm.room.power_levels')!.content;
  hs.sendState(room.owner, room.roomId, 'm.room.power_levels', '', {
    ...levels,
    users: { ...(levels['users'] as Record<string, number>), [mod]: 50 },
  });
  hs.kick(mod, room.alice, room.roomId);
  await waitFor(() => revoked.some((r) => r.reason === 'kicked'), 5_000, 'kick revocation');
  t.match(sfu.membership.authorize(query(room.roomId, room.alice), Date.now()), {
    allowed: false,
    reason: 'kicked',
  });
});

t.test('real-time expiry with no new event is reported right after the expiry time', async (t) => {
  let room = { roomId: '', alice: '', owner: '' };
  let expiresAt = 0;
  const { sfu } = await startStack(t, {
    before: (hs) => {
      room = roomWithFocus(hs);
      const created = Date.now();
      expiresAt = created + 1500;
      aliceSession(hs, room.roomId, room.alice, { created_ts: created, expires: 1500 });
    },
  });
  const revoked: { r: Revocation; at: number }[] = [];
  sfu.membership.on('revoked', (r) => revoked.push({ r, at: Date.now() }));
  await waitFor(() => sfu.readiness.snapshot()['matrix']?.ok === true, 10_000, 'matrix readiness');
  t.equal(
    sfu.membership.authorize(query(room.roomId, room.alice), Date.now()).allowed,
    true,
    'live before expiry',
  );
  await waitFor(() => revoked.length > 0, expiresAt - Date.now() + 5_000, 'expiry revocation');
  const first = revoked[0]!;
  t.equal(first.r.reason, 'expired');
  t.ok(first.at >= expiresAt, 'never reported before the expiry time');
  t.comment(`expiry reported ${first.at - expiresAt} ms after the expiry time`);
  t.match(sfu.membership.authorize(query(room.roomId, room.alice), Date.now()), {
    allowed: false,
    reason: 'expired',
  });
});

t.test('auto-join: the focus joins a room it is invited to and bootstraps its state', async (t) => {
  const { hs, sfu } = await startStack(t);
  await waitFor(() => sfu.readiness.snapshot()['matrix']?.ok === true, 10_000, 'matrix readiness');
  const alice = hs.createUser('alice').userId;
  const roomId = hs.createRoom(alice);
  aliceSession(hs, roomId, alice);
  hs.invite(alice, FOCUS.user_id, roomId);
  await waitFor(
    () => sfu.membership.authorize(query(roomId, alice), Date.now()).allowed,
    10_000,
    'join + bootstrap',
  );
  t.ok(
    hs.requests.some((r) => r.method === 'POST' && r.path.includes('/join/')),
    'the SFU joined with POST /join',
  );
  t.same(hs.rejections, []);
});

t.test('auto-join refuses rooms outside matrix.auto_join_allow', async (t) => {
  const { hs, sfu } = await startStack(t, { config: { matrix: { auto_join_allow: ['other.example'] } } });
  await waitFor(() => sfu.readiness.snapshot()['matrix']?.ok === true, 10_000, 'matrix readiness');
  const alice = hs.createUser('alice').userId;
  const roomId = hs.createRoom(alice);
  hs.invite(alice, FOCUS.user_id, roomId);
  await hs.pushesSettled();
  await sfu.transactions.drain();
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(
    hs.requests.some((r) => r.method === 'POST' && r.path.includes('/join')),
    'no join attempted',
  );
});

t.test('leaving a room on request forgets its state', async (t) => {
  const { hs, sfu, room } = await readyWithAlice(t);
  const revoked: Revocation[] = [];
  sfu.membership.on('revoked', (r) => revoked.push(r));
  await sfu.membership.leaveRoom(room.roomId);
  t.ok(
    hs.requests.some((r) => r.method === 'POST' && r.path.endsWith('/leave')),
    'POST /rooms/{id}/leave sent',
  );
  t.match(revoked, [{ userId: room.alice, reason: 'room_forgotten' }]);
  t.match(sfu.membership.authorize(query(room.roomId, room.alice), Date.now()), {
    allowed: false,
    reason: 'unknown_room',
  });
  t.same(hs.rejections, []);
});

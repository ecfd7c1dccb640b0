/**
 * Power levels in the test homeserver's room auth rules (m.room.power_levels.yaml and the room versions' auth
 * rules): event levels for state and message events, invite/kick/ban levels (only of users below the sender),
 * the rules on changing m.room.power_levels, malformed levels refused, and the createRoom defaults
 * (call memberships open in the helper's rooms, state_default 50 over HTTP, trusted_private_chat invitees at
 * 100). Refusals are ordinary outcomes (403 M_FORBIDDEN), never spec violations.
 */
import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import { call, enc, SERVER } from './fixtures/helpers.js';
import type { Teardown } from '../../../harness/sfu.js';

const V3 = '/_matrix/client/v3';
const CALL_MEMBER = 'org.matrix.msc3401.call.member';

async function setup(t: Teardown) {
  const hs = await startTestHomeserver({ serverName: SERVER });
  t.teardown(() => hs.close());
  const owner = hs.createUser('owner');
  const mod = hs.createUser('mod');
  const bob = hs.createUser('bob');
  return { hs, owner, mod, bob };
}

function errcodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { errcode?: string }).errcode;
  }
  return undefined;
}

t.test('call memberships: open in the helper’s rooms, refused where the room asks for a level', async (t) => {
  const { hs, owner, bob } = await setup(t);
  const open = hs.createRoom(owner.userId);
  const closed = hs.createRoom(owner.userId, {
    power_level_content_override: { events: { [CALL_MEMBER]: 50 } },
  });
  hs.join(bob.userId, open);
  hs.join(bob.userId, closed);
  const key = `_${bob.userId}_BOBDEV_m.call`;
  const put = (roomId: string) =>
    call(hs, 'PUT', `${V3}/rooms/${enc(roomId)}/state/${CALL_MEMBER}/${enc(key)}`, {
      token: bob.accessToken,
      body: {},
    });
  t.equal((await put(open)).status, 200, 'a member at level 0 joins calls in a call room');
  const refused = await put(closed);
  t.equal(refused.status, 403);
  t.equal(refused.body.errcode, 'M_FORBIDDEN');
  t.match(refused.body.error, /power level 50 .*yours is 0/);
  t.same(hs.rejections, [], 'a refusal by power level is an outcome, not a spec violation');
});

t.test('HTTP createRoom keeps the spec defaults: state events need 50, messages 0', async (t) => {
  const { hs, owner, bob } = await setup(t);
  const created = await call(hs, 'POST', `${V3}/createRoom`, {
    token: owner.accessToken,
    body: { preset: 'public_chat' },
  });
  const roomId = created.body.room_id as string;
  hs.join(bob.userId, roomId);
  const room = `${V3}/rooms/${enc(roomId)}`;
  const name = await call(hs, 'PUT', `${room}/state/m.room.name/`, {
    token: bob.accessToken,
    body: { name: 'mine' },
  });
  t.equal(name.status, 403, 'state_default 50');
  const msg = await call(hs, 'PUT', `${room}/send/m.room.message/t1`, {
    token: bob.accessToken,
    body: { msgtype: 'm.text', body: 'hi' },
  });
  t.equal(msg.status, 200, 'events_default 0');
  t.equal(
    (
      await call(hs, 'PUT', `${room}/state/m.room.name/`, {
        token: owner.accessToken,
        body: { name: 'ours' },
      })
    ).status,
    200,
    'the creator has 100',
  );
  const quiet = hs.createRoom(owner.userId, { power_level_content_override: { events_default: 10 } });
  hs.join(bob.userId, quiet);
  t.equal(
    errcodeOf(() => hs.sendMessage(bob.userId, quiet, 'm.room.message', { body: 'x' })),
    'M_FORBIDDEN',
  );
  t.same(hs.rejections, []);
});

t.test('invite, kick, ban and unban: the action’s level, and only users below the sender', async (t) => {
  const { hs, owner, mod, bob } = await setup(t);
  const carol = hs.createUser('carol');
  const roomId = hs.createRoom(owner.userId, {
    power_level_content_override: { users: { [owner.userId]: 100, [mod.userId]: 50 }, invite: 50 },
  });
  hs.join(mod.userId, roomId);
  hs.join(bob.userId, roomId);
  t.equal(
    errcodeOf(() => hs.invite(bob.userId, carol.userId, roomId)),
    'M_FORBIDDEN',
    'invite needs 50',
  );
  hs.invite(mod.userId, carol.userId, roomId);
  t.equal(
    errcodeOf(() => hs.kick(bob.userId, mod.userId, roomId)),
    'M_FORBIDDEN',
    'kick needs 50',
  );
  t.equal(
    errcodeOf(() => hs.kick(mod.userId, owner.userId, roomId)),
    'M_FORBIDDEN',
    'not above the owner',
  );
  const kicked = await call(hs, 'POST', `${V3}/rooms/${enc(roomId)}/kick`, {
    token: mod.accessToken,
    body: { user_id: bob.userId },
  });
  t.equal(kicked.status, 200, 'a moderator kicks a member');
  hs.ban(mod.userId, bob.userId, roomId);
  t.equal(hs.roomState(roomId).find((e) => e.state_key === bob.userId)?.content['membership'], 'ban');
  hs.join(carol.userId, roomId);
  const unban = await call(hs, 'POST', `${V3}/rooms/${enc(roomId)}/unban`, {
    token: carol.accessToken,
    body: { user_id: bob.userId },
  });
  t.equal(unban.status, 403, 'unban needs the ban level');
  t.equal(
    errcodeOf(() => hs.ban(mod.userId, owner.userId, roomId)),
    'M_FORBIDDEN',
  );
  t.same(hs.rejections, []);
});

t.test('changing m.room.power_levels: nothing above the sender’s own level', async (t) => {
  const { hs, owner, mod, bob } = await setup(t);
  const base = { users: { [owner.userId]: 100, [mod.userId]: 50 }, state_default: 50 };
  const roomId = hs.createRoom(owner.userId, { power_level_content_override: base });
  hs.join(mod.userId, roomId);
  hs.join(bob.userId, roomId);
  const levels = () => hs.roomState(roomId).find((e) => e.type === 'm.room.power_levels')!.content;
  const withUsers = (users: Record<string, number>) => ({
    ...levels(),
    users: { ...(levels()['users'] as Record<string, number>), ...users },
  });
  const send = (who: string, content: Record<string, unknown>) =>
    errcodeOf(() => hs.sendState(who, roomId, 'm.room.power_levels', '', content));
  t.equal(send(bob.userId, withUsers({ [bob.userId]: 10 })), 'M_FORBIDDEN', 'a member may not change them');
  t.equal(send(mod.userId, withUsers({ [mod.userId]: 60 })), 'M_FORBIDDEN', 'nor raise oneself');
  t.equal(send(mod.userId, withUsers({ [owner.userId]: 40 })), 'M_FORBIDDEN', 'nor lower a higher user');
  t.equal(send(mod.userId, { ...levels(), kick: 75 }), 'M_FORBIDDEN', 'nor set a level above one’s own');
  t.equal(
    send(mod.userId, { ...levels(), events: { [CALL_MEMBER]: 80 } }),
    'M_FORBIDDEN',
    'nor an event level above one’s own',
  );
  t.equal(send(mod.userId, withUsers({ [bob.userId]: 50 })), undefined, 'up to one’s own level: allowed');
  t.equal(send(mod.userId, withUsers({ [bob.userId]: 0 })), 'M_FORBIDDEN', 'a peer’s level is not below');
  t.equal(send(mod.userId, withUsers({ [mod.userId]: 10 })), undefined, 'lowering oneself is allowed');
  t.equal(send(owner.userId, { ...levels(), kick: 'fifty' }), 'M_BAD_JSON', 'levels are integers');
  t.equal(send(owner.userId, { ...levels(), users: { bob: 1 } }), 'M_BAD_JSON', 'users are user ids');
});

t.test(
  'createRoom: a malformed override creates nothing; trusted_private_chat invitees get 100',
  async (t) => {
    const { hs, owner, bob } = await setup(t);
    const before = (await call(hs, 'GET', `${V3}/joined_rooms`, { token: owner.accessToken })).body
      .joined_rooms.length as number;
    const bad = await call(hs, 'POST', `${V3}/createRoom`, {
      token: owner.accessToken,
      body: { power_level_content_override: { ban: 1.5 } },
    });
    t.equal(bad.status, 400);
    t.equal(bad.body.errcode, 'M_BAD_JSON');
    const after = (await call(hs, 'GET', `${V3}/joined_rooms`, { token: owner.accessToken })).body
      .joined_rooms.length as number;
    t.equal(after, before, 'no room was created');
    const trusted = await call(hs, 'POST', `${V3}/createRoom`, {
      token: owner.accessToken,
      body: { preset: 'trusted_private_chat', invite: [bob.userId], is_direct: true },
    });
    const levels = hs
      .roomState(trusted.body.room_id as string)
      .find((e) => e.type === 'm.room.power_levels')!;
    t.same(levels.content['users'], { [owner.userId]: 100, [bob.userId]: 100 });
  },
);

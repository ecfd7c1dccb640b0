// Which conferences a restarted focus rebuilds from room state (protocol.md §8.7): the store's live conferences
// (any membership format) where one live membership names this focus and one another focus; malformed state,
// expiry, room membership, termination, room-wide memberships and the cap. Tables over `GET /state` answers.
import t from 'tap';
import { MembershipStore } from '../../../../src/appservice/membership/store.js';
import { planRebuild } from '../../../../src/appservice/membership/rebuildPlan.js';
import {
  ALICE,
  BOB,
  call,
  CAROL,
  CONF,
  HOUR,
  legacy,
  member,
  memberships,
  OTHER_CONF,
  REMOTE_SFU,
  ROOM,
  ROOM2,
  rtc,
  SFU,
  session,
  sessionEvent,
  T0,
} from '../../../fixtures/matrix/events.js';

const REMOTE_ACTIVE = { type: 'org.matrix.msc3898', ...REMOTE_SFU };
const LOCAL_ACTIVE = { type: 'org.matrix.msc3898', ...SFU };

/** Format (c) membership of `user` in CONF (conference-specific) naming `focus`. */
function inConf(user: string, dev: string, focus = LOCAL_ACTIVE, over: Record<string, unknown> = {}) {
  return sessionEvent(
    user,
    dev,
    session(dev, { call_id: CONF, scope: 'm.room', focus_active: focus, ...over }),
  );
}

const JOINED = [member(ALICE, 'join'), member(BOB, 'join'), member(CAROL, 'join')];

function plan(state: readonly unknown[], now = T0, max = 100, rooms: readonly string[] = [ROOM]) {
  const store = new MembershipStore();
  for (const roomId of rooms) {
    store.bootstrapRoom(roomId, state, T0);
  }
  return planRebuild(store, SFU, now, max);
}

function keys(p: ReturnType<typeof plan>): string[] {
  return p.conferences.map((c) => `${c.roomId}|${c.confId}|${c.peers.map((f) => f.user_id).join(',')}`);
}

t.test('rebuild targets by room state (one row per GET /state answer)', async (t) => {
  const rows: { why: string; state: unknown[]; now?: number; want: string[]; local?: number }[] = [
    {
      why: 'format (c): alice names this focus, bob the remote one',
      state: [...JOINED, inConf(ALICE, 'AD'), inConf(BOB, 'BD', REMOTE_ACTIVE)],
      want: [`${ROOM}|${CONF}|${REMOTE_SFU.user_id}`],
    },
    {
      why: 'only this focus named: nothing to link',
      state: [...JOINED, inConf(ALICE, 'AD'), inConf(BOB, 'BD')],
      want: [],
      local: 1,
    },
    {
      why: 'only the remote focus named: not ours',
      state: [...JOINED, inConf(BOB, 'BD', REMOTE_ACTIVE)],
      want: [],
      local: 1,
    },
    {
      why: 'a room-wide membership naming this focus counts toward a conference named by another',
      state: [...JOINED, sessionEvent(ALICE, 'AD', session('AD')), inConf(BOB, 'BD', REMOTE_ACTIVE)],
      want: [`${ROOM}|${CONF}|${REMOTE_SFU.user_id}`],
    },
    {
      why: 'room-wide memberships only: no conf_id to rebuild',
      state: [
        ...JOINED,
        sessionEvent(ALICE, 'AD', session('AD')),
        sessionEvent(BOB, 'BD', session('BD', { focus_active: REMOTE_ACTIVE })),
      ],
      want: [],
    },
    {
      why: 'the remote member expired',
      state: [...JOINED, inConf(ALICE, 'AD'), inConf(BOB, 'BD', REMOTE_ACTIVE, { expires: 1000 })],
      now: T0 + 1000,
      want: [],
      local: 1,
    },
    {
      why: 'our member left the room',
      state: [
        member(ALICE, 'leave'),
        member(BOB, 'join'),
        inConf(ALICE, 'AD'),
        inConf(BOB, 'BD', REMOTE_ACTIVE),
      ],
      want: [],
      local: 1,
    },
    {
      why: 'format (a) legacy m.calls and format (b) memberships, two conferences',
      state: [
        ...JOINED,
        legacy(ALICE, [{ deviceId: 'AD', expiresTs: T0 + HOUR }]),
        memberships(BOB, [rtc('BD', { call_id: CONF, foci_active: [REMOTE_ACTIVE] })]),
        legacy(CAROL, [{ deviceId: 'CD', callId: OTHER_CONF, expiresTs: T0 + HOUR, foci: [REMOTE_SFU] }]),
      ],
      want: [`${ROOM}|${CONF}|${REMOTE_SFU.user_id}`],
      local: 1,
    },
    {
      why: 'a terminated format (a) conference is not rebuilt',
      state: [
        ...JOINED,
        legacy(ALICE, [{ deviceId: 'AD', expiresTs: T0 + HOUR }]),
        legacy(BOB, [{ deviceId: 'BD', expiresTs: T0 + HOUR, foci: [REMOTE_SFU] }]),
        call(CONF, { 'm.terminated': 'call_ended' }),
      ],
      want: [],
    },
    {
      why: 'malformed memberships and junk events are skipped, the good ones still count',
      state: [
        ...JOINED,
        null,
        42,
        'x',
        [],
        { type: 'org.matrix.msc3401.call.member' },
        { type: 'org.matrix.msc3401.call.member', state_key: 7, content: {} },
        sessionEvent(CAROL, 'CD', { call_id: CONF, focus_active: 'nope', device_id: 5 }),
        sessionEvent(
          CAROL,
          'CE',
          session('CE', { call_id: CONF, focus_active: { user_id: REMOTE_SFU.user_id } }),
        ),
        memberships(CAROL, [null, { call_id: {} }, rtc('CF', { foci_active: 'x' })]),
        inConf(ALICE, 'AD'),
        inConf(BOB, 'BD', REMOTE_ACTIVE),
      ],
      want: [`${ROOM}|${CONF}|${REMOTE_SFU.user_id}`],
    },
  ];
  for (const row of rows) {
    const p = plan(row.state, row.now);
    t.same(keys(p), row.want, row.why);
    if (row.local !== undefined) {
      t.equal(p.local, row.local, `${row.why}: counted as local`);
    }
  }
});

t.test('a huge room list: the cap keeps the first rooms in order and counts the rest', async (t) => {
  const rooms = Array.from({ length: 3000 }, (_, i) => `!r${String(i).padStart(5, '0')}:example.org`);
  const state = [...JOINED, inConf(ALICE, 'AD'), inConf(BOB, 'BD', REMOTE_ACTIVE)];
  const p = plan(state, T0, 100, rooms);
  t.equal(p.conferences.length, 100);
  t.equal(p.skipped, 2900);
  t.equal(p.conferences[0]?.roomId, rooms[0]);
  t.equal(p.conferences[99]?.roomId, rooms[99]);
  t.same(plan(state, T0, 0, [ROOM, ROOM2]).conferences, [], 'cap 0: nothing');
});

t.test('several foci: every other focus is a peer, sorted', async (t) => {
  const third = { type: 'org.matrix.msc3898', user_id: '@sfu:third.example', device_id: 'T' };
  const p = plan([
    ...JOINED,
    inConf(ALICE, 'AD'),
    inConf(BOB, 'BD', REMOTE_ACTIVE),
    inConf(CAROL, 'CD', third),
  ]);
  t.same(
    p.conferences[0]?.peers.map((f) => f.user_id),
    [REMOTE_SFU.user_id, '@sfu:third.example'],
  );
});

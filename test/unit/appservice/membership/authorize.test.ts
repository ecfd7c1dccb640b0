// The authorization matrix (protocol.md §3.7), deny precedence, room resolution (§3.6) and fociInUse.
import t from 'tap';
import { MembershipStore } from '../../../../src/appservice/membership/store.js';
import {
  ALICE,
  BOB,
  CAROL,
  CONF,
  HOUR,
  MOD,
  OTHER_CONF,
  REMOTE_SFU,
  ROOM,
  ROOM2,
  SFU,
  SFU2,
  T0,
  call,
  fixture,
  legacy,
  member,
  memberships,
  q,
  rtc,
  sessionEvent,
  session,
  storeWith,
} from '../../../fixtures/matrix/events.js';

const DAVE = '@dave:example.org';
const EVE = '@eve:example.org';
const FRANK = '@frank:example.org';
const GRACE = '@grace:example.org';
const HEIDI = '@heidi:example.org';
const DEAD = '1690000000000dEaD';

/** Two rooms with one user in each situation the matrix needs. */
function world(): MembershipStore {
  return storeWith([
    member(ALICE, 'join'),
    fixture('m.call/prompt.json'),
    legacy(ALICE, [
      { deviceId: 'ALICEDEV', sessionId: 's-alice-1', expiresTs: T0 + HOUR },
      { deviceId: 'OLD', expiresTs: T0 - 1 },
      { deviceId: 'ELSE', callId: OTHER_CONF, expiresTs: T0 + HOUR },
      { deviceId: 'LK', expiresTs: T0 + HOUR, foci: [REMOTE_SFU] },
      { deviceId: 'DEADDEV', callId: DEAD, expiresTs: T0 + HOUR },
    ]),
    call(DEAD, { 'm.terminated': 'call_ended' }),
    member(BOB, 'join'),
    fixture('m.call.member/memberships.json'),
    member(CAROL, 'join', { ts: T0 - 20_000 }),
    sessionEvent(CAROL, 'CAROLDEV', session('CAROLDEV', { focus_active: SFU2 })),
    member(CAROL, 'leave'),
    member(DAVE, 'join', { ts: T0 - 20_000 }),
    memberships(DAVE, [rtc('DAVEDEV')]),
    member(DAVE, 'leave', { sender: MOD }),
    member(EVE, 'join', { ts: T0 - 20_000 }),
    memberships(EVE, [rtc('EVEDEV')]),
    member(EVE, 'ban', { sender: MOD }),
    member(FRANK, 'invite', { sender: ALICE }),
    memberships(FRANK, [rtc('FRANKDEV')]),
    member(GRACE, 'join'),
    member(HEIDI, 'join'),
    memberships(HEIDI, [rtc('HEIDIDEV')], { ts: T0 - 5 }),
    memberships(HEIDI, [], { ts: T0 }),
    // the second room: Bob room-wide again (ambiguous without room_id), Alice with another device only
    member(ALICE, 'join', { roomId: ROOM2 }),
    memberships(ALICE, [rtc('ALICE2')], { roomId: ROOM2 }),
    member(BOB, 'join', { roomId: ROOM2 }),
    memberships(BOB, [rtc('BOBDEV')], { roomId: ROOM2 }),
  ]);
}

t.test('authorization matrix: each case with its exact reason', async (t) => {
  const store = world();
  const rows: [name: string, query: ReturnType<typeof q>, expected: unknown][] = [
    [
      'member naming this focus',
      q(ALICE, 'ALICEDEV'),
      { allowed: true, expiresAt: T0 + HOUR, sessionId: 's-alice-1' },
    ],
    [
      'room-wide membership, any conf',
      q(BOB, 'BOBDEV', { confId: 'whatever' }),
      { allowed: true, expiresAt: T0 + HOUR },
    ],
    ['invited, not joined', q(FRANK, 'FRANKDEV'), { allowed: false, reason: 'not_joined' }],
    ['no m.room.member at all', q('@stranger:example.org', 'X'), { allowed: false, reason: 'not_joined' }],
    ['expired membership', q(ALICE, 'OLD'), { allowed: false, reason: 'expired' }],
    ['membership of another call', q(ALICE, 'ELSE'), { allowed: false, reason: 'wrong_call' }],
    [
      'unknown room',
      q(ALICE, 'ALICEDEV', { roomId: '!nope:example.org' }),
      { allowed: false, reason: 'unknown_room' },
    ],
    [
      'membership only in the other room',
      q(ALICE, 'ALICEDEV', { roomId: ROOM2 }),
      { allowed: false, reason: 'device_not_listed' },
    ],
    ['names another focus', q(ALICE, 'LK'), { allowed: false, reason: 'other_focus' }],
    [
      'asks for another focus',
      q(ALICE, 'ALICEDEV', { focus: SFU2 }),
      { allowed: false, reason: 'other_focus' },
    ],
    ['device not listed', q(ALICE, 'NOPE'), { allowed: false, reason: 'device_not_listed' }],
    ['left the room', q(CAROL, 'CAROLDEV'), { allowed: false, reason: 'left_room' }],
    ['kicked', q(DAVE, 'DAVEDEV'), { allowed: false, reason: 'kicked' }],
    ['banned', q(EVE, 'EVEDEV'), { allowed: false, reason: 'banned' }],
    ['terminated call', q(ALICE, 'DEADDEV', { confId: DEAD }), { allowed: false, reason: 'call_terminated' }],
    ['joined, no call membership', q(GRACE, 'G'), { allowed: false, reason: 'no_membership' }],
    ['membership emptied', q(HEIDI, 'HEIDIDEV'), { allowed: false, reason: 'no_membership' }],
  ];
  for (const [name, query, expected] of rows) {
    t.same(store.authorize(query, T0), expected, name);
  }
});

t.test('deny precedence: the earliest failing check wins', async (t) => {
  const store = world();
  store.applyEvent(
    memberships(GRACE, [rtc('GDEV', { call_id: OTHER_CONF, scope: 'm.user', expires: -1 })]),
    T0,
  );
  store.applyEvent(
    memberships(BOB, [rtc('MIX', { expires: -1 }), rtc('MIX', { foci_active: [REMOTE_SFU] })], {
      type: 'm.call.member',
    }),
    T0,
  );
  const rows: [name: string, query: ReturnType<typeof q>, reason: string][] = [
    ['unknown_room before everything', q(EVE, 'EVEDEV', { roomId: '!nope:example.org' }), 'unknown_room'],
    ['banned before call_terminated', q(EVE, 'EVEDEV', { confId: DEAD }), 'banned'],
    ['not_joined before call_terminated', q(FRANK, 'FRANKDEV', { confId: DEAD }), 'not_joined'],
    ['call_terminated before no_membership', q(HEIDI, 'HEIDIDEV', { confId: DEAD }), 'call_terminated'],
    ['call_terminated before device_not_listed', q(ALICE, 'NOPE', { confId: DEAD }), 'call_terminated'],
    ['device_not_listed before expired', q(ALICE, 'NOPE'), 'device_not_listed'],
    ['wrong_call before expired', q(GRACE, 'GDEV'), 'wrong_call'],
    ['other_focus before expired', q(BOB, 'MIX'), 'other_focus'],
  ];
  for (const [name, query, reason] of rows) {
    t.same(store.authorize(query, T0), { allowed: false, reason }, name);
  }
});

t.test('several granting memberships: the latest expiry counts', async (t) => {
  const store = storeWith([
    member(BOB, 'join'),
    memberships(BOB, [
      rtc('B', { expires: 1000 }),
      rtc('B', { call_id: CONF, scope: 'm.user', expires: 5000 }),
    ]),
    memberships(BOB, [rtc('B', { expires: 3000 })], { type: 'm.call.member' }),
  ]);
  t.same(store.authorize(q(BOB, 'B'), T0), { allowed: true, expiresAt: T0 + 5000 });
  t.same(store.authorize(q(BOB, 'B', { confId: OTHER_CONF }), T0), { allowed: true, expiresAt: T0 + 3000 });
  t.same(store.authorize(q(BOB, 'B', { confId: OTHER_CONF }), T0 + 3000), {
    allowed: false,
    reason: 'expired',
  });
});

t.test('resolveRoom', async (t) => {
  const store = world();
  const rows: [
    name: string,
    query: Parameters<MembershipStore['resolveRoom']>[0],
    now: number,
    expected: unknown,
  ][] = [
    [
      'one room',
      { userId: ALICE, deviceId: 'ALICEDEV', confId: CONF, focus: SFU },
      T0,
      { kind: 'room', roomId: ROOM },
    ],
    [
      'ambiguous without room_id',
      { userId: BOB, deviceId: 'BOBDEV', confId: CONF, focus: SFU },
      T0,
      { kind: 'ambiguous', roomIds: [ROOM, ROOM2] },
    ],
    [
      'room_id given is returned as-is',
      { userId: BOB, deviceId: 'BOBDEV', confId: CONF, focus: SFU, roomId: '!nope:example.org' },
      T0,
      { kind: 'room', roomId: '!nope:example.org' },
    ],
    [
      'no membership anywhere',
      { userId: GRACE, deviceId: 'G', confId: CONF, focus: SFU },
      T0,
      { kind: 'none' },
    ],
    [
      'names another focus',
      { userId: ALICE, deviceId: 'LK', confId: CONF, focus: SFU },
      T0,
      { kind: 'none' },
    ],
    [
      'other focus asking',
      { userId: ALICE, deviceId: 'LK', confId: CONF, focus: REMOTE_SFU },
      T0,
      { kind: 'room', roomId: ROOM },
    ],
    [
      'expired',
      { userId: ALICE, deviceId: 'ALICEDEV', confId: CONF, focus: SFU },
      T0 + HOUR,
      { kind: 'none' },
    ],
    ['kicked', { userId: DAVE, deviceId: 'DAVEDEV', confId: CONF, focus: SFU }, T0, { kind: 'none' }],
    [
      'terminated call',
      { userId: ALICE, deviceId: 'DEADDEV', confId: DEAD, focus: SFU },
      T0,
      { kind: 'none' },
    ],
    ['wrong call', { userId: ALICE, deviceId: 'ELSE', confId: CONF, focus: SFU }, T0, { kind: 'none' }],
  ];
  for (const [name, query, now, expected] of rows) {
    t.same(store.resolveRoom(query, now), expected, name);
  }
});

t.test('fociInUse: distinct active foci of live memberships of the conference, sorted', async (t) => {
  const store = world();
  store.applyEvent(memberships(GRACE, [rtc('G', { foci_active: [SFU2, SFU] })]), T0);
  t.same(store.fociInUse(ROOM, CONF, T0), [SFU, SFU2, REMOTE_SFU]);
  t.same(store.fociInUse(ROOM, OTHER_CONF, T0), [SFU, SFU2], 'room-wide ones, plus ELSE naming SFU');
  t.same(store.fociInUse(ROOM, DEAD, T0), [], 'terminated');
  t.same(store.fociInUse('!nope:example.org', CONF, T0), [], 'unknown room');
  t.same(store.fociInUse(ROOM, CONF, T0 + HOUR), [], 'all expired');
});

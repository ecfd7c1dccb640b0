// fociPresence (protocol.md §8.1): per active focus, the distinct live (user, device) pairs of the conference
// naming it — what link triggers and link authorization count.
import t from 'tap';
import {
  ALICE,
  BOB,
  CAROL,
  CONF,
  HOUR,
  OTHER_CONF,
  REMOTE_SFU,
  ROOM,
  SFU,
  T0,
  call,
  legacy,
  member,
  memberships,
  rtc,
  storeWith,
} from '../../../fixtures/matrix/events.js';

t.test('counts distinct live members per named focus, sorted like fociInUse', async (t) => {
  const store = storeWith([
    member(ALICE, 'join'),
    legacy(ALICE, [
      { deviceId: 'A1', expiresTs: T0 + HOUR },
      { deviceId: 'A2', expiresTs: T0 + HOUR },
      { deviceId: 'A3', expiresTs: T0 + HOUR, foci: [REMOTE_SFU] },
      { deviceId: 'OLD', expiresTs: T0 - 1, foci: [REMOTE_SFU] },
      { deviceId: 'ELSE', callId: OTHER_CONF, expiresTs: T0 + HOUR, foci: [REMOTE_SFU] },
    ]),
    member(BOB, 'join'),
    // Room-wide: counts for every conf_id of the room, naming both foci.
    memberships(BOB, [rtc('BOBDEV', { foci_active: [{ type: 'org.matrix.msc3898', ...SFU }, REMOTE_SFU] })]),
    member(CAROL, 'join', { ts: T0 - 20_000 }),
    memberships(CAROL, [rtc('CAROLDEV', { foci_active: [REMOTE_SFU] })]),
    member(CAROL, 'leave'),
  ]);
  t.same(store.fociPresence(ROOM, CONF, T0), [
    { focus: SFU, liveMembers: 3 },
    { focus: REMOTE_SFU, liveMembers: 2 },
  ]);
  t.same(
    store.fociPresence(ROOM, OTHER_CONF, T0),
    [
      { focus: SFU, liveMembers: 1 },
      { focus: REMOTE_SFU, liveMembers: 2 },
    ],
    'ELSE and the room-wide BOBDEV; CAROL left the room',
  );
  t.same(
    store.fociPresence(ROOM, CONF, T0 + HOUR - 1),
    [
      { focus: SFU, liveMembers: 3 },
      { focus: REMOTE_SFU, liveMembers: 2 },
    ],
    'live until the expiry',
  );
  t.same(store.fociPresence(ROOM, CONF, T0 + HOUR), [], 'all expired at T0 + 1 h');
  t.same(store.fociPresence('!nope:example.org', CONF, T0), [], 'unknown room');
});

t.test('a terminated conference names no focus', async (t) => {
  const store = storeWith([
    member(ALICE, 'join'),
    legacy(ALICE, [{ deviceId: 'A1', expiresTs: T0 + HOUR, foci: [REMOTE_SFU] }]),
    call(CONF, { 'm.terminated': 'call_ended' }),
  ]);
  t.same(store.fociPresence(ROOM, CONF, T0), []);
});

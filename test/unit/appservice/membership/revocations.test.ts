// Revocations (protocol.md §3.7): each loss reported once with its reason; expire(), nextExpiry(),
// bootstrapRoom() and forgetRoom().
import t from 'tap';
import type { Revocation } from '../../../../src/conference/ports.js';
import { MembershipStore } from '../../../../src/appservice/membership/store.js';
import {
  ALICE,
  BOB,
  CAROL,
  CONF,
  HOUR,
  MOD,
  REMOTE_SFU,
  ROOM,
  SFU,
  SFU2,
  T0,
  call,
  fixture,
  fixtureList,
  legacy,
  member,
  memberships,
  q,
  rtc,
  session,
  sessionEvent,
  storeWith,
} from '../../../fixtures/matrix/events.js';

function rev(userId: string, deviceId: string, reason: string, over: Partial<Revocation> = {}): Revocation {
  return { roomId: ROOM, userId, deviceId, callId: CONF, reason, foci: [SFU], ...over } as Revocation;
}

const wide = { callId: '', scope: 'm.room' } as const;

t.test('each change yields exactly one revocation with the right reason', async (t) => {
  const base = (): MembershipStore =>
    storeWith([
      member(ALICE, 'join'),
      fixture('m.call/prompt.json'),
      legacy(ALICE, [{ deviceId: 'ALICEDEV', expiresTs: T0 + HOUR }]),
      member(BOB, 'join'),
      memberships(BOB, [rtc('BOBDEV')]),
      member(CAROL, 'join'),
      sessionEvent(CAROL, 'CAROLDEV', session('CAROLDEV')),
    ]);
  const later = { ts: T0 + 1 };
  const rows: [name: string, event: unknown, expected: Revocation[]][] = [
    ['(a) content emptied', legacy(ALICE, [], later), [rev(ALICE, 'ALICEDEV', 'left_membership')]],
    [
      '(a) replaced without that device',
      legacy(ALICE, [{ deviceId: 'PHONE', expiresTs: T0 + HOUR }], later),
      [rev(ALICE, 'ALICEDEV', 'left_membership')],
    ],
    ['(b) membership removed', memberships(BOB, [], later), [rev(BOB, 'BOBDEV', 'left_membership', wide)]],
    [
      '(c) {} = left',
      { ...fixture('m.call.member/session-left.json'), state_key: '_@carol:example.org_CAROLDEV_m.call' },
      [rev(CAROL, 'CAROLDEV', 'left_membership', wide)],
    ],
    ['leave', member(ALICE, 'leave', later), [rev(ALICE, 'ALICEDEV', 'left_room')]],
    ['kick', member(BOB, 'leave', { ...later, sender: MOD }), [rev(BOB, 'BOBDEV', 'kicked', wide)]],
    ['ban', member(CAROL, 'ban', { ...later, sender: MOD }), [rev(CAROL, 'CAROLDEV', 'banned', wide)]],
    ['termination', fixture('m.call/terminated.json'), [rev(ALICE, 'ALICEDEV', 'call_terminated')]],
    [
      '(a) focus changed',
      legacy(ALICE, [{ deviceId: 'ALICEDEV', expiresTs: T0 + HOUR, foci: [SFU2] }], later),
      [rev(ALICE, 'ALICEDEV', 'focus_removed')],
    ],
    [
      '(b) focus replaced by a remote one',
      memberships(BOB, [rtc('BOBDEV', { foci_active: [REMOTE_SFU] })], later),
      [rev(BOB, 'BOBDEV', 'focus_removed', wide)],
    ],
    [
      '(c) focus_active replaced by a livekit one',
      sessionEvent(CAROL, 'CAROLDEV', session('CAROLDEV', { focus_active: { type: 'livekit' } }), later),
      [rev(CAROL, 'CAROLDEV', 'focus_removed', wide)],
    ],
  ];
  for (const [name, event, expected] of rows) {
    const store = base();
    t.same(store.applyEvent(event, T0 + 1).revocations, expected, name);
    t.same(store.expire(T0 + 1), [], `${name}: nothing left to report`);
  }
});

t.test('changes that keep every focus revoke nothing', async (t) => {
  const store = storeWith([
    member(ALICE, 'join'),
    legacy(ALICE, [{ deviceId: 'ALICEDEV', expiresTs: T0 + HOUR }]),
    member(BOB, 'join'),
    memberships(BOB, [rtc('NOFOCUS', { foci_active: [] })]),
  ]);
  const rows: [name: string, event: unknown][] = [
    [
      'refresh with a later expiry',
      legacy(ALICE, [{ deviceId: 'ALICEDEV', expiresTs: T0 + 2 * HOUR }], { ts: T0 + 1 }),
    ],
    [
      'a focus added',
      legacy(ALICE, [{ deviceId: 'ALICEDEV', expiresTs: T0 + 2 * HOUR, foci: [SFU, SFU2] }], { ts: T0 + 2 }),
    ],
    [
      'another device added',
      legacy(
        ALICE,
        [
          { deviceId: 'ALICEDEV', expiresTs: T0 + HOUR, foci: [SFU, SFU2] },
          { deviceId: 'P', expiresTs: T0 + HOUR },
        ],
        { ts: T0 + 3 },
      ),
    ],
    ['a membership naming no focus removed', memberships(BOB, [], { ts: T0 + 4 })],
    ['someone else leaves', member(BOB, 'leave', { ts: T0 + 5 })],
    ['a new m.call', call('1700000000002nEw', {}, { ts: T0 + 6 })],
    ['a stale leave', member(ALICE, 'leave', { ts: T0 - 100_000 })],
  ];
  for (const [name, event] of rows) {
    t.same(store.applyEvent(event, T0).revocations, [], name);
  }
  t.same(
    store.applyEvent(legacy(ALICE, [{ deviceId: 'P', expiresTs: T0 + HOUR }], { ts: T0 + 7 }), T0)
      .revocations,
    [rev(ALICE, 'ALICEDEV', 'left_membership', { foci: [SFU, SFU2] })],
    'both foci in one revocation',
  );
});

t.test('expire(now) reports each expiry once; nextExpiry follows', async (t) => {
  const store = storeWith([
    member(ALICE, 'join'),
    legacy(ALICE, [{ deviceId: 'A', expiresTs: T0 + 1000 }]),
    member(BOB, 'join'),
    memberships(BOB, [rtc('B', { expires: 2000 }), rtc('NOFOCUS', { expires: 500, foci_active: [] })]),
    member(CAROL, 'invite', { sender: MOD }),
    sessionEvent(CAROL, 'C', session('C', { expires: 100 })),
  ]);
  t.equal(store.nextExpiry(T0), T0 + 500, 'live entries without a focus count too; not-joined users do not');
  t.equal(store.nextExpiry(T0 + 500), T0 + 1000);
  t.same(store.expire(T0 + 999), []);
  t.same(store.expire(T0 + 1000), [rev(ALICE, 'A', 'expired')]);
  t.same(store.expire(T0 + 1000), [], 'reported once');
  t.same(store.expire(T0 + 1500), []);
  t.equal(store.nextExpiry(T0 + 1000), T0 + 2000);
  t.same(store.expire(T0 + 5000), [rev(BOB, 'B', 'expired', wide)]);
  t.equal(store.nextExpiry(T0 + 5000), undefined);

  // refreshed after expiry: live again, and its next expiry is reported again (once)
  t.same(
    store.applyEvent(legacy(ALICE, [{ deviceId: 'A', expiresTs: T0 + 9000 }], { ts: T0 + 6000 }), T0 + 6000)
      .revocations,
    [],
  );
  t.equal(store.nextExpiry(T0 + 6000), T0 + 9000);
  t.same(store.expire(T0 + 9000), [rev(ALICE, 'A', 'expired')]);
  t.same(store.expire(T0 + 9001), []);
});

t.test('an expiry noticed by applyEvent is not reported again by expire', async (t) => {
  const store = storeWith([member(ALICE, 'join'), legacy(ALICE, [{ deviceId: 'A', expiresTs: T0 + 1000 }])]);
  // a display name change of Alice at T0 + 1500 recomputes her memberships
  const ev = member(ALICE, 'join', { ts: T0 + 1500 });
  t.same(store.applyEvent(ev, T0 + 1500).revocations, [rev(ALICE, 'A', 'expired')]);
  t.same(store.expire(T0 + 1500), []);
});

t.test('bootstrapRoom replaces state from a GET /state answer (no room_id in events)', async (t) => {
  const store = new MembershipStore();
  const state = fixtureList('room-state.json');
  t.same(store.bootstrapRoom(ROOM, [...state, 'junk', null], T0), {
    revocations: [],
    terminated: [],
    ignored: { unknown_type: 1, malformed: 2 },
    skippedEntries: 0,
  });
  t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), {
    allowed: true,
    expiresAt: T0 + HOUR,
    sessionId: 's-alice-1',
  });
  t.same(store.authorize(q(BOB, 'BOBDEV'), T0), { allowed: true, expiresAt: T0 + HOUR });

  // Bob leaves (live event, newer than the answer below); the answer taken before does not undo it.
  t.same(store.applyEvent(member(BOB, 'leave', { ts: T0 + 10 }), T0).revocations, [
    rev(BOB, 'BOBDEV', 'left_room', wide),
  ]);
  const withoutAlice = state.filter(
    (e) => !(e.type === 'org.matrix.msc3401.call.member' && e.state_key === ALICE),
  );
  t.same(store.bootstrapRoom(ROOM, withoutAlice, T0), {
    revocations: [rev(ALICE, 'ALICEDEV', 'left_membership')],
    terminated: [],
    ignored: { unknown_type: 1 },
    skippedEntries: 0,
  });
  t.same(
    store.authorize(q(BOB, 'BOBDEV'), T0),
    { allowed: false, reason: 'left_room' },
    'newer held leave kept',
  );
  t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), { allowed: false, reason: 'no_membership' });

  const terminated = { ...fixture('m.call/terminated.json'), room_id: undefined };
  t.same(store.bootstrapRoom(ROOM, [...state, terminated], T0), {
    revocations: [],
    terminated: [{ roomId: ROOM, callId: CONF }],
    ignored: { unknown_type: 1 },
    skippedEntries: 0,
  });
  t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), { allowed: false, reason: 'call_terminated' });
});

t.test('forgetRoom revokes what the room granted and forgets it', async (t) => {
  const store = new MembershipStore();
  store.bootstrapRoom(ROOM, fixtureList('room-state.json'), T0);
  t.same(store.forgetRoom(ROOM), [
    rev(ALICE, 'ALICEDEV', 'room_forgotten'),
    rev(BOB, 'BOBDEV', 'room_forgotten', wide),
  ]);
  t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), { allowed: false, reason: 'unknown_room' });
  t.equal(store.hasRoom(ROOM), false);
  t.same(store.expire(T0 + 10 * HOUR), []);
  t.same(store.forgetRoom(ROOM), []);
});

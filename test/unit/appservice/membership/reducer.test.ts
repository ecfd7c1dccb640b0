// The reducer through MembershipStore.applyEvent: formats, room membership, expiry, foci, termination,
// room-wide calls, state ordering and format (c) state keys.
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
  session,
  sessionEvent,
  storeWith,
} from '../../../fixtures/matrix/events.js';

const joins = [member(ALICE, 'join'), member(BOB, 'join'), member(CAROL, 'join')];

t.test('each format, from the protocol.md fixtures', async (t) => {
  const store = storeWith([
    ...joins,
    fixture('m.call/prompt.json'),
    fixture('m.call.member/legacy.json'),
    fixture('m.call.member/memberships.json'),
    fixture('m.call.member/session.json'),
  ]);
  t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), {
    allowed: true,
    expiresAt: T0 + HOUR,
    sessionId: 's-alice-1',
  });
  t.same(store.authorize(q(BOB, 'BOBDEV'), T0), { allowed: true, expiresAt: T0 + HOUR });
  t.same(store.authorize(q(CAROL, 'CAROLDEV'), T0), { allowed: true, expiresAt: T0 + 4 * HOUR });
  t.same(store.countByFormat(T0), { legacy: 1, memberships: 1, session: 1, sticky: 0 });
  t.same(store.countByFormat(T0 + HOUR), { legacy: 0, memberships: 0, session: 1, sticky: 0 });
  t.same(store.fociInUse(ROOM, CONF, T0), [SFU]);
});

t.test('room membership: join / leave / kick / ban / invite / knock', async (t) => {
  const rows: [name: string, event: unknown, expected: unknown][] = [
    [
      'join',
      member(ALICE, 'join', { ts: T0 + 1 }),
      { allowed: true, expiresAt: T0 + HOUR, sessionId: 's-alice-1' },
    ],
    ['own leave', member(ALICE, 'leave', { ts: T0 + 1 }), { allowed: false, reason: 'left_room' }],
    ['kick', member(ALICE, 'leave', { ts: T0 + 1, sender: MOD }), { allowed: false, reason: 'kicked' }],
    ['ban', member(ALICE, 'ban', { ts: T0 + 1, sender: MOD }), { allowed: false, reason: 'banned' }],
    [
      'invite',
      member(ALICE, 'invite', { ts: T0 + 1, sender: MOD }),
      { allowed: false, reason: 'not_joined' },
    ],
    ['knock', member(ALICE, 'knock', { ts: T0 + 1 }), { allowed: false, reason: 'not_joined' }],
  ];
  for (const [name, event, expected] of rows) {
    const store = storeWith([member(ALICE, 'join'), fixture('m.call.member/legacy.json'), event]);
    t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), expected, name);
  }
  const rejoined = storeWith([
    member(ALICE, 'join'),
    fixture('m.call.member/legacy.json'),
    member(ALICE, 'leave', { ts: T0 + 1 }),
    member(ALICE, 'join', { ts: T0 + 2 }),
  ]);
  t.same(
    rejoined.authorize(q(ALICE, 'ALICEDEV'), T0),
    { allowed: true, expiresAt: T0 + HOUR, sessionId: 's-alice-1' },
    'rejoin',
  );
});

t.test('expiry boundary: 1 ms before is live, at and after is expired', async (t) => {
  const rows: [name: string, event: unknown, user: string, device: string, expiry: number][] = [
    ['(a)', legacy(ALICE, [{ deviceId: 'A', expiresTs: T0 + 1000 }]), ALICE, 'A', T0 + 1000],
    ['(b)', memberships(BOB, [rtc('B', { expires: 1000 })]), BOB, 'B', T0 + 1000],
    ['(c)', sessionEvent(CAROL, 'C', session('C', { expires: 1000 })), CAROL, 'C', T0 + 1000],
  ];
  for (const [name, event, user, device, expiry] of rows) {
    const store = storeWith([...joins, event]);
    const decide = (now: number): unknown => store.authorize(q(user, device), now);
    t.match(decide(expiry - 1), { allowed: true, expiresAt: expiry }, `${name} 1 ms before`);
    t.same(decide(expiry), { allowed: false, reason: 'expired' }, `${name} at expiry`);
    t.same(decide(expiry + 1), { allowed: false, reason: 'expired' }, `${name} 1 ms after`);
    t.equal(store.nextExpiry(expiry - 1), expiry, `${name} nextExpiry before`);
    t.equal(store.nextExpiry(expiry), undefined, `${name} nextExpiry at expiry`);
  }
});

t.test('created_ts missing falls back to origin_server_ts', async (t) => {
  const store = storeWith([
    ...joins,
    memberships(BOB, [rtc('B', { created_ts: undefined, expires: 1000 })], { ts: T0 + 500 }),
    sessionEvent(CAROL, 'C', session('C', { created_ts: undefined, expires: undefined }), { ts: T0 + 500 }),
  ]);
  t.same(store.authorize(q(BOB, 'B'), T0), { allowed: true, expiresAt: T0 + 1500 });
  t.same(store.authorize(q(CAROL, 'C'), T0), { allowed: true, expiresAt: T0 + 500 + 4 * HOUR });
});

t.test("clock skew: expiry from the event's own fields, decided by the SFU's now", async (t) => {
  const future = T0 + 10 * HOUR;
  const past = T0 - 10 * HOUR;
  const store = storeWith([
    ...joins,
    // origin_server_ts in the future (homeserver clock ahead): still live now, until its own expiry.
    memberships(BOB, [rtc('B', { created_ts: undefined, expires: HOUR })], { ts: future }),
    // far in the past (delayed delivery): already expired when it arrives.
    sessionEvent(CAROL, 'C', session('C', { created_ts: undefined, expires: HOUR }), { ts: past }),
    // created_ts in the past, origin_server_ts now: created_ts wins.
    legacy(ALICE, [{ deviceId: 'A', expiresTs: past + HOUR }]),
  ]);
  t.same(store.authorize(q(BOB, 'B'), T0), { allowed: true, expiresAt: future + HOUR });
  t.same(store.authorize(q(CAROL, 'C'), T0), { allowed: false, reason: 'expired' });
  t.same(store.authorize(q(ALICE, 'A'), T0), { allowed: false, reason: 'expired' });
  t.equal(store.nextExpiry(T0), future + HOUR);
});

t.test('naming the focus: present / absent / other type / other device / preferred only', async (t) => {
  const livekit = { type: 'livekit', livekit_service_url: 'https://lk.example.org', livekit_alias: ROOM };
  const rows: [name: string, foci: unknown[], expected: unknown][] = [
    ['this focus', [{ type: 'org.matrix.msc3898', ...SFU }], { allowed: true, expiresAt: T0 + HOUR }],
    ['no active focus', [], { allowed: false, reason: 'other_focus' }],
    ['livekit focus', [livekit], { allowed: false, reason: 'other_focus' }],
    [
      'same user, other device',
      [{ type: 'org.matrix.msc3898', ...SFU2 }],
      { allowed: false, reason: 'other_focus' },
    ],
    ['other server', [REMOTE_SFU], { allowed: false, reason: 'other_focus' }],
    ['user_id only', [{ user_id: SFU.user_id }], { allowed: false, reason: 'other_focus' }],
    ['any type with both fields', [{ type: 'x', ...SFU }], { allowed: true, expiresAt: T0 + HOUR }],
    ['second of two', [REMOTE_SFU, SFU], { allowed: true, expiresAt: T0 + HOUR }],
  ];
  for (const [name, foci, expected] of rows) {
    const store = storeWith([member(BOB, 'join'), memberships(BOB, [rtc('B', { foci_active: foci })])]);
    t.same(store.authorize(q(BOB, 'B'), T0), expected, name);
  }
  const preferredOnly = storeWith([
    member(ALICE, 'join'),
    legacy(ALICE, [{ deviceId: 'A', expiresTs: T0 + HOUR, foci: [], preferred: [SFU] }]),
  ]);
  t.same(
    preferredOnly.authorize(q(ALICE, 'A'), T0),
    { allowed: false, reason: 'other_focus' },
    'preferred only',
  );
  t.same(
    storeWith([member(CAROL, 'join'), fixture('m.call.member/session-livekit.json')]).authorize(
      q(CAROL, 'CAROLDEV'),
      T0,
    ),
    {
      allowed: false,
      reason: 'other_focus',
    },
  );
});

t.test('call termination', async (t) => {
  const store = storeWith([
    member(ALICE, 'join'),
    member(BOB, 'join'),
    fixture('m.call/prompt.json'),
    fixture('m.call.member/legacy.json'),
    fixture('m.call.member/memberships.json'),
  ]);
  t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), {
    allowed: true,
    expiresAt: T0 + HOUR,
    sessionId: 's-alice-1',
  });
  const res = store.applyEvent(fixture('m.call/terminated.json'), T0);
  t.same(res.terminated, [{ roomId: ROOM, callId: CONF }]);
  t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), { allowed: false, reason: 'call_terminated' });
  // Rule 4 applies to the conference whatever the format: a room-wide membership cannot enter it either ...
  t.same(store.authorize(q(BOB, 'BOBDEV'), T0), { allowed: false, reason: 'call_terminated' });
  // ... but still enters any other conference of the room.
  t.same(store.authorize(q(BOB, 'BOBDEV', { confId: OTHER_CONF }), T0), {
    allowed: true,
    expiresAt: T0 + HOUR,
  });
  t.same(store.fociInUse(ROOM, CONF, T0), []);
  t.same(store.countByFormat(T0), { legacy: 0, memberships: 1, session: 0, sticky: 0 });
  // the m.call (stable type) twin terminating the same call again reports nothing new
  t.same(
    store.applyEvent(call(CONF, { 'm.terminated': 'call_ended' }, { type: 'm.call', ts: T0 + 1 }), T0)
      .terminated,
    [],
  );
});

t.test('room-wide calls (call_id "" + scope m.room) match any conf_id of that room only', async (t) => {
  const store = storeWith([
    member(BOB, 'join'),
    memberships(BOB, [
      rtc('WIDE'),
      rtc('NOSCOPE', { scope: undefined }),
      rtc('USERSCOPE', { scope: 'm.user' }),
      rtc('EXACT', { call_id: CONF, scope: 'm.user' }),
    ]),
  ]);
  const rows: [device: string, confId: string, expected: unknown][] = [
    ['WIDE', CONF, { allowed: true, expiresAt: T0 + HOUR }],
    ['WIDE', OTHER_CONF, { allowed: true, expiresAt: T0 + HOUR }],
    ['WIDE', 'anything', { allowed: true, expiresAt: T0 + HOUR }],
    ['NOSCOPE', CONF, { allowed: false, reason: 'wrong_call' }],
    ['USERSCOPE', CONF, { allowed: false, reason: 'wrong_call' }],
    ['EXACT', CONF, { allowed: true, expiresAt: T0 + HOUR }],
    ['EXACT', OTHER_CONF, { allowed: false, reason: 'wrong_call' }],
  ];
  for (const [device, confId, expected] of rows) {
    t.same(store.authorize(q(BOB, device, { confId }), T0), expected, `${device} ${confId}`);
  }
  t.same(store.authorize(q(BOB, 'WIDE', { roomId: '!other:example.org' }), T0), {
    allowed: false,
    reason: 'unknown_room',
  });
});

t.test(
  'state ordering: an older event never replaces a newer one; ties go to the later arrival',
  async (t) => {
    const store = new MembershipStore();
    store.applyEvent(member(BOB, 'join', { ts: T0 }), T0);
    store.applyEvent(memberships(BOB, [rtc('B')], { ts: T0 + 10 }), T0);
    const older = store.applyEvent(memberships(BOB, [], { ts: T0 + 5 }), T0);
    t.same(older, { applied: false, ignored: 'stale', skippedEntries: 0, revocations: [], terminated: [] });
    t.same(store.authorize(q(BOB, 'B'), T0), { allowed: true, expiresAt: T0 + HOUR });

    t.match(store.applyEvent(member(BOB, 'leave', { ts: T0 - 1 }), T0), { applied: false, ignored: 'stale' });
    t.same(store.authorize(q(BOB, 'B'), T0), { allowed: true, expiresAt: T0 + HOUR }, 'older leave ignored');

    t.match(store.applyEvent(call(CONF, { 'm.terminated': 'x' }, { ts: T0 + 1 }), T0), { applied: true });
    t.match(store.applyEvent(call(CONF, {}, { ts: T0 }), T0), { applied: false, ignored: 'stale' });
    t.same(
      store.authorize(q(BOB, 'B'), T0),
      { allowed: false, reason: 'call_terminated' },
      'older m.call ignored',
    );

    // equal origin_server_ts: the later arrival wins
    const tie = new MembershipStore();
    tie.applyEvent(member(BOB, 'join', { ts: T0 }), T0);
    tie.applyEvent(memberships(BOB, [rtc('B')], { ts: T0 + 10 }), T0);
    t.match(tie.applyEvent(memberships(BOB, [], { ts: T0 + 10 }), T0), {
      applied: true,
      revocations: [{ reason: 'left_membership' }],
    });
    t.same(tie.authorize(q(BOB, 'B'), T0), { allowed: false, reason: 'no_membership' });
  },
);

t.test('format (c): bad state keys are ignored; {} means left', async (t) => {
  const store = storeWith([member(CAROL, 'join')]);
  const bad = store.applyEvent(
    sessionEvent(CAROL, 'CAROLDEV', session('CAROLDEV'), { stateKey: '_@carol:example.org_OTHERDEV_m.call' }),
    T0,
  );
  t.same(bad, {
    applied: true,
    ignored: 'bad_state_key',
    skippedEntries: 0,
    revocations: [],
    terminated: [],
  });
  t.same(store.authorize(q(CAROL, 'CAROLDEV'), T0), { allowed: false, reason: 'no_membership' });

  t.same(store.applyEvent(fixture('m.call.member/session.json'), T0), {
    applied: true,
    skippedEntries: 0,
    revocations: [],
    terminated: [],
  });
  t.same(store.authorize(q(CAROL, 'CAROLDEV'), T0), { allowed: true, expiresAt: T0 + 4 * HOUR });

  // Someone else writing Carol's slot replaces it in room state: it grants nothing, and Carol's entry is gone.
  const forged = store.applyEvent(
    sessionEvent(CAROL, 'CAROLDEV', session('CAROLDEV'), { sender: '@mallory:example.org', ts: T0 + 1 }),
    T0,
  );
  t.same(forged.ignored, 'bad_state_key');
  t.same(store.authorize(q(CAROL, 'CAROLDEV'), T0), { allowed: false, reason: 'no_membership' });

  store.applyEvent(fixture('m.call.member/session.json'), T0); // stale now: the forged one is newer
  const again = storeWith([member(CAROL, 'join'), fixture('m.call.member/session.json')]);
  t.same(again.applyEvent(fixture('m.call.member/session-left.json'), T0 + 60_000), {
    applied: true,
    skippedEntries: 0,
    revocations: [
      {
        roomId: ROOM,
        userId: CAROL,
        deviceId: 'CAROLDEV',
        callId: '',
        scope: 'm.room',
        reason: 'left_membership',
        foci: [SFU],
      },
    ],
    terminated: [],
  });
  t.same(again.authorize(q(CAROL, 'CAROLDEV'), T0 + 60_000), { allowed: false, reason: 'no_membership' });
});

t.test('both call member event types count, each its own slot', async (t) => {
  const stable = memberships(BOB, [rtc('S', { call_id: CONF, scope: 'm.user' })], { type: 'm.call.member' });
  const store = storeWith([member(BOB, 'join'), stable, memberships(BOB, [rtc('U')])]);
  t.same(store.authorize(q(BOB, 'S'), T0), { allowed: true, expiresAt: T0 + HOUR });
  t.same(store.authorize(q(BOB, 'U'), T0), { allowed: true, expiresAt: T0 + HOUR });
  t.same(store.countByFormat(T0), { legacy: 0, memberships: 2, session: 0, sticky: 0 });
});

t.test('ignored event kinds are reported for the metrics', async (t) => {
  const store = new MembershipStore();
  const rows: [event: unknown, reason: string][] = [
    [
      { type: 'm.room.message', room_id: ROOM, sender: ALICE, origin_server_ts: T0, content: { body: 'hi' } },
      'not_state',
    ],
    [
      {
        type: 'm.room.topic',
        state_key: '',
        room_id: ROOM,
        sender: ALICE,
        origin_server_ts: T0,
        content: {},
      },
      'unknown_type',
    ],
    [
      {
        type: 'org.matrix.msc4143.rtc.member',
        state_key: ALICE,
        room_id: ROOM,
        sender: ALICE,
        origin_server_ts: T0,
        content: {},
      },
      'unknown_type',
    ],
  ];
  for (const [event, reason] of rows) {
    t.same(
      store.applyEvent(event, T0),
      { applied: false, ignored: reason, skippedEntries: 0, revocations: [], terminated: [] },
      reason,
    );
  }
  t.equal(store.hasRoom(ROOM), false);
});

// Malformed input never throws and never grants access (the security boundary of protocol.md §3).
import t from 'tap';
import { MembershipStore } from '../../../../src/appservice/membership/store.js';
import {
  ALICE,
  CONF,
  HOUR,
  ROOM,
  SFU,
  T0,
  legacy,
  member,
  q,
  rtc,
  session,
} from '../../../fixtures/matrix/events.js';

const TYPE = 'org.matrix.msc3401.call.member';

/** A call member event of Alice with the given overrides (set a key to undefined to drop it). */
function ev(over: Record<string, unknown>): Record<string, unknown> {
  const base: Record<string, unknown> = {
    type: TYPE,
    state_key: ALICE,
    sender: ALICE,
    room_id: ROOM,
    origin_server_ts: T0,
    event_id: '$bad',
    content: legacy(ALICE, [{ deviceId: 'ALICEDEV', expiresTs: T0 + HOUR }]).content,
  };
  return Object.fromEntries(Object.entries({ ...base, ...over }).filter(([, v]) => v !== undefined));
}

const dropped = { applied: false, ignored: 'malformed', skippedEntries: 0, revocations: [], terminated: [] };

const rows: [name: string, event: unknown, expected: Record<string, unknown>][] = [
  ['null', null, dropped],
  ['a number', 42, dropped],
  ['a string', '{"type":"m.call.member"}', dropped],
  ['an array', [ev({})], dropped],
  ['an empty object', {}, dropped],
  ['type not a string', ev({ type: 5 }), dropped],
  ['room_id missing', ev({ room_id: undefined }), dropped],
  ['room_id not a string', ev({ room_id: 42 }), dropped],
  ['sender missing', ev({ sender: undefined }), dropped],
  ['origin_server_ts a string', ev({ origin_server_ts: '1700000000000' }), dropped],
  ['origin_server_ts not finite', ev({ origin_server_ts: Number.POSITIVE_INFINITY }), dropped],
  ['content missing', ev({ content: undefined }), dropped],
  ['content an array', ev({ content: [{ 'm.calls': [] }] }), dropped],
  ['content null', ev({ content: null }), dropped],
  ['state_key a number', ev({ state_key: 7 }), dropped],
  ['state_key null', ev({ state_key: null }), dropped],
  ['m.room.member with an unknown membership', member('@x:example.org', 'joined'), dropped],
  ['m.room.member with an empty state_key', member('', 'join'), dropped],
  [
    'm.room.member content with __proto__',
    { ...member('@x:example.org', 'join'), content: JSON.parse('{"__proto__":{"membership":"join"}}') },
    dropped,
  ],
  [
    'm.calls with junk entries only',
    ev({
      content: {
        'm.calls': [null, 1, 'x', [], { 'm.call_id': CONF, 'm.devices': [null, { device_id: 5 }] }],
      },
    }),
    { applied: true, skippedEntries: 6, revocations: [], terminated: [] },
  ],
  [
    'memberships with junk entries only',
    ev({
      content: { memberships: [null, 0, [], rtc(''), rtc('D', { call_id: 1 }), rtc('D', { expires: 'x' })] },
    }),
    { applied: true, skippedEntries: 6, revocations: [], terminated: [] },
  ],
  [
    '(c) device_id a number',
    ev({ state_key: `_${ALICE}_ALICEDEV_m.call`, content: session('ALICEDEV', { device_id: 1 }) }),
    { applied: true, skippedEntries: 1, revocations: [], terminated: [] },
  ],
  [
    '(c) call_id missing',
    ev({ state_key: `_${ALICE}_ALICEDEV_m.call`, content: session('ALICEDEV', { call_id: undefined }) }),
    { applied: true, skippedEntries: 1, revocations: [], terminated: [] },
  ],
  [
    'm.calls not an array',
    ev({ content: { 'm.calls': { 'm.call_id': CONF } } }),
    { applied: true, ignored: 'bad_content', skippedEntries: 0, revocations: [], terminated: [] },
  ],
  [
    'expires_ts a string',
    ev({
      content: {
        'm.calls': [
          { 'm.call_id': CONF, 'm.devices': [{ device_id: 'ALICEDEV', expires_ts: String(T0 + HOUR) }] },
        ],
      },
    }),
    { applied: true, skippedEntries: 1, revocations: [], terminated: [] },
  ],
];

/** What the store grants Alice; for every case here it must equal NOTHING. */
function observe(store: MembershipStore): unknown {
  const allowed: boolean[] = [];
  for (const deviceId of ['ALICEDEV', 'D', '']) {
    for (const confId of [CONF, '']) {
      allowed.push(store.authorize(q(ALICE, deviceId, { confId }), T0).allowed);
    }
  }
  return {
    allowed,
    resolved: store.resolveRoom({ userId: ALICE, deviceId: 'ALICEDEV', confId: CONF, focus: SFU }, T0),
    foci: store.fociInUse(ROOM, CONF, T0),
    counts: store.countByFormat(T0),
    nextExpiry: store.nextExpiry(T0),
  };
}

const NOTHING = {
  allowed: [false, false, false, false, false, false],
  resolved: { kind: 'none' },
  foci: [],
  counts: { legacy: 0, memberships: 0, session: 0, sticky: 0 },
  nextExpiry: undefined,
};

t.test('each malformed event is reported and grants nothing', async (t) => {
  for (const [name, event, expected] of rows) {
    const store = new MembershipStore();
    store.applyEvent(member(ALICE, 'join'), T0);
    t.same(store.applyEvent(event, T0), expected, name);
    t.same(observe(store), NOTHING, `${name}: grants nothing`);
  }
});

t.test('all of them in one store, and in one bootstrap answer', async (t) => {
  const store = new MembershipStore();
  store.applyEvent(member(ALICE, 'join'), T0);
  for (const [, event] of rows) {
    t.doesNotThrow(() => store.applyEvent(event, T0));
  }
  t.same(observe(store), NOTHING, 'applied one by one');
  const boot = new MembershipStore();
  t.doesNotThrow(() => boot.bootstrapRoom(ROOM, [member(ALICE, 'join'), ...rows.map(([, e]) => e)], T0));
  t.same(observe(boot), NOTHING, 'bootstrapped');
});

t.test('junk active foci name no focus', async (t) => {
  const store = new MembershipStore();
  store.applyEvent(member(ALICE, 'join'), T0);
  store.applyEvent(
    legacy(ALICE, [
      {
        deviceId: 'ALICEDEV',
        expiresTs: T0 + HOUR,
        foci: [null, 5, 'x', { user_id: 5, device_id: SFU.device_id }, [SFU]],
      },
    ]),
    T0,
  );
  t.same(store.authorize(q(ALICE, 'ALICEDEV'), T0), { allowed: false, reason: 'other_focus' });
});

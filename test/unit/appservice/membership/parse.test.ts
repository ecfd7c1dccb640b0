// Event → normalized entries: the protocol.md §3.1–§3.3 fixtures, §3.4 expiry, §3.5 foci, §3.3 state keys.
import t from 'tap';
import { parseEvent } from '../../../../src/appservice/membership/envelope.js';
import { sessionStateKeyMatches } from '../../../../src/appservice/membership/parse.js';
import {
  ALICE,
  BOB,
  CAROL,
  CONF,
  HOUR,
  REMOTE_SFU,
  ROOM,
  SFU,
  SFU2,
  T0,
  fixture,
  legacy,
  memberships,
  rtc,
  session,
  sessionEvent,
  stateEvent,
} from '../../../fixtures/matrix/events.js';

/** The `parsed` part of a call member event, or the ignore reason. */
function parsedOf(event: unknown): unknown {
  const p = parseEvent(event);
  return p.kind === 'call_member' ? p.parsed : p;
}

t.test('real-shaped fixtures of each format', async (t) => {
  t.same(parseEvent(fixture('m.call.member/legacy.json')), {
    kind: 'call_member',
    roomId: ROOM,
    eventType: 'org.matrix.msc3401.call.member',
    stateKey: ALICE,
    sender: ALICE,
    ts: T0,
    parsed: {
      format: 'legacy',
      entries: [
        {
          format: 'legacy',
          userId: ALICE,
          deviceId: 'ALICEDEV',
          callId: CONF,
          sessionId: 's-alice-1',
          expiresAt: T0 + HOUR,
          activeFoci: [SFU],
        },
      ],
      skipped: 0,
    },
  });
  t.same(parsedOf(fixture('m.call.member/memberships.json')), {
    format: 'memberships',
    entries: [
      {
        format: 'memberships',
        userId: BOB,
        callId: '',
        deviceId: 'BOBDEV',
        scope: 'm.room',
        application: 'm.call',
        expiresAt: T0 + HOUR,
        activeFoci: [SFU],
      },
    ],
    skipped: 0,
  });
  t.same(parsedOf(fixture('m.call.member/session.json')), {
    format: 'session',
    entries: [
      {
        format: 'session',
        userId: CAROL,
        callId: '',
        deviceId: 'CAROLDEV',
        scope: 'm.room',
        application: 'm.call',
        expiresAt: T0 + 4 * HOUR,
        activeFoci: [SFU],
      },
    ],
    skipped: 0,
  });
  t.same(parsedOf(fixture('m.call.member/session-left.json')), { format: 'empty', entries: [], skipped: 0 });
  t.same(parseEvent(fixture('m.call/terminated.json')), {
    kind: 'call',
    roomId: ROOM,
    eventType: 'org.matrix.msc3401.call',
    stateKey: CONF,
    sender: ALICE,
    ts: T0 + 120_000,
    terminated: true,
  });
  t.same(parseEvent(fixture('m.room.member/alice-join.json')), {
    kind: 'room_member',
    roomId: ROOM,
    eventType: 'm.room.member',
    stateKey: ALICE,
    sender: ALICE,
    ts: T0 - 10_000,
    membership: 'join',
  });
});

t.test('absolute expiry per format (§3.4)', async (t) => {
  const rows: { name: string; event: unknown; expiresAt: number | 'skipped' }[] = [
    {
      name: '(a) device expires_ts',
      event: legacy(ALICE, [{ deviceId: 'D', expiresTs: T0 + 5 }]),
      expiresAt: T0 + 5,
    },
    {
      name: '(a) content m.expires_ts when the device has none',
      event: legacy(ALICE, [{ deviceId: 'D' }], {}, { 'm.expires_ts': T0 + 7 }),
      expiresAt: T0 + 7,
    },
    {
      name: '(a) device expires_ts wins over m.expires_ts',
      event: legacy(ALICE, [{ deviceId: 'D', expiresTs: T0 + 5 }], {}, { 'm.expires_ts': T0 + 7 }),
      expiresAt: T0 + 5,
    },
    { name: '(a) neither → entry ignored', event: legacy(ALICE, [{ deviceId: 'D' }]), expiresAt: 'skipped' },
    {
      name: '(a) expires_ts of the wrong type → entry ignored',
      event: legacy(ALICE, [{ deviceId: 'D', expiresTs: 'soon' as unknown as number }]),
      expiresAt: 'skipped',
    },
    {
      name: '(b) created_ts + expires',
      event: memberships(BOB, [rtc('D', { created_ts: T0 - 100, expires: 1000 })]),
      expiresAt: T0 + 900,
    },
    {
      name: '(b) created_ts missing → origin_server_ts + expires',
      event: memberships(BOB, [rtc('D', { created_ts: undefined, expires: 1000 })], { ts: T0 + 50 }),
      expiresAt: T0 + 1050,
    },
    {
      name: '(b) expires_ts when expires is missing',
      event: memberships(BOB, [rtc('D', { expires: undefined, expires_ts: T0 + 42 })]),
      expiresAt: T0 + 42,
    },
    {
      name: '(b) neither expires nor expires_ts → entry ignored',
      event: memberships(BOB, [rtc('D', { expires: undefined })]),
      expiresAt: 'skipped',
    },
    {
      name: '(b) created_ts of the wrong type → entry ignored',
      event: memberships(BOB, [rtc('D', { created_ts: '1700000000000' })]),
      expiresAt: 'skipped',
    },
    {
      name: '(c) created_ts + expires',
      event: sessionEvent(CAROL, 'D', session('D', { created_ts: T0 + 1, expires: 10 })),
      expiresAt: T0 + 11,
    },
    {
      name: '(c) expires missing → 4 h default',
      event: sessionEvent(CAROL, 'D', session('D', { expires: undefined })),
      expiresAt: T0 + 14_400_000,
    },
    {
      name: '(c) created_ts missing → origin_server_ts',
      event: sessionEvent(CAROL, 'D', session('D', { created_ts: undefined, expires: 10 }), { ts: T0 + 3 }),
      expiresAt: T0 + 13,
    },
    {
      name: '(c) both missing → origin_server_ts + 4 h',
      event: sessionEvent(CAROL, 'D', session('D', { created_ts: undefined, expires: undefined }), {
        ts: T0 + 3,
      }),
      expiresAt: T0 + 3 + 14_400_000,
    },
    {
      name: '(c) expires of the wrong type → invalid',
      event: sessionEvent(CAROL, 'D', session('D', { expires: '4h' })),
      expiresAt: 'skipped',
    },
  ];
  for (const row of rows) {
    const p = parseEvent(JSON.parse(JSON.stringify(row.event)));
    if (p.kind !== 'call_member') {
      t.fail(`${row.name}: not a call member event`);
      continue;
    }
    if (row.expiresAt === 'skipped') {
      t.same([p.parsed.entries.length, p.parsed.skipped], [0, 1], row.name);
    } else {
      t.same(
        p.parsed.entries.map((e) => e.expiresAt),
        [row.expiresAt],
        row.name,
      );
    }
  }
});

t.test('active foci (§3.5)', async (t) => {
  const livekit = { type: 'livekit', livekit_service_url: 'https://lk.example.org', livekit_alias: ROOM };
  const rows: { name: string; event: unknown; foci: unknown[] }[] = [
    {
      name: '(a) org.matrix.msc3898.foci.active',
      event: legacy(ALICE, [{ deviceId: 'D', expiresTs: T0 + HOUR }]),
      foci: [SFU],
    },
    {
      name: '(a) m.foci.active',
      event: legacy(ALICE, [{ deviceId: 'D', expiresTs: T0 + HOUR, fociKey: 'm.foci.active' }]),
      foci: [SFU],
    },
    {
      name: '(a) preferred only → none',
      event: legacy(ALICE, [{ deviceId: 'D', expiresTs: T0 + HOUR, foci: [], preferred: [SFU] }]),
      foci: [],
    },
    {
      name: '(a) duplicates collapse, other devices kept',
      event: legacy(ALICE, [{ deviceId: 'D', expiresTs: T0 + HOUR, foci: [SFU, SFU2, SFU] }]),
      foci: [SFU, SFU2],
    },
    {
      name: '(a) active list not an array → none, entry still valid',
      event: legacy(ALICE, [{ deviceId: 'D', expiresTs: T0 + HOUR, foci: SFU as unknown as unknown[] }]),
      foci: [],
    },
    {
      name: '(b) livekit focus names nothing; msc3898 one does',
      event: memberships(BOB, [
        rtc('D', { foci_active: [livekit, { type: 'org.matrix.msc3898', ...REMOTE_SFU }] }),
      ]),
      foci: [REMOTE_SFU],
    },
    {
      name: '(b) focus without device_id names nothing',
      event: memberships(BOB, [rtc('D', { foci_active: [{ user_id: SFU.user_id }] })]),
      foci: [],
    },
    {
      name: '(b) any type counts with both fields',
      event: memberships(BOB, [rtc('D', { foci_active: [{ type: 'something.else', ...SFU }] })]),
      foci: [SFU],
    },
    {
      name: '(c) focus_active of the SFU',
      event: sessionEvent(CAROL, 'D', session('D')),
      foci: [SFU],
    },
    {
      name: '(c) selection-only livekit focus_active names nothing',
      event: fixture('m.call.member/session-livekit.json'),
      foci: [],
    },
    {
      name: '(c) foci_preferred never grants',
      event: sessionEvent(CAROL, 'D', session('D', { focus_active: undefined, foci_preferred: [SFU] })),
      foci: [],
    },
  ];
  for (const row of rows) {
    const p = parseEvent(JSON.parse(JSON.stringify(row.event)));
    t.same(p.kind === 'call_member' ? p.parsed.entries.map((e) => e.activeFoci) : p, [row.foci], row.name);
  }
});

t.test('format (c) state key must be [_]<sender>_<device>[_<application>...]', async (t) => {
  const rows: [stateKey: string, sender: string, ok: boolean][] = [
    ['_@carol:example.org_CAROLDEV_m.call', CAROL, true],
    ['_@carol:example.org_CAROLDEV', CAROL, true],
    ['@carol:example.org_CAROLDEV', CAROL, true],
    ['@carol:example.org_CAROLDEV_m.call', CAROL, true],
    ['_@carol:example.org_CAROLDEV_m.callslot7', CAROL, true],
    ['_@mallory:example.org_CAROLDEV_m.call', CAROL, false],
    ['_@carol:example.org_CAROLDEV_m.call', '@mallory:example.org', false],
    ['_@carol:example.org_OTHERDEV_m.call', CAROL, false],
    ['_@carol:example.org_CAROLDEVX', CAROL, false],
    ['_@carol:example.org_CAROLDEV_other.app', CAROL, false],
    ['@carol:example.org', CAROL, false],
    ['', CAROL, false],
  ];
  for (const [stateKey, sender, ok] of rows) {
    t.equal(sessionStateKeyMatches(stateKey, sender, 'CAROLDEV', 'm.call'), ok, `${sender} ${stateKey}`);
    const ev = sessionEvent(CAROL, 'CAROLDEV', session('CAROLDEV'), { stateKey, sender });
    const p = parseEvent(ev);
    t.same(
      p.kind === 'call_member' ? [p.parsed.entries.map((e) => [e.userId, e.deviceId]), p.parsed.rejected] : p,
      ok ? [[[sender, 'CAROLDEV']], undefined] : [[], 'bad_state_key'],
      `event ${sender} ${stateKey}`,
    );
  }
});

t.test('(a)/(b) with state_key != sender are rejected as a whole', async (t) => {
  t.same(parsedOf(legacy(ALICE, [{ deviceId: 'D', expiresTs: T0 + HOUR }], { sender: BOB })), {
    format: 'legacy',
    entries: [],
    skipped: 0,
    rejected: 'bad_state_key',
  });
  t.same(parsedOf(memberships(BOB, [rtc('D')], { sender: ALICE })), {
    format: 'memberships',
    entries: [],
    skipped: 0,
    rejected: 'bad_state_key',
  });
});

t.test('invalid entries are skipped, the others still count', async (t) => {
  const a = legacy(ALICE, [
    { deviceId: 'GOOD', expiresTs: T0 + HOUR },
    { deviceId: '', expiresTs: T0 + HOUR },
  ]);
  (a.content['m.calls'] as unknown[]).push(
    'junk',
    null,
    { 'm.call_id': 42, 'm.devices': [] },
    { 'm.call_id': 'x', 'm.devices': 'nope' },
    { 'm.call_id': 'y', 'm.devices': [7, { device_id: 'S', expires_ts: T0 + 1, session_id: 5 }] },
  );
  const pa = parseEvent(a);
  t.same(pa.kind === 'call_member' ? [pa.parsed.entries.map((e) => e.deviceId), pa.parsed.skipped] : pa, [
    ['GOOD'],
    7,
  ]);
  const b = memberships(BOB, [
    rtc('GOOD'),
    rtc('NOCALL', { call_id: undefined }),
    rtc('', {}),
    rtc('BADSCOPE', { scope: 5 }),
    [],
    'x',
    rtc('NOEXP', { expires: undefined }),
  ]);
  const pb = parseEvent(JSON.parse(JSON.stringify(b)));
  t.same(pb.kind === 'call_member' ? [pb.parsed.entries.map((e) => e.deviceId), pb.parsed.skipped] : pb, [
    ['GOOD'],
    6,
  ]);
});

t.test('content shapes: {} is empty, unknown shapes are bad_content', async (t) => {
  const rows: [content: Record<string, unknown>, expected: unknown][] = [
    [{}, { format: 'empty', entries: [], skipped: 0 }],
    [{ 'm.calls': [] }, { format: 'legacy', entries: [], skipped: 0 }],
    [{ memberships: [] }, { format: 'memberships', entries: [], skipped: 0 }],
    [{ 'm.calls': 'x' }, { format: 'unknown', entries: [], skipped: 0, rejected: 'bad_content' }],
    [{ memberships: {} }, { format: 'unknown', entries: [], skipped: 0, rejected: 'bad_content' }],
    [{ application: 5 }, { format: 'unknown', entries: [], skipped: 0, rejected: 'bad_content' }],
    [{ device_id: 'X' }, { format: 'unknown', entries: [], skipped: 0, rejected: 'bad_content' }],
  ];
  for (const [content, expected] of rows) {
    t.same(parsedOf(stateEvent('m.call.member', ALICE, ALICE, content)), expected, JSON.stringify(content));
  }
});

// Format (d) parsing (protocol.md §3.3b, §3.4, §3.5): sticky MatrixRTC member events → one entry, a leave, or
// the reason they are ignored, through parseEvent at a given receipt time.
import t from 'tap';
import { parseEvent } from '../../../../src/appservice/membership/envelope.js';
import { fixture, HOUR, REMOTE_SFU, ROOM, SFU, T0 } from '../../../fixtures/matrix/events.js';
import { DAVE, rtcMember, stickyEvent } from '../../../fixtures/matrix/sticky.js';

const KEY = 'm-DAVEDEV';

/** The entry the §3.3b example yields, with `over` applied. */
function entry(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'sticky',
    userId: DAVE,
    deviceId: 'DAVEDEV',
    callId: '',
    scope: 'm.room',
    application: 'm.call',
    expiresAt: T0 + HOUR,
    activeFoci: [SFU],
    ...over,
  };
}

/** What parseEvent returns for a value of `KEY`: an entry, a leave (undefined), or invalid content. */
function value(e: Record<string, unknown> | 'leave' | 'invalid', start = T0): Record<string, unknown> {
  return {
    kind: 'rtc_member',
    roomId: ROOM,
    stateKey: KEY,
    sender: DAVE,
    parsed: {
      kind: 'value',
      stickyKey: KEY,
      start,
      ...(e === 'leave' ? {} : e === 'invalid' ? { invalid: true } : { entry: e }),
    },
  };
}

const ignored = (reason: string): Record<string, unknown> => ({ kind: 'ignored', reason });

const dave = (over: Record<string, unknown> = {}): Record<string, unknown> =>
  rtcMember(DAVE, 'DAVEDEV', KEY, over);

const withMember = (m: Record<string, unknown>): Record<string, unknown> =>
  dave({ member: { user_id: DAVE, device_id: 'DAVEDEV', id: KEY, ...m } });

const { msc4354_sticky_key: _unstable, ...stableKeyOnly } = dave({ sticky_key: KEY });
const { msc4354_sticky_key: _gone, ...noKey } = dave();
const { rtc_transports: _rt, ...noTransports } = dave();

const rows: [name: string, event: unknown, receivedAt: number, expected: Record<string, unknown>][] = [
  [
    'the protocol.md §3.3b example',
    { ...fixture('m.rtc.member/sticky.json'), content: dave() },
    T0,
    value(entry()),
  ],
  [
    'stable type, stable sticky key',
    stickyEvent(DAVE, stableKeyOnly, { type: 'm.rtc.member' }),
    T0,
    { ...value(entry()), eventType: 'm.rtc.member' },
  ],
  ['both sticky keys, equal', stickyEvent(DAVE, dave({ sticky_key: KEY })), T0, value(entry())],
  [
    'both sticky keys, different',
    stickyEvent(DAVE, dave({ sticky_key: 'other' })),
    T0,
    ignored('bad_sticky_key'),
  ],
  ['missing sticky key', stickyEvent(DAVE, noKey), T0, ignored('bad_sticky_key')],
  [
    'sticky key not a string',
    stickyEvent(DAVE, dave({ msc4354_sticky_key: 7 })),
    T0,
    ignored('bad_sticky_key'),
  ],
  ['sticky key empty', stickyEvent(DAVE, dave({ msc4354_sticky_key: '' })), T0, ignored('bad_sticky_key')],
  [
    'not sticky: no sticky object',
    stickyEvent(DAVE, dave(), { durationMs: null }),
    T0,
    ignored('not_sticky'),
  ],
  [
    'not sticky: sticky without duration_ms',
    { ...stickyEvent(DAVE, dave(), { durationMs: null }), sticky: {} },
    T0,
    ignored('not_sticky'),
  ],
  ['not sticky: negative duration', stickyEvent(DAVE, dave(), { durationMs: -1 }), T0, ignored('not_sticky')],
  [
    'not sticky: fractional duration',
    stickyEvent(DAVE, dave(), { durationMs: 1.5 }),
    T0,
    ignored('not_sticky'),
  ],
  [
    'unstable msc4354_sticky at top level',
    stickyEvent(DAVE, dave(), { stickyField: 'msc4354_sticky', durationMs: 600_000 }),
    T0,
    value(entry({ expiresAt: T0 + 600_000 })),
  ],
  [
    'duration capped to 1 h',
    stickyEvent(DAVE, dave(), { durationMs: 5 * HOUR }),
    T0,
    value(entry({ expiresAt: T0 + HOUR })),
  ],
  [
    'origin_server_ts in the future: the stickiness starts at receipt',
    stickyEvent(DAVE, dave(), { ts: T0 + 10 * 60_000 }),
    T0,
    value(entry({ expiresAt: T0 + HOUR }), T0),
  ],
  [
    'received late: the stickiness starts at origin_server_ts',
    stickyEvent(DAVE, dave(), { ts: T0 }),
    T0 + 20 * 60_000,
    value(entry({ expiresAt: T0 + HOUR })),
  ],
  [
    'member.user_id ≠ sender',
    stickyEvent(DAVE, withMember({ user_id: '@alice:example.org' })),
    T0,
    value('invalid'),
  ],
  ['member.user_id missing', stickyEvent(DAVE, withMember({ user_id: undefined })), T0, value('invalid')],
  ['member.device_id missing', stickyEvent(DAVE, withMember({ device_id: undefined })), T0, value('invalid')],
  ['member not an object', stickyEvent(DAVE, dave({ member: 'DAVEDEV' })), T0, value('invalid')],
  ['member.membership unknown', stickyEvent(DAVE, withMember({ membership: 'knock' })), T0, value('invalid')],
  ['member.membership join', stickyEvent(DAVE, withMember({ membership: 'join' })), T0, value(entry())],
  ['member.membership leave', stickyEvent(DAVE, withMember({ membership: 'leave' })), T0, value('leave')],
  ['content holds only the sticky key', stickyEvent(DAVE, { msc4354_sticky_key: KEY }), T0, value('leave')],
  [
    'content holds only both sticky keys',
    stickyEvent(DAVE, { msc4354_sticky_key: KEY, sticky_key: KEY }),
    T0,
    value('leave'),
  ],
  ['slot_id without #', stickyEvent(DAVE, dave({ slot_id: 'm.call' })), T0, value('invalid')],
  [
    'slot_id with a call id',
    stickyEvent(DAVE, dave({ slot_id: 'm.call#1700000000000aBcD' })),
    T0,
    value(entry({ callId: '1700000000000aBcD' })),
  ],
  [
    'application missing: taken from slot_id',
    stickyEvent(DAVE, dave({ application: undefined, slot_id: 'io.example#x' })),
    T0,
    value(entry({ callId: 'x', application: 'io.example' })),
  ],
  ['application not an object', stickyEvent(DAVE, dave({ application: 'm.call' })), T0, value('invalid')],
  [
    'transports.published (newer MSC text)',
    stickyEvent(DAVE, { ...noTransports, transports: { published: [{ type: 'x', ...REMOTE_SFU }] } }),
    T0,
    value(entry({ activeFoci: [REMOTE_SFU] })),
  ],
  [
    'first transport with user_id and device_id is the active focus',
    stickyEvent(
      DAVE,
      dave({ rtc_transports: [{ type: 'livekit', livekit_service_url: 'https://x' }, SFU, REMOTE_SFU] }),
    ),
    T0,
    value(entry({ activeFoci: [SFU] })),
  ],
  [
    'no transport names a focus',
    stickyEvent(DAVE, dave({ rtc_transports: [{ type: 'livekit' }] })),
    T0,
    value(entry({ activeFoci: [] })),
  ],
  ['no transports at all', stickyEvent(DAVE, noTransports), T0, value(entry({ activeFoci: [] }))],
  ['rtc_transports not an array', stickyEvent(DAVE, dave({ rtc_transports: SFU })), T0, value('invalid')],
  [
    'transports.published not an array',
    stickyEvent(DAVE, { ...noTransports, transports: { published: SFU } }),
    T0,
    value('invalid'),
  ],
  [
    'with a state_key: not a format (d) event',
    { ...stickyEvent(DAVE, dave()), state_key: '' },
    T0,
    ignored('unknown_type'),
  ],
  [
    'content not an object',
    stickyEvent(DAVE, 'x' as unknown as Record<string, unknown>),
    T0,
    ignored('malformed'),
  ],
  ['no sender', { ...stickyEvent(DAVE, dave()), sender: undefined }, T0, ignored('malformed')],
];

t.test('format (d) parser table', async (t) => {
  for (const [name, event, receivedAt, expected] of rows) {
    const got = parseEvent(event, receivedAt);
    t.match(got, expected, name);
    if (expected.kind === 'rtc_member') {
      const parsed = (got as { parsed?: Record<string, unknown> }).parsed ?? {};
      const want = expected.parsed as Record<string, unknown>;
      t.same(parsed.entry, want.entry, `${name}: exact entry`);
      t.equal(parsed.invalid, want.invalid, `${name}: validity`);
    }
  }
});

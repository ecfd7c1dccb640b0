// Incoming to-device call events (protocol.md §4.1, §4.2) and outgoing content (§4.4, §8): a golden table.
import t from 'tap';
import {
  answerContent,
  baseContent,
  canReply,
  candidatesContent,
  cascadeInviteContent,
  endOfCandidates,
  exceedsUtf8Bytes,
  hangupContent,
  negotiateContent,
  negotiateOfferContent,
  parseCallEvent,
  type CallEvent,
  type ParsedCallEvent,
} from '../../../src/protocol/toDevice.js';

const FOCUS = { userId: '@sfu:example.org', deviceId: 'SFUDEV1' };
const LIMITS = { maxInviteSdpBytes: 1024 };
const SDP = 'v=0\r\no=- 4611731400430 2 IN IP4 127.0.0.1\r\n...';

const METADATA = {
  'alice-s': {
    user_id: '@alice:example.org',
    device_id: 'ALICEDEV',
    purpose: 'm.usermedia',
    audio_muted: false,
    video_muted: false,
    tracks: { 'alice-a': { kind: 'audio' }, 'alice-v': { kind: 'video', width: 1280, height: 720 } },
  },
};

/** §4.1 common fields as Alice sends them. */
const COMMON = {
  call_id: '1700000000123xYz',
  conf_id: '1700000000000aBcD',
  party_id: 'ALICEDEV',
  version: '1',
  device_id: 'ALICEDEV',
  sender_session_id: 's-alice-1',
  dest_session_id: 'sfu',
};

const BASE = {
  callId: '1700000000123xYz',
  confId: '1700000000000aBcD',
  partyId: 'ALICEDEV',
  version: '1',
  deviceId: 'ALICEDEV',
  senderSessionId: 's-alice-1',
  destSessionId: 'sfu',
} as const;

/** §4.2's invite example, verbatim. */
const INVITE: Record<string, unknown> = {
  ...COMMON,
  seq: 0,
  lifetime: 60000,
  invitee: '@sfu:example.org',
  offer: { type: 'offer', sdp: SDP },
  capabilities: { 'm.call.transferee': false, 'm.call.dtmf': false },
  'org.matrix.msc3077.sdp_stream_metadata': METADATA,
};

/** §2.4's candidates example. */
const CANDIDATES: Record<string, unknown> = {
  ...COMMON,
  seq: 1,
  candidates: [
    {
      candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'aBcD',
    },
    { candidate: '' },
  ],
};

function parse(type: string, content: unknown, focus = FOCUS): ParsedCallEvent {
  return parseCallEvent(type, content, LIMITS, focus);
}

/** `content` with `over` applied; a key set to undefined is removed. */
function w(content: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries({ ...content, ...over }).filter(([, v]) => v !== undefined));
}

const OTHER_FOCUS = { userId: '@sfu:other.example', deviceId: 'SFUDEV2' };

const valid: [name: string, type: string, content: unknown, expected: CallEvent, focus?: typeof FOCUS][] = [
  [
    'invite (§4.2 example)',
    'm.call.invite',
    INVITE,
    {
      type: 'm.call.invite',
      ...BASE,
      seq: 0,
      sdp: SDP,
      invitee: '@sfu:example.org',
      metadata: METADATA,
      cascade: false,
      lifetimeMs: 60000,
    },
  ],
  [
    'invite: minimal, numeric version, stable metadata key, room_id, dest = focus device',
    'm.call.invite',
    {
      ...COMMON,
      version: 1,
      conf_id: '',
      dest_session_id: 'SFUDEV1',
      room_id: '!r1:example.org',
      offer: { type: 'offer', sdp: SDP },
      sdp_stream_metadata: { s: {} },
      'org.matrix.msgid': 'abc',
    },
    {
      type: 'm.call.invite',
      ...BASE,
      confId: '',
      destSessionId: 'SFUDEV1',
      roomId: '!r1:example.org',
      sdp: SDP,
      metadata: { s: {} },
      cascade: false,
    },
  ],
  [
    'invite without metadata: {}; a non-numeric lifetime is ignored',
    'm.call.invite',
    { ...COMMON, lifetime: 'forever', offer: { type: 'offer', sdp: SDP } },
    { type: 'm.call.invite', ...BASE, sdp: SDP, metadata: {}, cascade: false },
  ],
  [
    'cascade invite (§8 example) at the remote focus',
    'm.call.invite',
    {
      call_id: 'cascade-1700000000500-k3',
      conf_id: '1700000000000aBcD',
      party_id: 'SFUDEV1',
      version: '1',
      device_id: 'SFUDEV1',
      sender_session_id: 'sfu',
      dest_session_id: 'sfu',
      room_id: '!r1:example.org',
      invitee: '@sfu:other.example',
      lifetime: 60000,
      offer: { type: 'offer', sdp: 'v=0\r\n...' },
      'org.matrix.msc3077.sdp_stream_metadata': {},
      'org.matrix.msc3898.cascade': true,
    },
    {
      type: 'm.call.invite',
      callId: 'cascade-1700000000500-k3',
      confId: '1700000000000aBcD',
      partyId: 'SFUDEV1',
      version: '1',
      deviceId: 'SFUDEV1',
      senderSessionId: 'sfu',
      destSessionId: 'sfu',
      roomId: '!r1:example.org',
      sdp: 'v=0\r\n...',
      invitee: '@sfu:other.example',
      metadata: {},
      cascade: true,
      lifetimeMs: 60000,
    },
    OTHER_FOCUS,
  ],
  [
    'candidates (§2.4 example)',
    'm.call.candidates',
    CANDIDATES,
    {
      type: 'm.call.candidates',
      ...BASE,
      seq: 1,
      candidates: [
        {
          candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
          usernameFragment: 'aBcD',
        },
        { candidate: '' },
      ],
    },
  ],
  [
    'candidates with RTCIceCandidate.toJSON() nulls',
    'm.call.candidates',
    { ...COMMON, candidates: [{ candidate: '', sdpMid: null, sdpMLineIndex: null, usernameFragment: null }] },
    { type: 'm.call.candidates', ...BASE, candidates: [{ candidate: '' }] },
  ],
  [
    'select_answer',
    'm.call.select_answer',
    { ...COMMON, seq: 2, selected_party_id: 'SFUDEV1' },
    { type: 'm.call.select_answer', ...BASE, seq: 2, selectedPartyId: 'SFUDEV1' },
  ],
  [
    'select_answer naming another party still parses (the session layer refuses it)',
    'm.call.select_answer',
    { ...COMMON, selected_party_id: 'OTHER' },
    { type: 'm.call.select_answer', ...BASE, selectedPartyId: 'OTHER' },
  ],
  [
    'negotiate offer with metadata',
    'm.call.negotiate',
    {
      ...COMMON,
      description: { type: 'offer', sdp: SDP },
      'org.matrix.msc3077.sdp_stream_metadata': METADATA,
    },
    { type: 'm.call.negotiate', ...BASE, description: { type: 'offer', sdp: SDP }, metadata: METADATA },
  ],
  [
    'negotiate answer without metadata',
    'm.call.negotiate',
    { ...COMMON, description: { type: 'answer', sdp: SDP } },
    { type: 'm.call.negotiate', ...BASE, description: { type: 'answer', sdp: SDP } },
  ],
  [
    'answer of a remote focus to a link invite (§8.1), with metadata',
    'm.call.answer',
    { ...COMMON, answer: { type: 'answer', sdp: SDP }, 'org.matrix.msc3077.sdp_stream_metadata': {} },
    { type: 'm.call.answer', ...BASE, sdp: SDP, metadata: {} },
  ],
  [
    'answer without metadata',
    'm.call.answer',
    { ...COMMON, answer: { type: 'answer', sdp: SDP } },
    { type: 'm.call.answer', ...BASE, sdp: SDP },
  ],
  [
    'hangup with reason',
    'm.call.hangup',
    { ...COMMON, seq: 3, reason: 'user_hangup' },
    { type: 'm.call.hangup', ...BASE, seq: 3, reason: 'user_hangup' },
  ],
  ['hangup without reason', 'm.call.hangup', COMMON, { type: 'm.call.hangup', ...BASE }],
];

t.test('valid events parse to their typed value', async (t) => {
  for (const [name, type, content, expected, focus] of valid) {
    t.same(parse(type, content, focus), { ok: true, event: expected }, name);
  }
  const cascade = valid.find(([n]) => n.startsWith('cascade'))!;
  t.match(parse(cascade[1], cascade[2]), { errcode: 'M_INVALID_PARAM' }, 'the same invite at another focus');
});

type Errcode = 'M_BAD_JSON' | 'M_INVALID_PARAM' | 'M_LIMIT_EXCEEDED';
const long = 'x'.repeat(256);

const invalid: [name: string, type: string, content: unknown, errcode: Errcode][] = [
  ['content not an object (string)', 'm.call.invite', 'hello', 'M_BAD_JSON'],
  ['content null', 'm.call.invite', null, 'M_BAD_JSON'],
  ['content an array', 'm.call.hangup', [COMMON], 'M_BAD_JSON'],
  ['missing call_id', 'm.call.invite', w(INVITE, { call_id: undefined }), 'M_BAD_JSON'],
  ['numeric call_id', 'm.call.invite', w(INVITE, { call_id: 17 }), 'M_BAD_JSON'],
  ['empty call_id', 'm.call.hangup', w(COMMON, { call_id: '' }), 'M_BAD_JSON'],
  ['call_id null', 'm.call.hangup', w(COMMON, { call_id: null }), 'M_BAD_JSON'],
  ['conf_id missing', 'm.call.invite', w(INVITE, { conf_id: undefined }), 'M_BAD_JSON'],
  ['conf_id 256 chars', 'm.call.invite', w(INVITE, { conf_id: long }), 'M_BAD_JSON'],
  ['256-char party_id', 'm.call.invite', w(INVITE, { party_id: long }), 'M_BAD_JSON'],
  ['version "2"', 'm.call.invite', w(INVITE, { version: '2' }), 'M_INVALID_PARAM'],
  ['version 2', 'm.call.invite', w(INVITE, { version: 2 }), 'M_INVALID_PARAM'],
  ['version 0', 'm.call.hangup', w(COMMON, { version: 0 }), 'M_INVALID_PARAM'],
  ['version true', 'm.call.invite', w(INVITE, { version: true }), 'M_BAD_JSON'],
  ['version missing', 'm.call.invite', w(INVITE, { version: undefined }), 'M_BAD_JSON'],
  ['device_id missing', 'm.call.invite', w(INVITE, { device_id: undefined }), 'M_BAD_JSON'],
  ['sender_session_id 256 chars', 'm.call.invite', w(INVITE, { sender_session_id: long }), 'M_BAD_JSON'],
  ['dest_session_id "other"', 'm.call.invite', w(INVITE, { dest_session_id: 'other' }), 'M_INVALID_PARAM'],
  ['dest_session_id missing', 'm.call.invite', w(INVITE, { dest_session_id: undefined }), 'M_BAD_JSON'],
  ['dest_session_id numeric', 'm.call.hangup', w(COMMON, { dest_session_id: 1 }), 'M_BAD_JSON'],
  ['seq -1', 'm.call.invite', w(INVITE, { seq: -1 }), 'M_BAD_JSON'],
  ['seq 1.5', 'm.call.invite', w(INVITE, { seq: 1.5 }), 'M_BAD_JSON'],
  ['seq "0"', 'm.call.candidates', w(CANDIDATES, { seq: '0' }), 'M_BAD_JSON'],
  ['room_id without "!"', 'm.call.invite', w(INVITE, { room_id: 'r1:example.org' }), 'M_BAD_JSON'],
  ['room_id numeric', 'm.call.invite', w(INVITE, { room_id: 1 }), 'M_BAD_JSON'],
  ['offer missing', 'm.call.invite', w(INVITE, { offer: undefined }), 'M_BAD_JSON'],
  ['offer type "answer"', 'm.call.invite', w(INVITE, { offer: { type: 'answer', sdp: SDP } }), 'M_BAD_JSON'],
  ['offer sdp missing', 'm.call.invite', w(INVITE, { offer: { type: 'offer' } }), 'M_BAD_JSON'],
  ['offer a string', 'm.call.invite', w(INVITE, { offer: SDP }), 'M_BAD_JSON'],
  [
    'oversize sdp',
    'm.call.invite',
    w(INVITE, { offer: { type: 'offer', sdp: 'a'.repeat(1025) } }),
    'M_LIMIT_EXCEEDED',
  ],
  [
    'sdp of 1024 chars but 1025 UTF-8 bytes',
    'm.call.invite',
    w(INVITE, { offer: { type: 'offer', sdp: 'é' + 'a'.repeat(1023) } }),
    'M_LIMIT_EXCEEDED',
  ],
  ['invitee another user', 'm.call.invite', w(INVITE, { invitee: '@bob:example.org' }), 'M_INVALID_PARAM'],
  ['invitee numeric', 'm.call.invite', w(INVITE, { invitee: 5 }), 'M_BAD_JSON'],
  [
    'metadata not an object',
    'm.call.invite',
    w(INVITE, { 'org.matrix.msc3077.sdp_stream_metadata': [] }),
    'M_BAD_JSON',
  ],
  ['stable metadata not an object', 'm.call.invite', w(INVITE, { sdp_stream_metadata: 'x' }), 'M_BAD_JSON'],
  [
    'cascade not a boolean',
    'm.call.invite',
    w(INVITE, { 'org.matrix.msc3898.cascade': 'yes' }),
    'M_BAD_JSON',
  ],
  ['empty candidates array', 'm.call.candidates', w(CANDIDATES, { candidates: [] }), 'M_BAD_JSON'],
  ['candidates missing', 'm.call.candidates', w(CANDIDATES, { candidates: undefined }), 'M_BAD_JSON'],
  [
    'candidates an object',
    'm.call.candidates',
    w(CANDIDATES, { candidates: { candidate: '' } }),
    'M_BAD_JSON',
  ],
  [
    'candidate without `candidate`',
    'm.call.candidates',
    w(CANDIDATES, { candidates: [{ sdpMid: '0' }] }),
    'M_BAD_JSON',
  ],
  [
    'sdpMLineIndex "0"',
    'm.call.candidates',
    w(CANDIDATES, { candidates: [{ candidate: '', sdpMLineIndex: '0' }] }),
    'M_BAD_JSON',
  ],
  [
    'sdpMLineIndex -1',
    'm.call.candidates',
    w(CANDIDATES, { candidates: [{ candidate: '', sdpMLineIndex: -1 }] }),
    'M_BAD_JSON',
  ],
  [
    'sdpMid numeric',
    'm.call.candidates',
    w(CANDIDATES, { candidates: [{ candidate: '', sdpMid: 0 }] }),
    'M_BAD_JSON',
  ],
  ['candidate entry null', 'm.call.candidates', w(CANDIDATES, { candidates: [null] }), 'M_BAD_JSON'],
  ['selected_party_id missing', 'm.call.select_answer', COMMON, 'M_BAD_JSON'],
  ['selected_party_id numeric', 'm.call.select_answer', w(COMMON, { selected_party_id: 1 }), 'M_BAD_JSON'],
  ['negotiate without description', 'm.call.negotiate', COMMON, 'M_BAD_JSON'],
  ['answer without answer', 'm.call.answer', COMMON, 'M_BAD_JSON'],
  [
    'answer description of type "offer"',
    'm.call.answer',
    w(COMMON, { answer: { type: 'offer', sdp: SDP } }),
    'M_BAD_JSON',
  ],
  [
    'negotiate description type "pranswer"',
    'm.call.negotiate',
    w(COMMON, { description: { type: 'pranswer', sdp: SDP } }),
    'M_BAD_JSON',
  ],
  [
    'negotiate oversize sdp',
    'm.call.negotiate',
    w(COMMON, { description: { type: 'offer', sdp: 'a'.repeat(2000) } }),
    'M_LIMIT_EXCEEDED',
  ],
  ['hangup reason numeric', 'm.call.hangup', w(COMMON, { reason: 42 }), 'M_BAD_JSON'],
  [
    'malformed wins over an invalid value',
    'm.call.invite',
    w(INVITE, { version: '2', offer: undefined }),
    'M_BAD_JSON',
  ],
  [
    'invalid value wins over the size limit',
    'm.call.invite',
    w(INVITE, { dest_session_id: 'other', offer: { type: 'offer', sdp: 'a'.repeat(5000) } }),
    'M_INVALID_PARAM',
  ],
];

t.test('invalid events: the expected errcode', async (t) => {
  t.ok(invalid.length >= 25, `${invalid.length} rows`);
  for (const [name, type, content, errcode] of invalid) {
    const r = parse(type, content);
    t.equal(r.ok ? 'ok' : r.errcode, errcode, name);
    if (!r.ok) {
      t.type(r.error, 'string', `${name}: error text`);
      t.not(r.error, '', `${name}: error text not empty`);
    }
  }
});

t.test('error texts name the field', async (t) => {
  const r = parse(
    'm.call.candidates',
    w(CANDIDATES, { candidates: [{ candidate: '' }, { sdpMLineIndex: 1 }] }),
  );
  t.match(r, { ok: false, errcode: 'M_BAD_JSON', error: /candidates\[1\]\.candidate/ });
  t.match(parse('m.call.invite', w(INVITE, { version: '2' })), { error: /version/ });
  t.match(parse('m.call.invite', w(INVITE, { invitee: '@bob:example.org' })), { error: /invitee/ });
});

t.test('reply addressing is filled whenever call_id and device_id are usable', async (t) => {
  const r = parse('m.call.invite', w(INVITE, { version: 7, party_id: long, offer: undefined }));
  t.same(r, {
    ok: false,
    errcode: 'M_BAD_JSON',
    error: 'party_id must be 1–255 characters long, got 256',
    reply: {
      userDeviceKnown: true,
      callId: '1700000000123xYz',
      deviceId: 'ALICEDEV',
      senderSessionId: 's-alice-1',
      confId: '1700000000000aBcD',
    },
  });
  t.ok(!r.ok && r.reply !== undefined && canReply(r.reply), 'canReply');

  const limit = parse('m.call.invite', w(INVITE, { offer: { type: 'offer', sdp: 'a'.repeat(2000) } }));
  t.match(limit, {
    ok: false,
    errcode: 'M_LIMIT_EXCEEDED',
    reply: { callId: '1700000000123xYz', partyId: 'ALICEDEV' },
  });

  const noCall = parse('m.call.invite', w(INVITE, { call_id: 5 }));
  t.same(!noCall.ok && noCall.reply, {
    userDeviceKnown: true,
    deviceId: 'ALICEDEV',
    senderSessionId: 's-alice-1',
    confId: '1700000000000aBcD',
    partyId: 'ALICEDEV',
  });
  t.notOk(!noCall.ok && noCall.reply !== undefined && canReply(noCall.reply), 'no call_id: cannot reply');

  const noDevice = parse('m.call.invite', w(INVITE, { device_id: undefined }));
  t.match(!noDevice.ok && noDevice.reply, { userDeviceKnown: false, callId: '1700000000123xYz' });
  t.notOk(
    !noDevice.ok && noDevice.reply !== undefined && canReply(noDevice.reply),
    'no device_id: cannot reply',
  );

  t.same(!parse('m.call.invite', null).ok && parse('m.call.invite', null), {
    ok: false,
    errcode: 'M_BAD_JSON',
    error: 'content must be an object, got null',
    reply: { userDeviceKnown: false },
  });
});

t.test('unknown m.call.* types are recognised as such', async (t) => {
  for (const type of ['m.call.reject', 'm.call.sdp_stream_metadata_changed', 'm.room.message']) {
    const r = parse(type, INVITE);
    t.match(r, { ok: false, errcode: 'M_UNRECOGNIZED' }, type);
    t.equal(!r.ok ? r.reply : 'ok', undefined, `${type}: no reply`);
  }
});

t.test('own properties only; ignored fields stay ignored', async (t) => {
  const proto = JSON.parse('{"__proto__": {"call_id": "evil"}}') as Record<string, unknown>;
  t.match(parse('m.call.hangup', { ...proto, ...w(COMMON, { call_id: undefined }) }), {
    errcode: 'M_BAD_JSON',
  });
  const withExtras = { ...INVITE, capabilities: 'weird', 'org.matrix.msgid': 12, lifetime: -1 };
  const r = parse('m.call.invite', withExtras);
  t.ok(r.ok, 'capabilities, msgid and lifetime are not checked');
  t.equal(r.ok && r.event.type === 'm.call.invite' ? r.event.lifetimeMs : 'x', undefined);
});

t.test('ids are measured in code points', async (t) => {
  const emoji = '😀'.repeat(255); // 510 UTF-16 units
  t.ok(parse('m.call.hangup', w(COMMON, { call_id: emoji })).ok, '255 code points is fine');
  t.match(parse('m.call.hangup', w(COMMON, { call_id: emoji + 'x' })), { errcode: 'M_BAD_JSON' });
});

t.test('exceedsUtf8Bytes', async (t) => {
  t.equal(exceedsUtf8Bytes('abc', 3), false);
  t.equal(exceedsUtf8Bytes('abcd', 3), true);
  t.equal(exceedsUtf8Bytes('é', 2), false);
  t.equal(exceedsUtf8Bytes('é', 1), true);
  t.equal(exceedsUtf8Bytes('€', 2), true);
  t.equal(exceedsUtf8Bytes('😀', 4), false);
  t.equal(exceedsUtf8Bytes('😀', 3), true);
  t.equal(exceedsUtf8Bytes('a'.repeat(100), 300), false);
  t.equal(exceedsUtf8Bytes('€'.repeat(100), 299), true);
  t.equal(exceedsUtf8Bytes('€'.repeat(100), 300), false);
});

// --- outgoing ----------------------------------------------------------------------------------

const SESSION = {
  callId: '1700000000123xYz',
  confId: '1700000000000aBcD',
  focusDeviceId: 'SFUDEV1',
  destSessionId: 's-alice-1',
};
/** §4.4's base fields, verbatim. */
const OUT_BASE = {
  call_id: '1700000000123xYz',
  conf_id: '1700000000000aBcD',
  party_id: 'SFUDEV1',
  version: '1',
  device_id: 'SFUDEV1',
  dest_session_id: 's-alice-1',
  sender_session_id: 'sfu',
};

t.test('builders produce the §4.4 shapes', async (t) => {
  const base = baseContent(SESSION);
  t.same(base, OUT_BASE, 'base');
  t.notOk('seq' in base, 'never a seq');

  t.same(answerContent(base, 'v=0\r\n...', {}), {
    ...OUT_BASE,
    answer: { type: 'answer', sdp: 'v=0\r\n...' },
    'org.matrix.msc3077.sdp_stream_metadata': {},
  });

  const host = {
    candidate: 'candidate:1 1 udp 2130706431 198.51.100.7 40000 typ host',
    sdpMid: '0',
    sdpMLineIndex: 0,
  };
  t.same(candidatesContent(base, [host]), { ...OUT_BASE, candidates: [host] });
  t.same(candidatesContent(base, [endOfCandidates('0', 0)]), {
    ...OUT_BASE,
    candidates: [{ candidate: '', sdpMid: '0', sdpMLineIndex: 0 }],
  });
  t.same(
    candidatesContent(base, [{ candidate: 'c', usernameFragment: 'u' }]),
    { ...OUT_BASE, candidates: [{ candidate: 'c', usernameFragment: 'u' }] },
    'absent optional candidate fields stay absent',
  );

  t.same(
    hangupContent(base, 'unknown_error', { errcode: 'M_FORBIDDEN', error: 'no membership names this focus' }),
    {
      ...OUT_BASE,
      reason: 'unknown_error',
      'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN', error: 'no membership names this focus' },
    },
  );
  t.same(
    hangupContent(base, 'unknown_error'),
    {
      ...OUT_BASE,
      reason: 'unknown_error',
      'org.matrix.msc3898.error': { errcode: 'M_UNKNOWN', error: 'internal error' },
    },
    'unknown_error always carries an error object',
  );
  for (const reason of ['keep_alive_timeout', 'user_hangup', 'ice_failed'] as const) {
    t.same(
      hangupContent(base, reason, { errcode: 'M_FORBIDDEN', error: 'x' }),
      { ...OUT_BASE, reason },
      reason,
    );
  }

  t.same(negotiateContent(base, 'v=0\r\nA', { s: {} }), {
    ...OUT_BASE,
    description: { type: 'answer', sdp: 'v=0\r\nA' },
    'org.matrix.msc3077.sdp_stream_metadata': { s: {} },
  });

  t.same(negotiateOfferContent(base, 'v=0\r\nO'), {
    ...OUT_BASE,
    description: { type: 'offer', sdp: 'v=0\r\nO' },
    'org.matrix.msc3077.sdp_stream_metadata': {},
  });

  const link = baseContent({
    callId: 'cascade-1700000000500-k3',
    confId: '1700000000000aBcD',
    focusDeviceId: 'SFUDEV1',
    destSessionId: 'sfu',
  });
  t.same(
    cascadeInviteContent(link, {
      roomId: '!r1:example.org',
      invitee: '@sfu:other.example',
      sdp: 'v=0\r\n...',
      metadata: {},
    }),
    {
      call_id: 'cascade-1700000000500-k3',
      conf_id: '1700000000000aBcD',
      party_id: 'SFUDEV1',
      version: '1',
      device_id: 'SFUDEV1',
      sender_session_id: 'sfu',
      dest_session_id: 'sfu',
      room_id: '!r1:example.org',
      invitee: '@sfu:other.example',
      lifetime: 60000,
      offer: { type: 'offer', sdp: 'v=0\r\n...' },
      'org.matrix.msc3077.sdp_stream_metadata': {},
      'org.matrix.msc3898.cascade': true,
    },
    '§8 cascade invite',
  );
});

t.test('what the SFU sends, it would accept (round trip through the parser)', async (t) => {
  const base = baseContent({ ...SESSION, destSessionId: 'sfu' });
  const peer = OTHER_FOCUS;
  const invite = cascadeInviteContent(base, {
    roomId: '!r1:example.org',
    invitee: peer.userId,
    sdp: SDP,
    metadata: {},
  });
  t.ok(parseCallEvent('m.call.invite', invite, LIMITS, peer).ok, 'invite');
  t.ok(
    parseCallEvent('m.call.candidates', candidatesContent(base, [endOfCandidates('0', 0)]), LIMITS, peer).ok,
  );
  t.ok(parseCallEvent('m.call.hangup', hangupContent(base, 'user_hangup'), LIMITS, peer).ok, 'hangup');
});

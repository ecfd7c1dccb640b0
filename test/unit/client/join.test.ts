// joinCall and Call (client/join.ts, client/call.ts) against a scripted homeserver and focus, no browser: the
// steps in order, the named error of each failure (and the clean-up after it), the call's events, and leave.
import t from 'tap';
import type { Call, CallEnd } from '../../../client/call.js';
import { joinCall, type JoinCallOptions } from '../../../client/join.js';
import { METADATA_KEY } from '../../../client/metadata.js';
import { FakeHomeserver } from './fakeHomeserver.js';
import { FakePeer, until } from './fakePeer.js';

const FOCUS = { user_id: '@sfu:example.org', device_id: 'SFUDEV1' };
const BOB = {
  'bob-s': {
    user_id: '@bob:example.org',
    device_id: 'BOBDEV',
    purpose: 'm.usermedia',
    tracks: { 'bob-a': { kind: 'audio' }, 'bob-v': { kind: 'video', width: 1280, height: 720 } },
  },
};

class DcPeer extends FakePeer {
  dc = 'open';
  dataChannelState(): string {
    return this.dc;
  }
}

type FocusReply = 'answer' | { hangup: Record<string, unknown> } | 'silent';

function setup(reply: FocusReply = 'answer') {
  const hs = new FakeHomeserver();
  hs.wellKnown = {
    status: 200,
    body: { 'org.matrix.msc4143.rtc_foci': [{ type: 'org.matrix.msc3898', ...FOCUS }] },
  };
  const peer = new DcPeer();
  hs.onToDevice = (type, c) => {
    if (type !== 'm.call.invite' || reply === 'silent') {
      return;
    }
    const base = {
      call_id: c['call_id'],
      conf_id: c['conf_id'],
      party_id: 'SFUDEV1',
      version: '1',
      device_id: 'SFUDEV1',
      dest_session_id: c['sender_session_id'],
      sender_session_id: 'sfu',
    };
    hs.inbox.push(
      reply === 'answer'
        ? {
            type: 'm.call.answer',
            sender: FOCUS.user_id,
            content: { ...base, answer: { type: 'answer', sdp: 'v=0\r\n' }, [METADATA_KEY]: BOB },
          }
        : { type: 'm.call.hangup', sender: FOCUS.user_id, content: { ...base, ...reply.hangup } },
    );
  };
  const opts = (over: Partial<JoinCallOptions> = {}): JoinCallOptions => ({
    hsUrl: 'https://hs.example.org',
    login: { user: 'alice', password: 'pw' },
    roomIdOrAlias: '#call:example.org',
    peer,
    fetch: hs.fetch,
    monitorMs: 10,
    coalesceMs: 5,
    ...over,
  });
  return { hs, peer, opts };
}

const MEMBER_PUT =
  'PUT /_matrix/client/v3/rooms/!room:example.org/state/org.matrix.msc3401.call.member/_@alice:example.org_ALICEDEV_m.call';
/** The last requests are the hangup and the membership removal, in either order (leave starts both at once). */
const hangupAndRemoval = (xs: readonly string[]): boolean =>
  xs.length === 2 &&
  xs.some((x) => toDevice('m.call.hangup').test(x)) &&
  xs.some((x) => x.includes(MEMBER_PUT));
const toDevice = (type: string) =>
  new RegExp(`^PUT /_matrix/client/v3/sendToDevice/${type.replace(/\./g, '\\.')}/`);

t.test(
  'join: login → room → .well-known focus → membership → invite; events; leave = hangup, membership {}, close',
  async (t) => {
    const { hs, peer, opts } = setup();
    const call = await joinCall(opts());
    t.teardown(() => call.leave().catch(() => undefined));
    t.match(call, {
      roomId: '!room:example.org',
      userId: '@alice:example.org',
      deviceId: 'ALICEDEV',
      focusSource: 'well-known',
      membershipFormat: 'c',
    });
    t.same(call.focus, FOCUS);
    const trail = hs.trail();
    t.match(trail.slice(0, 5), [
      'POST /_matrix/client/v3/login',
      'POST /_matrix/client/v3/join/#call:example.org',
      'GET /.well-known/matrix/client',
      MEMBER_PUT,
      toDevice('m.call.invite'),
    ]);
    t.match(hs.requests.find((r) => r.path.includes('/state/'))?.body, {
      focus_active: { type: 'org.matrix.msc3898', ...FOCUS },
    });
    t.same(peer.offers, [{ dataChannel: true, audio: true, video: { simulcast: true } }]);
    t.same(peer.sentData, ['{"op":"alive"}'], 'speaks dialect A from the start');
    t.match(
      call.participants,
      [
        {
          userId: '@bob:example.org',
          deviceId: 'BOBDEV',
          streams: [{ streamId: 'bob-s', tracks: [{ trackId: 'bob-a' }, { trackId: 'bob-v', width: 1280 }] }],
        },
      ],
      'from the answer',
    );

    const seen: { participants: number; speakers: unknown[]; errors: string[] } = {
      participants: 0,
      speakers: [],
      errors: [],
    };
    call.on('participants', () => seen.participants++);
    call.on('activeSpeaker', (s) => seen.speakers.push(s));
    call.on('error', (e) => seen.errors.push(`${e.name} ${e.errcode ?? ''}`));
    peer.receive({
      op: 'metadata',
      metadata: {
        ...BOB,
        'carol-s': {
          user_id: '@carol:example.org',
          device_id: 'C',
          tracks: { 'carol-v': { kind: 'video' } },
        },
      },
    });
    t.equal(seen.participants, 1);
    t.equal(call.participants.length, 2);
    peer.receive({
      op: 'active_speaker',
      user_id: '@bob:example.org',
      device_id: 'BOBDEV',
      stream_id: 'bob-s',
    });
    t.same(seen.speakers, [{ userId: '@bob:example.org', deviceId: 'BOBDEV', streamId: 'bob-s' }]);
    t.same(call.activeSpeaker, seen.speakers[0]);

    call.subscribe('bob-s', { width: 320, height: 180 });
    call.subscribe('bob-s', { width: 640, height: 360 });
    await until(() => peer.sentData.length === 2, 'the subscribe frame');
    t.same(JSON.parse(peer.sentData[1]!), {
      op: 'subscribe',
      id: 'sub-1',
      start: [
        { stream_id: 'bob-s', track_id: 'bob-a' },
        { stream_id: 'bob-s', track_id: 'bob-v', width: 640, height: 360 },
      ],
    });
    peer.receive({
      op: 'error',
      id: 'sub-1',
      errcode: 'M_NOT_FOUND',
      error: 'gone',
      failed: [{ stream_id: 'bob-s', track_id: 'bob-v' }],
    });
    t.same(
      seen.errors,
      ['FocusRequestError M_NOT_FOUND'],
      'a refused subscription is a non-fatal error event',
    );

    const ends: CallEnd[] = [];
    call.on('ended', (e) => ends.push(e));
    const before = hs.trail().length;
    await call.leave();
    const after = hs.trail().slice(before);
    t.ok(hangupAndRemoval(after), 'the hangup and the membership removal (sent at once), and nothing more');
    t.equal(after.length, 2);
    t.same(hs.requests.filter((r) => r.path.includes('/state/')).at(-1)?.body, {});
    t.match(hs.requests.find((r) => r.path.includes('m.call.hangup'))?.body, {
      messages: { [FOCUS.user_id]: { [FOCUS.device_id]: { reason: 'user_hangup' } } },
    });
    t.ok(peer.closed, 'the peer is closed');
    t.same(ends, [{ reason: 'left', error: undefined }]);
    await call.leave();
    t.equal(hs.trail().length, before + 2, 'leave is idempotent');
  },
);

t.test('bad input: each failure is a named error, and what was written is undone', async (t) => {
  {
    const { hs, opts } = setup();
    await t.rejects(joinCall(opts({ login: { user: 'alice', password: 'wrong' } })), {
      name: 'LoginError',
      errcode: 'M_FORBIDDEN',
      step: 'login',
    });
    t.same(hs.trail(), ['POST /_matrix/client/v3/login'], 'wrong password: nothing else happens');
  }
  {
    const { hs, opts } = setup();
    hs.overrides.set('POST /_matrix/client/v3/join/', {
      status: 403,
      body: { errcode: 'M_FORBIDDEN', error: 'not invited' },
    });
    await t.rejects(joinCall(opts()), {
      name: 'RoomJoinError',
      errcode: 'M_FORBIDDEN',
      step: 'room',
      hint: /invite/,
    });
  }
  {
    const { hs, opts } = setup();
    hs.overrides.set('POST /_matrix/client/v3/join/', { status: 401, body: { errcode: 'M_UNKNOWN_TOKEN' } });
    await t.rejects(
      joinCall(opts({ login: { userId: '@alice:example.org', accessToken: 'old', deviceId: 'ALICEDEV' } })),
      { name: 'LoginError', errcode: 'M_UNKNOWN_TOKEN' },
    );
    t.equal(hs.requests[0]?.auth, 'Bearer old', 'a token login skips /login');
  }
  {
    const { hs, opts } = setup();
    hs.wellKnown = { status: 404, body: {} };
    await t.rejects(joinCall(opts()), { name: 'NoFocusError', step: 'focus' });
    t.notOk(
      hs.trail().some((x) => x.includes('/state/')),
      'no membership written',
    );
  }
  {
    const { hs, peer, opts } = setup();
    hs.overrides.set('PUT /_matrix/client/v3/rooms/', {
      status: 403,
      body: { errcode: 'M_FORBIDDEN', error: 'power level' },
    });
    await t.rejects(joinCall(opts()), {
      name: 'CallPermissionError',
      errcode: 'M_FORBIDDEN',
      step: 'membership',
      hint: /power level/,
    });
    t.notOk(
      hs.trail().some((x) => x.includes('sendToDevice')),
      'no invite',
    );
    t.ok(peer.closed);
  }
  {
    const { hs, peer, opts } = setup({
      hangup: {
        reason: 'unknown_error',
        'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN', error: 'no membership names this focus' },
      },
    });
    await t.rejects(joinCall(opts()), {
      name: 'FocusRefusedError',
      errcode: 'M_FORBIDDEN',
      reason: 'unknown_error',
      message: /no membership names this focus/,
      hint: /membership/,
    });
    const trail = hs.trail();
    t.match(trail.at(-1), MEMBER_PUT, 'the membership is removed again');
    t.notOk(
      trail.some((x) => x.includes('m.call.hangup')),
      'no hangup for a call the focus already ended',
    );
    t.ok(peer.closed);
  }
  for (const [error, hint] of [
    ['too many invites from this device', /faster than it allows .*device_invites_per_second/],
    ['the call is full', /call is full .*max_participants/],
  ] as const) {
    const { opts } = setup({
      hangup: { reason: 'unknown_error', 'org.matrix.msc3898.error': { errcode: 'M_LIMIT_EXCEEDED', error } },
    });
    await t.rejects(
      joinCall(opts()),
      { name: 'FocusRefusedError', errcode: 'M_LIMIT_EXCEEDED', hint },
      error,
    );
  }
  {
    const { hs, opts } = setup('silent');
    await t.rejects(joinCall(opts({ timeouts: { answerMs: 100 } })), {
      name: 'FocusTimeoutError',
      step: 'invite',
      message: /did not answer within 100 ms/,
    });
    t.ok(hangupAndRemoval(hs.trail().slice(-2)), 'hangup, membership removed');
  }
  {
    const { hs, peer, opts } = setup();
    peer.waitDataChannelOpen = () => Promise.reject(new Error('data channel closed'));
    await t.rejects(joinCall(opts()), { name: 'DataChannelError', step: 'connect' });
    t.ok(hangupAndRemoval(hs.trail().slice(-2)), 'hangup, membership removed');
  }
});

t.test(
  'ended: the focus hangs up, or the data channel drops → named error, membership removed',
  async (t) => {
    const run = async (cause: (peer: DcPeer, hs: FakeHomeserver, call: Call) => void) => {
      const { hs, peer, opts } = setup();
      const call = await joinCall(opts());
      const ended = new Promise<CallEnd>((resolve) => call.on('ended', resolve));
      cause(peer, hs, call);
      const end = await ended;
      await call.leave();
      return { end, hs, peer, call };
    };
    const hungUp = await run((_peer, hs, call) => {
      hs.inbox.push({
        type: 'm.call.hangup',
        sender: FOCUS.user_id,
        content: {
          call_id: call.client.call!.callId,
          conf_id: '',
          party_id: 'SFUDEV1',
          version: '1',
          device_id: 'SFUDEV1',
          dest_session_id: call.client.sessionId,
          sender_session_id: 'sfu',
          reason: 'keep_alive_timeout',
        },
      });
    });
    t.match(hungUp.end, {
      reason: 'keep_alive_timeout',
      error: { name: 'CallEndedError', reason: 'keep_alive_timeout' },
    });
    t.match(hungUp.hs.trail().at(-1), MEMBER_PUT);
    t.notOk(hungUp.hs.trail().some((x) => x.includes('m.call.hangup')));
    t.ok(hungUp.peer.closed);

    const dropped = await run((peer) => {
      peer.dc = 'closed';
    });
    t.match(dropped.end, {
      reason: 'data_channel_closed',
      error: { name: 'DataChannelError', hint: /join again/i },
    });
    t.ok(hangupAndRemoval(dropped.hs.trail().slice(-2)), 'hangup, membership removed');
    const lost = await run((peer) => {
      peer.state = 'failed';
    });
    t.match(lost.end, { reason: 'connection_lost', error: { name: 'MediaConnectionError' } });
  },
);

t.test(
  'membership format: d writes a sticky member event; auto picks d where /versions announces MSC4354',
  async (t) => {
    for (const format of ['d', 'auto'] as const) {
      const { hs, opts } = setup();
      const call = await joinCall(opts({ membershipFormat: format }));
      t.equal(call.membershipFormat, 'd', format);
      const put = hs.requests.find((r) => r.path.includes('/send/org.matrix.msc4143.rtc.member/'));
      t.match(put?.body, {
        member: { user_id: '@alice:example.org', device_id: 'ALICEDEV' },
        rtc_transports: [{ ...FOCUS }],
      });
      await call.leave();
      t.match(hs.requests.filter((r) => r.path.includes('/send/')).at(-1)?.body, {
        msc4354_sticky_key: /^m-ALICEDEV-/,
      });
    }
    const { opts } = setup();
    const plain = await joinCall(opts({ membershipFormat: 'c' }));
    t.equal(plain.membershipFormat, 'c');
    await plain.leave();
  },
);

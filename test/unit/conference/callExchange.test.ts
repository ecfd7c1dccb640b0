/**
 * The to-device call exchange of a conference with fake ports (protocol.md §4.3–§4.5): invite → answer and
 * candidates ending with an empty candidate; renegotiation vs replacement vs a duplicate; refusals; hangup;
 * select_answer for another party; negotiate; a dropped answer; keep-alive and ICE failure hangups.
 */
import t from 'tap';
import { METADATA_KEY } from '../../../src/protocol/callContent.js';
import { BAD_SDP, FOCUS, idsOf, join, meta, refOf, rig, sdpOf, type Sent } from './fakes.js';

function types(sent: readonly Sent[]): string[] {
  return sent.map((s) => s.type);
}

t.test('invite: answer with the others’ metadata, then one candidates batch ending with ""', async (t) => {
  const r = rig();
  await join(r, 'alice');
  const [answer, cands, ...rest] = r.signal.take();
  t.same(rest, []);
  t.equal(answer?.type, 'm.call.answer');
  t.same(answer?.dest, { userId: '@alice:example.org', deviceId: 'ALICEDEV' });
  t.match(answer?.content, {
    call_id: 'call-alice',
    conf_id: 'conf1',
    party_id: FOCUS.device_id,
    device_id: FOCUS.device_id,
    dest_session_id: 's-alice',
    sender_session_id: 'sfu',
    version: '1',
    answer: { type: 'answer' },
    [METADATA_KEY]: {},
  });
  t.equal(cands?.type, 'm.call.candidates');
  t.same(cands?.content['candidates'], [
    { candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    { candidate: '', sdpMid: '0', sdpMLineIndex: 0 },
  ]);
  t.same(r.host.events, ['start:@alice:example.org|ALICEDEV|call-alice']);
  t.same(r.metrics.calls, ['invite:accepted']);

  await join(r, 'bob');
  const [bobAnswer] = r.signal.take();
  t.same(
    Object.keys(bobAnswer?.content[METADATA_KEY] as object),
    ['alice-s'],
    'bob is told of alice’s stream',
  );
  t.match(bobAnswer?.content[METADATA_KEY], {
    'alice-s': {
      user_id: '@alice:example.org',
      device_id: 'ALICEDEV',
      tracks: { 'alice-a': { kind: 'audio' } },
    },
  });
});

t.test('a peer without local candidates still ends its batch with an empty candidate', async (t) => {
  const r = rig();
  const ids = idsOf('alice');
  // The fake media layer's next peer has no candidates: patch it as it is created.
  const create = r.media.createPeer.bind(r.media);
  r.media.createPeer = (sdp: string) => {
    const p = create(sdp);
    p.candidates = [];
    return p;
  };
  await join(r, 'alice', ids);
  const cands = r.signal.take().find((s) => s.type === 'm.call.candidates');
  t.same(cands?.content['candidates'], [{ candidate: '', sdpMid: '0', sdpMLineIndex: 0 }]);
});

t.test('same call and sender session with a new offer → renegotiation on the same peer', async (t) => {
  const r = rig();
  const peer = await join(r, 'alice');
  r.signal.take();
  await r.conf.dispatch({
    kind: 'invite',
    ids: idsOf('alice'),
    sdp: sdpOf([{ kind: 'audio', stream: 'alice-s', track: 'alice-a' }], 2),
    metadata: {},
  });
  t.equal(r.media.peers.length, 1, 'no new peer');
  t.same(
    types(r.signal.take()),
    ['m.call.answer'],
    'a new answer; no candidates again on the same transport',
  );
  t.notOk(peer.closed);
  t.same(r.metrics.calls, ['invite:accepted', 'invite:renegotiated']);
  t.equal(r.conf.size, 1);
});

t.test('the same invite delivered twice is answered once', async (t) => {
  const r = rig();
  await join(r, 'alice');
  r.signal.take();
  await join(r, 'alice').catch(() => undefined);
  t.same(r.signal.take(), []);
  t.same(r.metrics.calls, ['invite:accepted', 'invite:duplicate']);
});

t.test(
  'a new call_id (or sender session) replaces the session: old hangup user_hangup, new answer',
  async (t) => {
    const r = rig();
    const old = await join(r, 'alice');
    r.signal.take();
    const fresh = await join(r, 'alice', idsOf('alice', { callId: 'call-alice-2' }));
    t.ok(old.closed, 'the old peer is closed');
    t.not(fresh, old);
    const [hangup, answer, cands] = r.signal.take();
    t.match(hangup, { type: 'm.call.hangup', content: { call_id: 'call-alice', reason: 'user_hangup' } });
    t.match(answer, { type: 'm.call.answer', content: { call_id: 'call-alice-2' } });
    t.equal(cands?.type, 'm.call.candidates');
    t.same(r.metrics.calls, ['invite:accepted', 'invite:replaced', 'ended:replaced', 'invite:accepted']);
    t.same(r.host.events.at(-1), 'start:@alice:example.org|ALICEDEV|call-alice-2');
    t.equal(r.conf.size, 1);
    await join(r, 'alice', idsOf('alice', { callId: 'call-alice-2', senderSessionId: 's-alice-2' }));
    t.match(r.signal.take()[0], {
      type: 'm.call.hangup',
      content: { dest_session_id: 's-alice', reason: 'user_hangup' },
    });
  },
);

t.test(
  'format (a): an invite whose sender_session_id is not the membership session_id is refused at once',
  async (t) => {
    const r = rig();
    r.oracle.decisions.set('@erin:example.org|ERINDEV', {
      allowed: true,
      expiresAt: Number.MAX_SAFE_INTEGER,
      sessionId: 's-erin-other',
    });
    await t.rejects(join(r, 'erin'), 'no peer is made');
    t.match(r.signal.take(), [
      {
        type: 'm.call.hangup',
        content: {
          call_id: 'call-erin',
          reason: 'unknown_error',
          'org.matrix.msc3898.error': {
            errcode: 'M_FORBIDDEN',
            error: 'the device’s call membership names another session',
          },
        },
      },
    ]);
    t.equal(r.conf.size, 0, 'not admitted (it would be hung up at the next recheck)');
    const ok = rig();
    ok.oracle.decisions.set('@erin:example.org|ERINDEV', {
      allowed: true,
      expiresAt: Number.MAX_SAFE_INTEGER,
      sessionId: 's-erin',
    });
    await join(ok, 'erin');
    t.equal(ok.conf.size, 1, 'the same session_id: admitted');
    await ok.conf.dispatch({ kind: 'recheck' });
    t.equal(ok.conf.size, 1, 'and kept by a recheck');
  },
);

t.test('refusals: no authorization, a full conference, no peer, a bad offer', async (t) => {
  const r = rig({ max_participants: 1 });
  r.oracle.decisions.set('@mallory:example.org|MALLORYDEV', { allowed: false, reason: 'other_focus' });
  await t.rejects(join(r, 'mallory'), 'no peer is made for a refused invite');
  t.match(r.signal.take(), [
    {
      type: 'm.call.hangup',
      content: {
        call_id: 'call-mallory',
        reason: 'unknown_error',
        'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN', error: 'no membership names this focus' },
      },
    },
  ]);
  t.same(r.host.events, ['empty'], 'a refused first invite leaves the conference empty');
  t.ok(r.conf.closed, 'and closes it (the owner opens a new one for the next invite)');

  const full = rig({ max_participants: 1 });
  await join(full, 'alice');
  full.signal.take();
  await t.rejects(join(full, 'bob'));
  t.match(full.signal.take(), [
    { type: 'm.call.hangup', content: { 'org.matrix.msc3898.error': { errcode: 'M_LIMIT_EXCEEDED' } } },
  ]);

  const r2 = rig();
  r2.media.failNext = true;
  await t.rejects(join(r2, 'carol'));
  t.match(r2.signal.take(), [{ content: { 'org.matrix.msc3898.error': { errcode: 'M_UNKNOWN' } } }]);

  const r3 = rig();
  await r3.conf.dispatch({ kind: 'invite', ids: idsOf('dave'), sdp: BAD_SDP, metadata: {} });
  t.ok(r3.media.peers[0]?.closed, 'the peer of a bad offer is closed');
  t.match(r3.signal.take(), [
    {
      type: 'm.call.hangup',
      content: { reason: 'unknown_error', 'org.matrix.msc3898.error': { errcode: 'M_INVALID_PARAM' } },
    },
  ]);
  t.equal(r3.conf.size, 0);
  t.same(r3.metrics.calls, ['invite:failed', 'ended:bad_offer']);
});

t.test(
  'hangup from the client: session closed without reply; the last one empties the conference',
  async (t) => {
    const r = rig();
    const peer = await join(r, 'alice');
    r.signal.take();
    await r.conf.dispatch({ kind: 'hangup', session: refOf(idsOf('alice')), reason: 'user_hangup' });
    t.ok(peer.closed);
    t.same(r.signal.take(), []);
    t.same(r.metrics.calls.at(-1), 'ended:remote_hangup');
    t.same(r.host.events.slice(1), ['end:@alice:example.org|ALICEDEV|call-alice', 'empty']);
    t.ok(r.conf.closed);
  },
);

t.test(
  'select_answer: the focus → nothing; another party → hangup unknown_error + M_INVALID_PARAM',
  async (t) => {
    const r = rig();
    const peer = await join(r, 'alice');
    r.signal.take();
    await r.conf.dispatch({
      kind: 'selectAnswer',
      session: refOf(idsOf('alice')),
      selectedPartyId: FOCUS.device_id,
    });
    t.same(r.signal.take(), []);
    t.notOk(peer.closed);
    await r.conf.dispatch({ kind: 'selectAnswer', session: refOf(idsOf('alice')), selectedPartyId: 'OTHER' });
    t.ok(peer.closed);
    t.match(r.signal.take(), [
      {
        type: 'm.call.hangup',
        content: {
          reason: 'unknown_error',
          'org.matrix.msc3898.error': {
            errcode: 'M_INVALID_PARAM',
            error: 'the answer of party OTHER was selected',
          },
        },
      },
    ]);
  },
);

t.test('negotiate: an offer is answered by m.call.negotiate; an answer is ignored', async (t) => {
  const r = rig();
  await join(r, 'alice');
  await join(r, 'bob');
  r.signal.take();
  const ref = refOf(idsOf('alice'));
  await r.conf.dispatch({
    kind: 'negotiate',
    session: ref,
    description: { type: 'answer', sdp: sdpOf([]) },
    metadata: {},
  });
  t.same(r.signal.take(), []);
  await r.conf.dispatch({
    kind: 'negotiate',
    session: ref,
    description: {
      type: 'offer',
      sdp: sdpOf([
        { kind: 'audio', stream: 'alice-s', track: 'alice-a' },
        { kind: 'video', stream: 'alice-scr', track: 'alice-sv' },
      ]),
    },
    metadata: meta('alice-scr', { 'alice-sv': 'video' }, { purpose: 'm.screenshare' }) as Record<
      string,
      unknown
    >,
  });
  const [reply, ...rest] = r.signal.take();
  t.same(rest, []);
  t.match(reply, {
    type: 'm.call.negotiate',
    content: { description: { type: 'answer' }, [METADATA_KEY]: { 'bob-s': {} } },
  });
  t.same(
    r.metrics.calls.filter((c) => c.startsWith('invite')),
    ['invite:accepted', 'invite:accepted'],
  );
});

t.test('candidates go to the session; early candidates of an invite follow its answer', async (t) => {
  const r = rig();
  const ids = idsOf('alice');
  const first = r.conf.dispatch({
    kind: 'invite',
    ids,
    sdp: sdpOf([{ kind: 'audio', stream: 'alice-s', track: 'alice-a' }]),
    metadata: {},
    candidates: [{ candidate: 'candidate:early' }],
  });
  const more = r.conf.dispatch({
    kind: 'candidates',
    session: refOf(ids),
    candidates: [{ candidate: 'candidate:late' }, { candidate: '' }],
  });
  await Promise.all([first, more]);
  t.same(
    r.media.peers[0]?.remoteCandidates.map((c) => c.candidate),
    ['candidate:early', 'candidate:late', ''],
  );
});

t.test('a dropped answer ends its session without a hangup', async (t) => {
  const r = rig();
  r.signal.result = 'dropped';
  const peer = await join(r, 'alice');
  await r.conf.idle();
  t.ok(peer.closed);
  t.equal(r.metrics.calls.at(-1), 'ended:answer_dropped');
  t.same(types(r.signal.take()), ['m.call.answer', 'm.call.candidates']);
});

t.test('keep-alive timeout and ICE failure hang up with their reasons', async (t) => {
  const r = rig();
  const alice = await join(r, 'alice');
  const bob = await join(r, 'bob');
  bob.open();
  r.signal.take();
  r.clock.advance(20_000);
  bob.client({ type: 'm.call.pong', content: {} });
  r.clock.advance(10_000);
  await r.conf.idle();
  t.ok(alice.closed, 'no DC traffic for 30 s');
  t.match(r.signal.take(), [
    { type: 'm.call.hangup', content: { call_id: 'call-alice', reason: 'keep_alive_timeout' } },
  ]);
  t.notOk(bob.closed, 'bob spoke 10 s ago');
  bob.emit('state', 'connected');
  bob.emit('state', 'failed');
  await r.conf.idle();
  t.ok(bob.closed);
  t.match(r.signal.take(), [
    { type: 'm.call.hangup', content: { call_id: 'call-bob', reason: 'ice_failed' } },
  ]);
  t.ok(r.metrics.calls.includes('ice'), 'the connect time was observed');
});

t.test(
  'a lone participant replacing its session keeps the conference open (nothing closes under it)',
  async (t) => {
    const r = rig();
    await join(r, 'alice');
    r.signal.take();
    await join(r, 'alice', idsOf('alice', { callId: 'call-alice-2' }));
    t.notOk(r.conf.closed, 'the conference is still open');
    t.notOk(r.host.events.includes('empty'), 'the owner is not told it is empty');
    t.equal(r.conf.size, 1);
    r.signal.take();
    // A second participant joins the same conference and is told of alice's stream.
    await join(r, 'bob');
    const bobAnswer = r.signal.take().find((s) => s.type === 'm.call.answer');
    t.same(Object.keys(bobAnswer?.content[METADATA_KEY] as object), ['alice-s']);
  },
);

t.test('a replacement that is refused closes the conference it left empty', async (t) => {
  const r = rig();
  await join(r, 'alice');
  r.signal.take();
  await r.conf.dispatch({
    kind: 'invite',
    ids: idsOf('alice', { callId: 'call-alice-2' }),
    sdp: BAD_SDP,
    metadata: {},
  });
  t.equal(r.conf.size, 0);
  t.ok(r.conf.closed, 'closed once the replacement did not start');
  t.equal(r.host.events.filter((e) => e === 'empty').length, 1, 'the owner is told once');
});

t.test('an invite queued on a conference that closed meanwhile goes to the owner', async (t) => {
  const r = rig();
  await join(r, 'alice');
  r.signal.take();
  const hangup = r.conf.dispatch({ kind: 'hangup', session: refOf(idsOf('alice')) });
  const late = r.conf.dispatch({
    kind: 'invite',
    ids: idsOf('bob'),
    sdp: sdpOf([{ kind: 'audio', stream: 'bob-s', track: 'bob-a' }]),
    metadata: {},
  });
  await Promise.all([hangup, late]);
  t.ok(r.conf.closed);
  t.equal(r.conf.size, 0, 'bob did not start in the closed conference');
  t.equal(r.host.events.at(-1), 'reroute:@bob:example.org|BOBDEV|call-bob');
});

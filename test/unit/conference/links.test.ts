// Link calls of one conference (protocol.md §8.1, §8.7, §8.8) with fake link peers and relays: invites in and
// out, refusals (no membership names the inviter, a client claiming cascade, max_links), crossing invites,
// replacement, the link data channel, liveness actions and linger teardown.
import t from 'tap';
import { FOCUS, idsOf, join, type Sent } from './fakes.js';
import {
  advance,
  linkIds,
  linkRef,
  linkRig,
  LOWER,
  REMOTE,
  settle,
  THIRD,
  type LinkRig,
} from './linkCallFakes.js';

const OFFER = 'v=0\r\nREMOTE-OFFER\r\n';

function types(sent: Sent[]): string[] {
  return sent.map((s) => s.type);
}

async function linkInvite(r: LinkRig, from: { user_id: string; device_id: string }, callId: string) {
  const res = await r.conf.dispatch({
    kind: 'invite',
    ids: linkIds(from, callId),
    sdp: OFFER,
    metadata: {},
    cascade: true,
  });
  await settle(r);
  return res;
}

/** Our invite to REMOTE goes out (FOCUS sorts lower), answered; returns its call id. */
async function linkOut(r: LinkRig): Promise<string> {
  r.presence([FOCUS, 1], [REMOTE, 1]);
  await r.conf.dispatch({ kind: 'recheck' });
  await settle(r);
  const invite = r.signal.take().find((s) => s.type === 'm.call.invite');
  if (invite === undefined) {
    throw new Error('no invite sent');
  }
  const callId = invite.content['call_id'] as string;
  await r.conf.dispatch({ kind: 'answer', session: linkRef(REMOTE, callId), sdp: 'v=0\r\nTHEIRS\r\n' });
  r.linkMedia.last().open();
  await settle(r);
  return callId;
}

t.test('a link invite from a focus a live membership names is answered; no session', async (t) => {
  const r = linkRig();
  await join(r, 'alice');
  r.signal.take();
  r.presence([FOCUS, 1], [REMOTE, 1]);
  t.same(await linkInvite(r, REMOTE, 'cascade-1-a'), { ok: true });
  const sent = r.signal.take();
  t.same(types(sent), ['m.call.answer', 'm.call.candidates']);
  t.match(sent[0], {
    dest: { userId: REMOTE.user_id, deviceId: REMOTE.device_id },
    content: {
      call_id: 'cascade-1-a',
      conf_id: 'conf1',
      dest_session_id: 'sfu',
      sender_session_id: 'sfu',
      answer: { type: 'answer', sdp: 'v=0\r\nLINK-ANSWER\r\n' },
    },
  });
  t.match(sent[1]?.content['candidates'], [{ candidate: /^candidate:/ }, { candidate: '' }]);
  t.equal(r.conf.size, 1, 'only alice is a session');
  t.same(r.linkMedia.last().events, [`answer:${OFFER}`]);
  t.equal(r.linkMedia.last().maxLinkBps, 20_000_000, 'cascade.max_link_bps reaches the peer');
  t.same(r.relays[0]?.calls, ['attach:20000000']);
  t.same(r.relays[0]?.deps.remote, { userId: REMOTE.user_id, deviceId: REMOTE.device_id });
  t.ok(r.metrics.calls.includes('invite:accepted'));

  // Candidates and the data channel of the link.
  await r.conf.dispatch({
    kind: 'candidates',
    session: linkRef(REMOTE, 'cascade-1-a'),
    candidates: [{ candidate: 'candidate:9 1 udp 1 127.0.0.1 9 typ host' }],
  });
  t.same(r.linkMedia.last().remoteCandidates, ['candidate:9 1 udp 1 127.0.0.1 9 typ host']);
  r.linkMedia.last().open();
  await settle(r);
  t.same(r.relays[0]?.calls.slice(1), ['opened'], 'the demand and metadata are sent on DC open');
  t.same(
    r.conf.links.snapshot().map((s) => s.state),
    ['connected'],
  );
});

t.test('refusals: no membership names the inviter, a client claims cascade, no room left', async (t) => {
  const r = linkRig();
  r.presence([FOCUS, 1]);
  await linkInvite(r, REMOTE, 'cascade-1-b');
  t.match(r.signal.take(), [
    {
      type: 'm.call.hangup',
      dest: { userId: REMOTE.user_id },
      content: {
        call_id: 'cascade-1-b',
        reason: 'unknown_error',
        'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN' },
      },
    },
  ]);
  t.equal(r.linkMedia.peers.length, 0, 'no link peer');
  t.ok(r.conf.closed, 'the conference it created closes again');

  const c = linkRig();
  await join(c, 'bob');
  c.signal.take();
  c.presence([FOCUS, 2]);
  const alice = idsOf('alice');
  await c.conf.dispatch({ kind: 'invite', ids: alice, sdp: OFFER, metadata: {}, cascade: true });
  await settle(c);
  t.match(c.signal.take(), [
    { type: 'm.call.hangup', content: { 'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN' } } },
  ]);
  t.equal(c.conf.size, 1, 'a client claiming cascade gets no session');
  t.equal(c.linkMedia.peers.length, 0);
});

t.test('max_links: an invite beyond cascade.max_links is refused M_LIMIT_EXCEEDED', async (t) => {
  const r = linkRig({ max_links: 1 });
  await join(r, 'alice');
  r.signal.take();
  r.presence([FOCUS, 1], [REMOTE, 1], [THIRD, 1]);
  // FOCUS sorts below both: it invites REMOTE (the lowest remote) and hits the bound for THIRD.
  await r.conf.dispatch({ kind: 'recheck' });
  await settle(r);
  const invites = r.signal.take().filter((s) => s.type === 'm.call.invite');
  t.same(
    invites.map((s) => s.dest.userId),
    [REMOTE.user_id],
  );
  await linkInvite(r, THIRD, 'cascade-3');
  t.match(r.signal.take(), [
    { type: 'm.call.hangup', content: { 'org.matrix.msc3898.error': { errcode: 'M_LIMIT_EXCEEDED' } } },
  ]);
});

t.test('an outgoing invite: cascade content, candidates, answer applied, alive every second', async (t) => {
  const r = linkRig();
  await join(r, 'alice');
  r.signal.take();
  r.presence([FOCUS, 1], [REMOTE, 1]);
  await r.conf.dispatch({ kind: 'recheck' });
  await settle(r);
  const sent = r.signal.take();
  t.same(types(sent), ['m.call.invite', 'm.call.candidates']);
  const invite = sent[0]!;
  t.match(invite, {
    dest: { userId: REMOTE.user_id, deviceId: REMOTE.device_id },
    content: {
      call_id: /^cascade-\d+-[0-9a-z]+$/,
      conf_id: 'conf1',
      party_id: 'SFUDEV',
      device_id: 'SFUDEV',
      sender_session_id: 'sfu',
      dest_session_id: 'sfu',
      room_id: '!room:example.org',
      invitee: REMOTE.user_id,
      offer: { type: 'offer', sdp: 'v=0\r\nLINK-OFFER\r\n' },
      'org.matrix.msc3898.cascade': true,
    },
  });
  t.equal(invite.content['seq'], undefined, 'no seq');
  const callId = invite.content['call_id'] as string;
  const peer = r.linkMedia.last();
  // A candidate before the answer waits for it.
  await r.conf.dispatch({
    kind: 'candidates',
    session: linkRef(REMOTE, callId),
    candidates: [{ candidate: 'candidate:2 1 udp 1 127.0.0.1 2 typ host' }],
  });
  t.same(peer.remoteCandidates, []);
  t.same(
    r.conf.links.snapshot().map((s) => s.state),
    ['inviting'],
  );
  await r.conf.dispatch({ kind: 'answer', session: linkRef(REMOTE, callId), sdp: 'v=0\r\nTHEIRS\r\n' });
  t.same(peer.events, ['offer', 'acceptAnswer:v=0\r\nTHEIRS\r\n']);
  t.same(peer.remoteCandidates, ['candidate:2 1 udp 1 127.0.0.1 2 typ host']);
  peer.open();
  await settle(r);
  t.same(
    r.conf.links.snapshot().map((s) => s.state),
    ['connected'],
  );
  await advance(r, 2100);
  t.ok(peer.sent().filter((f) => f['op'] === 'alive').length >= 2, 'alive every cascade.link_alive_s');
  // A second answer is not a link event any more.
  await r.conf.dispatch({ kind: 'answer', session: linkRef(REMOTE, callId), sdp: 'v=0\r\nAGAIN\r\n' });
  t.equal(peer.events.filter((e) => e.startsWith('acceptAnswer')).length, 1);
});

t.test(
  'the link data channel: bad frames answered error, alive fed to liveness, the rest to the relay',
  async (t) => {
    const r = linkRig();
    await join(r, 'alice');
    await linkOut(r);
    const peer = r.linkMedia.last();
    peer.sent();
    peer.emit('dcmessage', '{nope');
    peer.emit('dcmessage', JSON.stringify({ type: 'm.call.negotiate', content: {} }));
    peer.emit('dcmessage', JSON.stringify({ op: 'publish', id: 'p1', sdp: 'x', metadata: {} }));
    peer.emit('dcmessage', JSON.stringify({ op: 'alive', id: 'a1' }));
    peer.emit('dcmessage', JSON.stringify({ op: 'unsubscribe', stop: [{ stream_id: 's', track_id: 't' }] }));
    await settle(r);
    t.match(peer.sent(), [
      { op: 'error', errcode: 'M_NOT_JSON' },
      { op: 'error', errcode: 'M_BAD_JSON' },
      { op: 'error', id: 'p1', errcode: 'M_BAD_JSON' },
      { op: 'ack', id: 'a1' },
    ]);
    t.match(r.relays[0]?.handled, [{ kind: 'unsubscribe' }]);
  },
);

t.test('crossing invites: the link the lower focus started survives', async (t) => {
  // FOCUS sorts below REMOTE: our invite survives, theirs is refused.
  const r = linkRig();
  await join(r, 'alice');
  r.signal.take();
  r.presence([FOCUS, 1], [REMOTE, 1]);
  await r.conf.dispatch({ kind: 'recheck' });
  await settle(r);
  const ours = r.signal.take().find((s) => s.type === 'm.call.invite')!.content['call_id'] as string;
  await linkInvite(r, REMOTE, 'cascade-theirs');
  t.match(r.signal.take(), [{ type: 'm.call.hangup', content: { call_id: 'cascade-theirs' } }]);
  t.equal(r.linkMedia.peers.length, 1, 'no peer for theirs');
  t.ok(r.conf.links.has(linkRef(REMOTE, ours)));

  // LOWER sorts below FOCUS: their invite survives, ours is hung up user_hangup.
  const l = linkRig({ initiate_grace_s: 0 });
  await join(l, 'alice');
  l.signal.take();
  l.presence([FOCUS, 1], [LOWER, 1]);
  await l.conf.dispatch({ kind: 'recheck' });
  await advance(l, 1100);
  const mine = l.signal.take().find((s) => s.type === 'm.call.invite')!.content['call_id'] as string;
  await linkInvite(l, LOWER, 'cascade-lower');
  const sent = l.signal.take();
  t.match(sent, [
    { type: 'm.call.hangup', content: { call_id: mine, reason: 'user_hangup' } },
    { type: 'm.call.answer', content: { call_id: 'cascade-lower' } },
    { type: 'm.call.candidates' },
  ]);
  t.ok(l.linkMedia.peers[0]?.closed, 'our peer is closed once theirs adopted the relay');
  t.notOk(l.conf.links.has(linkRef(LOWER, mine)));
  t.ok(l.conf.links.has(linkRef(LOWER, 'cascade-lower')));
});

t.test('an invite from an already linked focus replaces the link (a restart, §8.7)', async (t) => {
  const r = linkRig();
  await join(r, 'alice');
  const old = await linkOut(r);
  r.signal.take();
  await linkInvite(r, REMOTE, 'cascade-restarted');
  t.match(r.signal.take(), [
    { type: 'm.call.hangup', content: { call_id: old, reason: 'user_hangup' } },
    { type: 'm.call.answer', content: { call_id: 'cascade-restarted' } },
    { type: 'm.call.candidates' },
  ]);
  t.ok(r.metrics.calls.includes('invite:replaced'));
  const fresh = r.linkMedia.last();
  fresh.open();
  await settle(r);
  t.same(r.relays.length, 1, 'one relay per remote focus, across calls');
  t.same(
    r.relays[0]?.calls.filter((c) => c.startsWith('attach') || c === 'opened'),
    ['attach:20000000', 'opened', 'attach:20000000', 'opened'],
  );
  t.ok(fresh.events.includes('requestKeyframes'), 'kept tracks rebound: keyframes requested');
});

t.test(
  'liveness: 3 missed alive → suspended, ICE restart offer, no media → relink with a new call id',
  async (t) => {
    const r = linkRig();
    await join(r, 'alice');
    const first = await linkOut(r);
    r.signal.take();
    await advance(r, 3300);
    t.same(
      r.conf.links.snapshot().map((s) => s.state),
      ['suspended'],
    );
    const peer = r.linkMedia.last();
    t.ok(peer.events.includes('restartIce'));
    const sent = r.signal.take();
    t.match(sent, [
      {
        type: 'm.call.negotiate',
        content: { call_id: first, description: { type: 'offer', sdp: 'v=0\r\nRESTART\r\n' } },
      },
      { type: 'm.call.candidates' },
    ]);
    // The remote answers the restart, yet nothing arrives: after 5 s the link is relinked.
    await r.conf.dispatch({
      kind: 'negotiate',
      session: linkRef(REMOTE, first),
      description: { type: 'answer', sdp: 'v=0\r\nRESTARTED\r\n' },
      metadata: {},
    });
    t.ok(peer.events.includes('acceptAnswer:v=0\r\nRESTARTED\r\n'));
    await advance(r, 5200);
    const after = r.signal.take();
    t.match(
      after.filter((s) => s.type === 'm.call.hangup'),
      [{ content: { call_id: first, reason: 'ice_failed' } }],
    );
    const reinvite = after.find((s) => s.type === 'm.call.invite');
    t.ok(reinvite, 're-invited at once');
    t.not(reinvite?.content['call_id'], first, 'with a new call id');
    t.ok(r.metrics.calls.includes('relink:alive'));
    t.equal(r.linkMedia.peers.length, 2, 'a new link peer for the new call');
    t.same(
      r.relays[0]?.calls.filter((c) => c.startsWith('attach')).length,
      2,
      'the relay (with the kept remote tracks) moved to the new call',
    );
    t.ok(peer.closed, 'the old peer is closed once the new one adopted its relayed sources');
  },
);

t.test('liveness: alive back in time resumes the link with keyframes', async (t) => {
  const r = linkRig();
  await join(r, 'alice');
  await linkOut(r);
  const peer = r.linkMedia.last();
  await advance(r, 3300);
  t.same(
    r.conf.links.snapshot().map((s) => s.state),
    ['suspended'],
  );
  peer.emit('dcmessage', JSON.stringify({ op: 'alive' }));
  await settle(r);
  t.same(
    r.conf.links.snapshot().map((s) => s.state),
    ['connected'],
  );
  t.ok(peer.events.includes('requestKeyframes'));
});

t.test('linger: once the last local participant leaves, links hang up after cascade.linger_s', async (t) => {
  const r = linkRig({ linger_s: 30 });
  await join(r, 'alice');
  const callId = await linkOut(r);
  r.signal.take();
  r.presence([REMOTE, 1]);
  await r.conf.dispatch({
    kind: 'hangup',
    session: {
      userId: '@alice:example.org',
      deviceId: 'ALICEDEV',
      callId: 'call-alice',
      senderSessionId: 's-alice',
    },
  });
  await settle(r);
  t.equal(r.conf.size, 0);
  t.notOk(r.conf.closed, 'the conference stays while its link lingers');
  const peer = r.linkMedia.last();
  const keepAlive = (): void => {
    peer.emit('dcmessage', JSON.stringify({ op: 'alive' }));
  };
  for (let s = 0; s < 29; s++) {
    keepAlive();
    await advance(r, 1000, 250);
  }
  t.same(types(r.signal.take()), [], 'still lingering at 29 s');
  keepAlive();
  await advance(r, 1500, 250);
  t.match(r.signal.take(), [{ type: 'm.call.hangup', content: { call_id: callId, reason: 'user_hangup' } }]);
  t.ok(r.relays[0]?.calls.includes('close'), 'the relay is closed');
  t.ok(peer.closed);
  t.ok(r.conf.closed, 'then the conference closes');
  t.same(r.host.events.at(-1), 'empty');
});

t.test('connect op: M_FORBIDDEN, M_LIMIT_EXCEEDED, ack once the invite is sent', async (t) => {
  const r = linkRig({ auto: false, max_links: 1 });
  const alice = await join(r, 'alice');
  alice.open();
  await settle(r);
  alice.sent();
  r.signal.take();
  r.presence([FOCUS, 1], [REMOTE, 1], [THIRD, 1]);
  await r.conf.dispatch({ kind: 'recheck' });
  await settle(r);
  t.same(types(r.signal.take()), [], 'cascade.auto false: no automatic invite');
  const say = async (msg: object) => {
    alice.client(msg);
    await settle(r);
    // The first dialect A message makes the SFU resend the metadata in A (§5.1).
    return alice.sent().filter((f) => f['op'] !== 'metadata');
  };
  t.match(
    await say({ op: 'connect', id: 'c1', foci: [{ user_id: '@sfu:nobody.example', device_id: 'X' }] }),
    [{ op: 'error', id: 'c1', errcode: 'M_FORBIDDEN', error: /@sfu:nobody.example\/X/ }],
  );
  t.same(await say({ op: 'connect', id: 'c2', foci: [REMOTE] }), [{ op: 'ack', id: 'c2' }]);
  t.match(r.signal.take(), [
    { type: 'm.call.invite', dest: { userId: REMOTE.user_id } },
    { type: 'm.call.candidates' },
  ]);
  t.same(
    await say({ op: 'connect', id: 'c3', foci: [REMOTE] }),
    [{ op: 'ack', id: 'c3' }],
    'existing: no-op',
  );
  t.same(types(r.signal.take()), []);
  t.match(await say({ op: 'connect', id: 'c4', foci: [THIRD] }), [
    { op: 'error', id: 'c4', errcode: 'M_LIMIT_EXCEEDED', error: /@sfu:third.example\/THIRDDEV/ },
  ]);
});

t.test('shutdown hangs up links; a hangup from the remote ends the call and retries later', async (t) => {
  const r = linkRig();
  await join(r, 'alice');
  const callId = await linkOut(r);
  r.signal.take();
  await r.conf.dispatch({ kind: 'hangup', session: linkRef(REMOTE, callId), reason: 'user_hangup' });
  await settle(r);
  t.same(types(r.signal.take()), [], 'no reply to a hangup');
  t.same(r.conf.links.snapshot(), []);
  await advance(r, 1100);
  const again = r.signal.take().filter((s) => s.type === 'm.call.invite');
  t.equal(again.length, 1, 'needed still: re-invited after the 1 s backoff');
  await r.conf.dispatch({ kind: 'shutdown', reason: 'shutdown' });
  t.match(
    r.signal.take().filter((s) => s.type === 'm.call.hangup'),
    [
      { dest: { userId: '@alice:example.org' }, content: { reason: 'user_hangup' } },
      { dest: { userId: REMOTE.user_id }, content: { reason: 'user_hangup' } },
    ],
  );
});

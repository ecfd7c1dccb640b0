/**
 * CallClient against the strict test homeserver, with no SFU: the test plays the focus (@sfu:example.org /
 * SFUDEV1) by reading its to-device inbox and answering through the homeserver with a werift peer (or refusing
 * with a hangup: `waitForAnswer` rejects with its FocusRefusedError at once).
 */
import t from 'tap';
import {
  startTestHomeserver,
  type TestHomeserver,
  type ToDeviceMessage,
} from '../../../harness/homeserver/index.js';
import {
  CALL_MEMBER_TYPE,
  CallClient,
  FocusRefusedError,
  FOCUS_TYPE,
  METADATA_KEY,
  memberStateKey,
  SYNC_POLL_MS,
} from '../../../client/index.js';
import { isLoopbackUdpCandidate } from '../../../harness/peers/common.js';
import {
  closeBrowser,
  createPeer,
  launchBrowser,
  WeriftPeer,
  type LocalCandidate,
  type PeerKind,
  type TestPeer,
} from '../../../harness/peers/index.js';

const TIMEOUT_MS = 15_000;
const CONF = '1700000000000aBcD';

// One browser for the file, launched by the first test that needs it; if Chromium cannot start, those tests
// fail with the launch error (the others still run).
t.teardown(() => closeBrowser());

async function peerOf(kind: PeerKind): Promise<TestPeer> {
  if (kind === 'chromium') {
    await launchBrowser();
  }
  return createPeer(kind);
}

async function setup(t: { teardown(fn: () => unknown): void }, kind: PeerKind = 'werift') {
  const hs = await startTestHomeserver({ serverName: 'example.org', logger: false });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice', { deviceId: 'ALICEDEV' });
  const sfu = hs.createUser('sfu', { deviceId: 'SFUDEV1' });
  const focus = { user_id: sfu.userId, device_id: sfu.deviceId };
  const roomId = hs.createRoom(alice.userId);
  const client = new CallClient({ hsUrl: hs.url, ...alice, peer: await peerOf(kind) });
  t.teardown(() => client.close());
  return { hs, alice, focus, roomId, client };
}

const focusMessages = (hs: TestHomeserver, type: string): ToDeviceMessage[] =>
  hs.toDeviceInbox('@sfu:example.org', 'SFUDEV1').filter((m) => m.type === type);

/** A to-device call event from the stand-in focus (SFUDEV1) to alice's device, for the client's call. */
function fromFocus(
  hs: TestHomeserver,
  client: CallClient,
  callId: string,
  type: string,
  content: Record<string, unknown>,
): void {
  hs.sendToDevice('@sfu:example.org', type, {
    [client.userId]: {
      ALICEDEV: {
        call_id: callId,
        conf_id: CONF,
        party_id: 'SFUDEV1',
        version: '1',
        device_id: 'SFUDEV1',
        dest_session_id: client.sessionId,
        sender_session_id: 'sfu',
        ...content,
      },
    },
  });
}

const endsCandidates = (m: ToDeviceMessage): boolean =>
  m.type === 'm.call.candidates' &&
  (m.content['candidates'] as LocalCandidate[]).some((c) => c.candidate === '');

t.test('membership (format c) is published and left over the HTTP API', async (t) => {
  const { hs, alice, focus, roomId, client } = await setup(t);
  const before = Date.now();
  await client.publishMembership(roomId, focus, { expiresMs: 3_600_000 });
  const event = hs.roomState(roomId).find((e) => e.type === CALL_MEMBER_TYPE)!;
  t.equal(event.state_key, `_${alice.userId}_ALICEDEV_m.call`);
  t.equal(event.state_key, memberStateKey(alice.userId, 'ALICEDEV'));
  t.equal(event.sender, alice.userId);
  const ref = { type: FOCUS_TYPE, ...focus };
  t.match(event.content, {
    application: 'm.call',
    call_id: '',
    scope: 'm.room',
    device_id: 'ALICEDEV',
    focus_active: ref,
    foci_preferred: [ref],
    expires: 3_600_000,
  });
  t.ok((event.content['created_ts'] as number) >= before, 'created_ts is now');

  await client.leaveMembership(roomId);
  const left = hs.roomState(roomId).find((e) => e.type === CALL_MEMBER_TYPE)!;
  t.same(left.content, {}, 'leaving = content {}');
  const puts = hs.requests.filter((r) => r.method === 'PUT' && r.path.includes('/state/'));
  t.equal(puts.length, 2);
  t.ok(
    puts.every((r) => r.userId === alice.userId && r.deviceId === 'ALICEDEV'),
    'as alice with her token',
  );
  t.same(hs.rejections, [], 'the homeserver rejected nothing');
});

t.test('invite then trickled candidates ending with "" reach the focus device, well-formed', async (t) => {
  const { hs, alice, focus, roomId, client } = await setup(t);
  await client.publishMembership(roomId, focus);
  const call = await client.invite({
    focus,
    confId: CONF,
    roomId,
    offerOpts: { dataChannel: true, audio: true, video: true },
  });
  await hs.waitForToDevice(focus.user_id, focus.device_id, endsCandidates, TIMEOUT_MS);

  const inbox = hs.toDeviceInbox(focus.user_id, focus.device_id);
  t.equal(inbox[0]?.type, 'm.call.invite', 'the invite comes first');
  t.ok(
    inbox.slice(1).every((m) => m.type === 'm.call.candidates'),
    'then only candidates',
  );
  const invite = inbox[0]!;
  t.equal(invite.sender, alice.userId);
  const base = {
    call_id: call.callId,
    conf_id: CONF,
    party_id: 'ALICEDEV',
    version: '1',
    device_id: 'ALICEDEV',
    sender_session_id: client.sessionId,
    dest_session_id: 'sfu',
    room_id: roomId,
  };
  t.match(invite.content, {
    ...base,
    seq: 0,
    invitee: focus.user_id,
    lifetime: 60_000,
    offer: { type: 'offer', sdp: /^v=0\r\n/ },
  });
  const offer = (invite.content['offer'] as { sdp: string }).sdp;
  t.match(
    offer,
    /m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/,
    'the client creates the data channel',
  );
  const metadata = invite.content[METADATA_KEY] as Record<
    string,
    { tracks: Record<string, { kind: string }> }
  >;
  const streams = Object.values(metadata);
  t.equal(streams.length, 1, 'one stream in the metadata');
  t.match(streams[0], { user_id: alice.userId, device_id: 'ALICEDEV', purpose: 'm.usermedia' });
  t.same(
    Object.values(streams[0]!.tracks)
      .map((tr) => tr.kind)
      .sort(),
    ['audio', 'video'],
    'its tracks are the offer’s audio and video',
  );

  const batches = inbox.slice(1);
  t.ok(batches.length >= 1);
  batches.forEach((m, i) => {
    t.match(m.content, { ...base, seq: i + 1 }, `candidates batch ${i + 1}: base fields, contiguous seq`);
  });
  const all = batches.flatMap((m) => m.content['candidates'] as LocalCandidate[]);
  t.same(all.at(-1), { candidate: '' }, 'the last candidate is ""');
  t.ok(all.length >= 2, 'real candidates before it');
  t.ok(
    all.slice(0, -1).every((c) => isLoopbackUdpCandidate(c.candidate) && typeof c.sdpMid === 'string'),
    'loopback UDP candidates with sdpMid',
  );

  const syncs = hs.requests.filter((r) => r.path === '/_matrix/client/v3/sync' && r.userId === alice.userId);
  t.ok(syncs.length >= 1, 'the client syncs');
  t.ok(
    syncs.every((r) => r.query['timeout'] === undefined || Number(r.query['timeout']) <= SYNC_POLL_MS),
    'with polls of at most 1 s',
  );
  t.ok(
    hs.requests
      .filter((r) => r.path.startsWith('/_matrix/client/v3/sendToDevice/'))
      .every((r) => r.method === 'PUT' && r.userId === alice.userId && r.deviceId === 'ALICEDEV'),
    'to-device goes out as PUT with alice’s token',
  );
  t.same(hs.rejections, [], 'the homeserver rejected nothing');
  t.same(client.errors, []);
});

for (const kind of ['werift', 'wrtc', 'chromium'] as const) {
  t.test(`${kind} client ↔ a stand-in focus: answer, candidates, data channel, hangup`, async (t) => {
    const { hs, alice, focus, roomId, client } = await setup(t, kind);
    const focusPeer = new WeriftPeer();
    t.teardown(() => focusPeer.close());
    await client.publishMembership(roomId, focus);
    const call = await client.invite({ focus, confId: CONF, offerOpts: { dataChannel: true, audio: true } });

    // The focus: answer the invite, then send its candidates, then apply the client's.
    const invite = await hs.waitForToDevice(
      focus.user_id,
      focus.device_id,
      (m) => m.type === 'm.call.invite',
    );
    const focusBase = {
      call_id: call.callId,
      conf_id: CONF,
      party_id: 'SFUDEV1',
      version: '1',
      device_id: 'SFUDEV1',
      dest_session_id: invite.content['sender_session_id'],
      sender_session_id: 'sfu',
    };
    const send = (type: string, content: Record<string, unknown>): void => {
      hs.sendToDevice(focus.user_id, type, { [alice.userId]: { ALICEDEV: content } });
    };
    const focusCandidates: LocalCandidate[] = [];
    focusPeer.onCandidate((c) => focusCandidates.push(c));
    await focusPeer.setRemoteDescription(invite.content['offer'] as { type: 'offer'; sdp: string });
    const answer = await focusPeer.createAnswer();
    send('m.call.answer', { ...focusBase, answer: { type: 'answer', sdp: answer }, [METADATA_KEY]: {} });
    send('m.call.candidates', { ...focusBase, candidates: focusCandidates });
    await hs.waitForToDevice(focus.user_id, focus.device_id, endsCandidates, TIMEOUT_MS);
    for (const m of focusMessages(hs, 'm.call.candidates')) {
      for (const c of m.content['candidates'] as LocalCandidate[]) {
        await focusPeer.addIceCandidate(c);
      }
    }

    const answered = await client.waitForAnswer(TIMEOUT_MS);
    t.match(answered, { answer: { type: 'answer' } });
    t.equal(client.answerContent, answered);
    await Promise.all([client.peer.waitConnected(TIMEOUT_MS), focusPeer.waitConnected(TIMEOUT_MS)]);
    await Promise.all([
      client.peer.waitDataChannelOpen(TIMEOUT_MS),
      focusPeer.waitDataChannelOpen(TIMEOUT_MS),
    ]);
    const got = new Promise<string>((resolve) => {
      focusPeer.onData(resolve);
    });
    client.peer.sendData('{"op":"alive"}');
    t.equal(await got, '{"op":"alive"}', 'the client’s data channel reaches the focus');

    const selected = await hs.waitForToDevice(
      focus.user_id,
      focus.device_id,
      (m) => m.type === 'm.call.select_answer',
    );
    t.match(selected.content, { call_id: call.callId, selected_party_id: 'SFUDEV1' });

    send('m.call.hangup', {
      ...focusBase,
      reason: 'unknown_error',
      'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN', error: 'membership gone' },
    });
    const hangup = await client.waitForHangup(TIMEOUT_MS);
    t.match(hangup, { reason: 'unknown_error', 'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN' } });
    t.same(client.violations, [], 'the stand-in focus kept every rule');
    t.same(client.errors, []);

    // What a broken focus would do is recorded, not ignored.
    send('m.call.candidates', {
      ...focusBase,
      seq: 3,
      dest_session_id: 'other',
      candidates: [{ candidate: '' }],
    });
    await client.waitForToDevice('m.call.candidates', (e) => e.content['seq'] === 3, TIMEOUT_MS);
    await t.resolves(waitFor(() => client.violations.length >= 2));
    t.match(client.violations, [/dest_session_id is "other"/, /carries seq 3/]);

    await client.hangup();
    const ours = await hs.waitForToDevice(focus.user_id, focus.device_id, (m) => m.type === 'm.call.hangup');
    t.match(ours.content, { call_id: call.callId, reason: 'user_hangup' });
    t.same(hs.rejections, [], 'the homeserver rejected nothing');
  });
}

t.test('the focus breaking the order (candidates before the answer) is a violation', async (t) => {
  const { hs, focus, client } = await setup(t);
  const call = await client.invite({ focus, confId: CONF, offerOpts: { dataChannel: true } });
  fromFocus(hs, client, call.callId, 'm.call.candidates', { candidates: [{ candidate: '' }] });
  await client.waitForToDevice('m.call.candidates', () => true, TIMEOUT_MS);
  await waitFor(() => client.violations.length > 0);
  t.match(client.violations, [/candidates before the answer/]);
});

t.test('the focus refusing with a hangup: waitForAnswer rejects at once with its errcode', async (t) => {
  const { hs, focus, client } = await setup(t);
  const call = await client.invite({ focus, confId: CONF, offerOpts: { dataChannel: true } });
  const startedAt = Date.now();
  const waiting = client.waitForAnswer(TIMEOUT_MS);
  fromFocus(hs, client, call.callId, 'm.call.hangup', {
    reason: 'unknown_error',
    'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN', error: 'no membership names this focus' },
  });
  const err = await waiting.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, FocusRefusedError);
  const refused = err as FocusRefusedError;
  t.equal(refused.errcode, 'M_FORBIDDEN');
  t.equal(refused.reason, 'unknown_error');
  t.match(refused.message, /refused the call \(unknown_error M_FORBIDDEN: no membership names this focus\)/);
  t.ok(
    Date.now() - startedAt < TIMEOUT_MS / 2,
    `rejected with the hangup, not the timeout (${Date.now() - startedAt} ms)`,
  );
});

async function waitFor(check: () => boolean, timeoutMs = TIMEOUT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('condition not met in time');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Session rules through the test homeserver with real werift peers: refusals (no peer, no port), replacement,
 * renegotiation, to-device negotiate, remote hangup, select_answer for another party, membership removed
 * mid-call, duplicate and out-of-order delivery.
 */
import t from 'tap';
import { CONF, startCallStack, type CallStack, type TestCallClient } from '../../../harness/callStack.js';
import { udpPortsInRange } from '../../../harness/net.js';
import type { TapTest } from '../../../harness/sfu.js';
import { MEDIA_PORTS, waitFor } from '../../../harness/stack.js';

const FAST = { auth: { membership_wait_s: 0.5 } };

async function connected(cs: CallStack, c: TestCallClient, extra: { callId?: string } = {}): Promise<void> {
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true }, ...extra });
  await c.waitForAnswer(15_000);
  await c.peer.waitConnected(15_000);
  await c.peer.waitDataChannelOpen(15_000);
}

async function noPeerLeft(t: TapTest, cs: CallStack, what: string): Promise<void> {
  await waitFor(() => cs.sfu.media.openResources === 0, 5_000, 'peers closed');
  t.equal(cs.sfu.conferences.sessionCount, 0, `${what}: no session`);
  t.equal(await portsSettleAt(0), 0, `${what}: no UDP port left open`);
}

/** Waits (bounded) for the number of bound ports in the media range to reach `n`; returns the last count. */
async function portsSettleAt(n: number): Promise<number> {
  const end = Date.now() + 5_000;
  let count = -1;
  while (Date.now() < end) {
    count = (await udpPortsInRange(MEDIA_PORTS.min, MEDIA_PORTS.max)).length;
    if (count === n) {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return count;
}

function errorOf(hangup: Record<string, unknown>): { errcode?: string } {
  return hangup['org.matrix.msc3898.error'] ?? {};
}

t.test('refusals: hangup with the error object, no peer created, no port open', async (t) => {
  const cs = await startCallStack(t, { config: FAST });
  const cases: {
    name: string;
    setup: () => Promise<TestCallClient>;
    invite?: Record<string, unknown>;
    errcode: string;
  }[] = [
    {
      name: 'not a member (no call membership)',
      setup: () => cs.client('nomember', { membership: false }),
      errcode: 'M_FORBIDDEN',
    },
    {
      name: 'expired membership',
      setup: () =>
        cs.client('expired', { membership: { createdTs: Date.now() - 7_200_000, expiresMs: 3_600_000 } }),
      errcode: 'M_FORBIDDEN',
    },
    {
      name: 'membership naming another focus',
      setup: async () => {
        const c = await cs.client('otherfocus', { membership: false });
        await c.publishMembership(cs.roomId, { user_id: '@sfu:other.example', device_id: 'OTHER' });
        return c;
      },
      errcode: 'M_FORBIDDEN',
    },
    {
      name: 'room_id of a room the user is not in',
      setup: () => cs.client('outsider', { join: false }),
      invite: { room_id: cs.roomId },
      errcode: 'M_FORBIDDEN',
    },
    {
      name: 'malformed invite (version 2)',
      setup: () => cs.client('badversion'),
      invite: { version: '2' },
      errcode: 'M_INVALID_PARAM',
    },
    {
      name: 'malformed invite (no offer)',
      setup: () => cs.client('nooffer'),
      invite: { offer: undefined },
      errcode: 'M_BAD_JSON',
    },
  ];
  for (const c of cases) {
    const client = await c.setup();
    await client.invite({
      focus: cs.focusRef,
      confId: CONF,
      offerOpts: { dataChannel: true },
      ...(c.invite !== undefined ? { extra: c.invite } : {}),
    });
    const hangup = await client.waitForHangup(15_000);
    t.equal(hangup['reason'], 'unknown_error', `${c.name}: reason`);
    t.equal(errorOf(hangup).errcode, c.errcode, `${c.name}: errcode`);
    t.equal(hangup['call_id'], client.call?.callId, `${c.name}: addressed to the call`);
    t.equal(hangup['dest_session_id'], client.sessionId, `${c.name}: to the client's session`);
    t.notOk(client.answerContent, `${c.name}: no answer`);
    await noPeerLeft(t, cs, c.name);
  }
  t.same(cs.hs.rejections, []);
});

t.test('replacement: a new sender_session_id closes the old session with user_hangup', async (t) => {
  const cs = await startCallStack(t);
  const first = await cs.client('alice');
  await connected(cs, first);
  // Both clients are the same device: only one may read its to-device inbox.
  await first.stopSync();
  const oldCall = first.call!.callId;
  const second = await cs.sameDevice(first, { sessionId: 'second-session' });
  await connected(cs, second);
  const hangup = await cs.hs.waitForToDevice(
    first.userId,
    first.deviceId,
    (m) => m.type === 'm.call.hangup' && m.content['call_id'] === oldCall,
    15_000,
  );
  t.equal(hangup.content['reason'], 'user_hangup');
  t.equal(hangup.content['dest_session_id'], first.sessionId, 'addressed to the old session');
  t.equal(cs.sfu.conferences.sessionCount, 1);
  await waitFor(() => cs.sfu.media.openResources === 1, 5_000, 'old peer closed');
  t.equal(await portsSettleAt(1), 1, 'only the new peer holds a port');
  t.equal(second.peer.connectionState(), 'connected');
});

t.test('renegotiation: same session and call id → new answer on the same peer', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  await connected(cs, c);
  await c.invite({ focus: cs.focusRef, confId: CONF, callId: c.call!.callId, offerOpts: { audio: true } });
  await waitFor(() => (c.call?.answers ?? 0) >= 2, 15_000, 'second answer');
  t.equal(c.peer.connectionState(), 'connected', 'still connected');
  t.equal(cs.sfu.conferences.sessionCount, 1);
  t.equal(cs.sfu.media.openResources, 1, 'same peer connection');
  const m = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_invites_total');
  t.match(m, /result="renegotiated"} 1/);
  t.same(c.violations, []);
  t.same(c.errors, []);
});

t.test('to-device m.call.negotiate offer → m.call.negotiate answer', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  await connected(cs, c);
  const offer = await c.peer.createOffer({ audio: true });
  await c.negotiate(offer);
  const answer = await c.waitForNegotiateAnswer(15_000);
  t.equal((answer['description'] as { type: string }).type, 'answer');
  t.ok('org.matrix.msc3077.sdp_stream_metadata' in answer, 'carries stream metadata');
  t.equal(c.peer.connectionState(), 'connected');
  t.same(c.violations, []);
});

t.test('remote hangup closes the session and frees its port, without a reply', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  await connected(cs, c);
  await c.hangup();
  await noPeerLeft(t, cs, 'after hangup');
  t.equal(c.hangups.length, 0, 'no hangup sent back');
});

t.test('select_answer naming another party closes the session', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true }, selectAnswer: false });
  await c.waitForAnswer(15_000);
  await c.selectAnswer('SOMEONEELSE');
  const hangup = await c.waitForHangup(15_000);
  t.equal(hangup['reason'], 'unknown_error');
  t.equal(errorOf(hangup).errcode, 'M_INVALID_PARAM');
  await noPeerLeft(t, cs, 'after select_answer');
});

t.test('select_answer naming the focus keeps the session', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  await connected(cs, c); // the client selects the focus by default
  t.equal(cs.sfu.conferences.sessionCount, 1);
  t.equal(c.hangups.length, 0);
});

t.test('membership removed mid-call → hangup M_FORBIDDEN, peer closed, port freed', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  await connected(cs, c);
  const removed = Date.now();
  await c.leaveMembership(cs.roomId);
  const hangup = await c.waitForHangup(15_000);
  t.comment(`hangup ${Date.now() - removed} ms after the membership was removed (contract: within 1 s)`);
  t.equal(hangup['reason'], 'unknown_error');
  t.equal(errorOf(hangup).errcode, 'M_FORBIDDEN');
  await noPeerLeft(t, cs, 'after revocation');
});

t.test('kicked mid-call → hangup M_FORBIDDEN', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  await connected(cs, c);
  cs.hs.kick('@owner:example.org', c.userId, cs.roomId);
  const hangup = await c.waitForHangup(15_000);
  t.equal(errorOf(hangup).errcode, 'M_FORBIDDEN');
  await noPeerLeft(t, cs, 'after kick');
});

t.test('an invite held for its membership is answered once the membership arrives', async (t) => {
  const cs = await startCallStack(t, { config: { auth: { membership_wait_s: 10 } } });
  const c = await cs.client('late', { membership: false });
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true } });
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(c.answerContent, 'no answer while the membership is missing');
  await c.publishMembership(cs.roomId, cs.focusRef);
  await c.waitForAnswer(15_000);
  await c.peer.waitConnected(15_000);
  t.pass('connected after the membership arrived');
});

t.test('duplicate invite delivery is answered once; candidates before their invite are used', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  const offer = await c.peer.createOffer({ dataChannel: true });
  const local: { candidate: string; sdpMid?: string; sdpMLineIndex?: number }[] = [];
  c.peer.onCandidate((cand) => local.push(cand));
  await waitFor(() => local.some((x) => x.candidate === ''), 10_000, 'local gathering');
  const base = {
    call_id: 'dup-call',
    conf_id: CONF,
    party_id: c.deviceId,
    version: '1',
    device_id: c.deviceId,
    sender_session_id: 'dup-session',
    dest_session_id: 'sfu',
  };
  c.startSync();
  // Candidates first (out of order), then the same invite twice.
  await c.sendToDevice('m.call.candidates', { ...base, candidates: local }, cs.focusRef);
  const invite = {
    ...base,
    invitee: cs.focusRef.user_id,
    lifetime: 60000,
    offer: { type: 'offer', sdp: offer },
  };
  await c.sendToDevice('m.call.invite', invite, cs.focusRef);
  await c.sendToDevice('m.call.invite', invite, cs.focusRef);
  const answer = await c.waitForToDevice('m.call.answer', undefined, 15_000);
  await c.peer.setRemoteDescription({
    type: 'answer',
    sdp: (answer.content['answer'] as { sdp: string }).sdp,
  });
  // No remote candidates are added: the SFU must connect with the ones it got before the invite.
  await c.peer.waitConnected(15_000);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(
    c.received.filter((e) => e.type === 'm.call.answer').length,
    1,
    'one answer for two identical invites',
  );
  const m = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_invites_total');
  t.match(m, /result="duplicate"} 1/);
});

t.test('events for unknown calls are dropped and counted, without reply', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  c.startSync();
  await c.sendToDevice(
    'm.call.hangup',
    {
      call_id: 'nope',
      conf_id: CONF,
      party_id: c.deviceId,
      version: '1',
      device_id: c.deviceId,
      sender_session_id: 'x',
      dest_session_id: 'sfu',
    },
    cs.focusRef,
  );
  await c.sendToDevice('m.call.invite', { hello: 'no call_id' }, cs.focusRef);
  await waitFor(() => cs.hs.pushes.length > 0, 5_000, 'push');
  await cs.hs.pushesSettled();
  await cs.sfu.transactions.drain();
  const m = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_signalling_ignored_total');
  t.match(m, /reason="unknown_call"} 1/);
  t.match(m, /reason="unaddressable"} 1/);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(c.received.length, 0, 'no reply');
});

t.test(
  'format (a): a new session_id for the device ends the session with the old sender_session_id',
  async (t) => {
    const cs = await startCallStack(t);
    const c = await cs.client('alice', { membership: false });
    const legacy = (sessionId: string) => ({
      'm.calls': [
        {
          'm.call_id': CONF,
          'm.devices': [
            {
              device_id: c.deviceId,
              session_id: sessionId,
              expires_ts: Date.now() + 3_600_000,
              feeds: [],
              'org.matrix.msc3898.foci.active': [cs.focusRef],
            },
          ],
        },
      ],
    });
    cs.hs.sendState(c.userId, cs.roomId, 'org.matrix.msc3401.call.member', c.userId, legacy(c.sessionId));
    await connected(cs, c);
    cs.hs.sendState(
      c.userId,
      cs.roomId,
      'org.matrix.msc3401.call.member',
      c.userId,
      legacy('another-session'),
    );
    const hangup = await c.waitForHangup(15_000);
    t.equal(hangup['reason'], 'unknown_error');
    t.equal(errorOf(hangup).errcode, 'M_FORBIDDEN');
    await noPeerLeft(t, cs, 'after the session change');
  },
);

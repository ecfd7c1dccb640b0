/**
 * Membership format (d) end to end (protocol.md §3.3b): a client writes a sticky MatrixRTC member event through
 * the strict test homeserver and invites the focus with a real werift peer. Naming this focus → answered and
 * connected; naming another focus → refused with M_FORBIDDEN; sent before the SFU started (and never pushed to
 * it) → recovered from `/messages` at start-up; a sticky leave mid-call ends the session.
 */
import t from 'tap';
import { CallClient, RTC_MEMBER_TYPE } from '../../../client/index.js';
import { CONF, startCallStack } from '../../../harness/callStack.js';
import { createPeer } from '../../../harness/peers/index.js';
import { startStack, waitFor } from '../../../harness/stack.js';

const FAST = { auth: { membership_wait_s: 0.5 } };
const FOCUS = { user_id: '@sfu:example.org', device_id: 'SFUDEV1' };

t.test('a sticky membership naming the focus admits the invite; leaving it ends the call', async (t) => {
  const cs = await startCallStack(t, { config: FAST });
  const c = await cs.client('dave', { membership: { sticky: {} } });
  const sent = cs.hs.requests.find((r) => r.method === 'PUT' && r.path.includes(`/send/${RTC_MEMBER_TYPE}/`));
  t.equal(sent?.query['org.matrix.msc4354.sticky_duration_ms'], '3600000', 'sent as a sticky event');
  const q = { roomId: cs.roomId, userId: c.userId, deviceId: c.deviceId, confId: CONF, focus: cs.focusRef };
  await waitFor(() => cs.sfu.membership.authorize(q, Date.now()).allowed, 5_000, 'pushed and granted');
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true } });
  const answer = await c.waitForAnswer(15_000);
  t.equal((answer['answer'] as { type: string }).type, 'answer');
  await c.peer.waitConnected(15_000);
  await waitFor(() => cs.sfu.conferences.sessionCount === 1, 5_000, 'session registered');
  t.same(c.violations, []);

  await c.leaveMembership(cs.roomId);
  const hangup = await c.waitForHangup(15_000);
  t.equal(hangup['reason'], 'unknown_error');
  t.match(hangup['org.matrix.msc3898.error'], { errcode: 'M_FORBIDDEN' });
  await waitFor(() => cs.sfu.conferences.sessionCount === 0, 5_000, 'session closed');
  t.same(cs.hs.rejections, []);
});

t.test('a sticky membership naming another focus is refused', async (t) => {
  const cs = await startCallStack(t, { config: FAST });
  const c = await cs.client('erin', { membership: false });
  await c.publishMembership(cs.roomId, { user_id: '@sfu:other.example', device_id: 'OTHER' }, { sticky: {} });
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true } });
  const hangup = await c.waitForHangup(15_000);
  t.equal(hangup['reason'], 'unknown_error');
  t.match(hangup['org.matrix.msc3898.error'], { errcode: 'M_FORBIDDEN' });
  t.notOk(c.answerContent, 'no answer');
  t.equal(cs.sfu.conferences.sessionCount, 0);
  t.same(cs.hs.rejections, []);
});

t.test('a sticky membership sent before the SFU started is recovered from /messages', async (t) => {
  let client: CallClient | undefined;
  let roomId = '';
  let eventId = '';
  const stack = await startStack(t, {
    config: FAST,
    before: async (hs) => {
      const owner = hs.createUser('owner').userId;
      roomId = hs.createRoom(owner, { preset: 'public_chat' });
      const dave = hs.createUser('dave', { deviceId: 'DAVEDEV' });
      hs.join(dave.userId, roomId);
      client = new CallClient({
        hsUrl: hs.url,
        userId: dave.userId,
        accessToken: dave.accessToken,
        deviceId: dave.deviceId,
        peer: await createPeer('werift'),
      });
      t.teardown(() => client?.close());
      // Sent while the focus user is not in the room: the homeserver pushes it to nobody.
      eventId = await client.publishMembership(roomId, FOCUS, { sticky: {} });
      hs.invite(owner, FOCUS.user_id, roomId);
      hs.join(FOCUS.user_id, roomId);
    },
  });
  await waitFor(() => stack.sfu.readiness.snapshot()['matrix']?.ok === true, 15_000, 'SFU ready');
  await stack.hs.pushesSettled();
  t.notOk(
    stack.hs.pushes.some((p) => JSON.stringify(p.body).includes(eventId)),
    'the sticky event was never pushed to the SFU',
  );
  t.ok(
    stack.hs.requests.some(
      (r) => r.method === 'GET' && r.path === `/_matrix/client/v3/rooms/${roomId}/messages`,
    ),
    'the SFU read the room timeline',
  );
  const c = client!;
  await c.invite({ focus: stack.focus, confId: CONF, offerOpts: { dataChannel: true } });
  await c.waitForAnswer(15_000);
  await c.peer.waitConnected(15_000);
  t.same(c.violations, []);
  t.same(stack.hs.rejections, []);
});

// The manager's side of link calls (protocol.md §8.1): link invites need room_id, link calls are indexed like
// sessions (sender_session_id "sfu") so answers, candidates and hangups reach them, m.call.answer for anything
// else is an unknown call, links are not sessions, and a conference with links but no session stays.
import t from 'tap';
import { CONF, FOCUS, ROOM } from './fakes.js';
import { REMOTE } from './linkCallFakes.js';
import { managerRig } from './managerRig.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
  }
};

function linkContent(callId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    call_id: callId,
    conf_id: CONF,
    party_id: REMOTE.device_id,
    version: '1',
    device_id: REMOTE.device_id,
    sender_session_id: 'sfu',
    dest_session_id: 'sfu',
    room_id: ROOM,
    invitee: FOCUS.user_id,
    offer: { type: 'offer', sdp: 'v=0\r\nOFFER\r\n' },
    'org.matrix.msc3898.cascade': true,
    ...over,
  };
}

t.test('a link invite without room_id is refused M_BAD_JSON', async (t) => {
  const m = managerRig();
  const content = linkContent('cascade-1');
  delete content['room_id'];
  m.manager.handleToDevice({ type: 'm.call.invite', sender: REMOTE.user_id, content });
  await flush();
  t.match(m.signal.take(), [
    {
      type: 'm.call.hangup',
      dest: { userId: REMOTE.user_id, deviceId: REMOTE.device_id },
      content: {
        call_id: 'cascade-1',
        'org.matrix.msc3898.error': { errcode: 'M_BAD_JSON', error: /room_id/ },
      },
    },
  ]);
  t.equal(m.manager.conferenceCount, 0);
});

t.test('link calls are indexed like sessions, are not sessions, and keep their conference', async (t) => {
  const m = managerRig();
  m.oracle.presence = [
    { focus: FOCUS, liveMembers: 1 },
    { focus: REMOTE, liveMembers: 1 },
  ];
  m.manager.handleToDevice({
    type: 'm.call.invite',
    sender: REMOTE.user_id,
    content: linkContent('cascade-2'),
  });
  await flush();
  t.match(
    m.signal.take().map((s) => s.type),
    ['m.call.answer', 'm.call.candidates'],
  );
  t.equal(m.manager.sessionCount, 0, 'a link is not a session');
  t.equal(m.manager.linkCount, 1);
  t.equal(m.manager.conferenceCount, 1, 'a conference with a link and no session stays');
  t.match(m.manager.status(), { sessions: 0, links: 1, conferences: 1 });

  const base = linkContent('cascade-2');
  m.manager.handleToDevice({
    type: 'm.call.candidates',
    sender: REMOTE.user_id,
    content: { ...base, candidates: [{ candidate: 'candidate:5 1 udp 1 127.0.0.1 5 typ host' }] },
  });
  await flush();
  t.same(m.linkMedia.last().remoteCandidates, ['candidate:5 1 udp 1 127.0.0.1 5 typ host']);

  // An answer is only for links this focus initiated: this one it answered itself.
  m.manager.handleToDevice({
    type: 'm.call.answer',
    sender: REMOTE.user_id,
    content: { ...base, answer: { type: 'answer', sdp: 'v=0\r\nX\r\n' } },
  });
  m.manager.handleToDevice({
    type: 'm.call.answer',
    sender: '@alice:example.org',
    content: { ...base, device_id: 'ALICEDEV', answer: { type: 'answer', sdp: 'v=0\r\nX\r\n' } },
  });
  await flush();
  t.notOk(m.linkMedia.last().events.some((e) => e.startsWith('acceptAnswer')));
  const metrics = await m.registry.getMetricsAsJSON();
  const ignored = metrics.find((x) => x.name === 'sfu_signalling_ignored_total');
  t.match(
    ignored?.values,
    [{ labels: { reason: 'unknown_call' }, value: 1 }],
    'the client’s answer: unknown',
  );

  m.linkMedia.last().open();
  m.linkMedia.last().stats_.estimateBps = 2_000_000;
  await flush();
  const text = await m.registry.metrics();
  t.match(text, /sfu_links\{state="connected"\} 1/);
  t.match(text, /sfu_links\{state="inviting"\} 0/);
  const remote = REMOTE.user_id.replace(/[.]/g, '\\.');
  t.match(text, new RegExp(`sfu_link_remote_bitrate_bps\\{remote="${remote}",direction="in"\\} 0`));
  t.match(text, new RegExp(`sfu_link_remote_estimate_bps\\{remote="${remote}"\\} 2000000`));

  m.manager.handleToDevice({
    type: 'm.call.hangup',
    sender: REMOTE.user_id,
    content: { ...base, reason: 'user_hangup' },
  });
  await flush();
  t.equal(m.manager.linkCount, 0);
  const after = await m.registry.metrics();
  t.match(after, /sfu_links\{state="connected"\} 0/);
  t.notMatch(after, /sfu_link_remote_estimate_bps\{remote=/, 'no series once the link is gone');
  await m.manager.close();
});

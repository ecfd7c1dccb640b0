// The start-up rebuild of a conference from room state (protocol.md §8.7), with fake link peers on a fake clock:
// the peers are invited at once whichever side sorts lower, a rebuild nobody local joins ends linger_s after the
// rebuild (its retries keep it meanwhile), and a local session joining hands it back to the usual rules.
import t from 'tap';
import { FOCUS, join } from './fakes.js';
import { advance, linkRef, linkRig, LOWER, REMOTE, settle, type LinkRig } from './linkCallFakes.js';

function invitesTo(r: LinkRig, focus: { user_id: string }): string[] {
  return r.signal
    .take()
    .filter((s) => s.type === 'm.call.invite' && s.dest.userId === focus.user_id)
    .map((s) => s.content['call_id'] as string);
}

async function rebuilt(r: LinkRig): Promise<void> {
  r.conf.links.rebuild();
  await settle(r);
}

/** Answers our invite `callId` to `remote` and connects the link. */
async function connect(r: LinkRig, remote: typeof LOWER, callId: string): Promise<void> {
  await r.conf.dispatch({ kind: 'answer', session: linkRef(remote, callId), sdp: 'v=0\r\nTHEIRS\r\n' });
  r.linkMedia.last().open();
  await settle(r);
}

/** Advances `ms` in 1 s steps with an `alive` from the remote each second (the link stays healthy). */
async function alive(r: LinkRig, ms: number): Promise<void> {
  const peer = r.linkMedia.last();
  for (let done = 0; done < ms; done += 1000) {
    peer.emit('dcmessage', JSON.stringify({ op: 'alive' }));
    await advance(r, Math.min(1000, ms - done), 250);
  }
}

function hangups(r: LinkRig): { call_id: unknown; reason: unknown }[] {
  return r.signal
    .take()
    .filter((s) => s.type === 'm.call.hangup')
    .map((s) => ({ call_id: s.content['call_id'], reason: s.content['reason'] }));
}

t.test('rebuilt: the peer is invited at once although it sorts lower (no grace)', async (t) => {
  const rows: { name: string; peers: (typeof LOWER)[] }[] = [
    { name: 'a lower peer', peers: [LOWER] },
    { name: 'a higher peer', peers: [REMOTE] },
    { name: 'both', peers: [LOWER, REMOTE] },
  ];
  for (const row of rows) {
    const r = linkRig();
    r.presence([FOCUS, 1], ...row.peers.map((p): [typeof p, number] => [p, 1]));
    await rebuilt(r);
    const sent = r.signal.take().filter((s) => s.type === 'm.call.invite');
    t.same(
      sent.map((s) => s.dest.userId).sort(),
      row.peers.map((p) => p.user_id).sort(),
      `${row.name}: invited at t=0`,
    );
    t.ok(
      r.logs.some((l) => l['msg'] === 'inviting a focus to link' && l['reason'] === 'rebuild'),
      `${row.name}: reason rebuild`,
    );
  }
});

t.test('without a rebuild the same view waits the grace for a lower peer', async (t) => {
  const r = linkRig();
  r.presence([FOCUS, 1], [LOWER, 1]);
  await r.conf.dispatch({ kind: 'recheck' });
  await settle(r);
  t.same(invitesTo(r, LOWER), [], 'no invite at t=0');
});

t.test(
  'a rebuild no local session joins hangs up linger_s after the rebuild; the conference closes',
  async (t) => {
    const r = linkRig({ linger_s: 30 });
    r.presence([FOCUS, 1], [LOWER, 1]);
    await rebuilt(r);
    const [callId] = invitesTo(r, LOWER);
    await connect(r, LOWER, callId!);
    t.same(r.conf.links.snapshot().length, 1, 'linked');
    await alive(r, 29_800);
    t.same(hangups(r), [], 'still linked just before linger_s from the rebuild');
    t.notOk(r.host.events.includes('empty'));
    await alive(r, 300);
    t.same(hangups(r), [{ call_id: callId, reason: 'user_hangup' }], 'user_hangup at rebuild + linger_s');
    await settle(r);
    t.ok(r.host.events.includes('empty'), 'the conference closed');
    t.ok(r.conf.closed);
  },
);

t.test('a refused rebuild invite is retried with backoff; the conference stays for linger_s', async (t) => {
  const r = linkRig({ linger_s: 30 });
  r.presence([FOCUS, 1], [LOWER, 1]);
  await rebuilt(r);
  const [first] = invitesTo(r, LOWER);
  await r.conf.dispatch({ kind: 'hangup', session: linkRef(LOWER, first!), reason: 'unknown_error' });
  await settle(r);
  t.notOk(r.conf.closed, 'no link and no session, but the rebuild holds the conference');
  await advance(r, 1100);
  t.equal(invitesTo(r, LOWER).length, 1, 'retried after 1 s');
  await advance(r, 27_000);
  t.notOk(r.conf.closed, 'still there within the window');
  r.signal.take();
  await advance(r, 3000);
  t.ok(r.conf.closed, 'closed once the rebuild’s linger ran out');
  t.ok(r.host.events.includes('empty'));
  t.same(invitesTo(r, LOWER), [], 'no invite after the window');
});

t.test('a local session joining the rebuilt conference hands it to the usual rules', async (t) => {
  const r = linkRig({ linger_s: 5 });
  r.presence([FOCUS, 1], [LOWER, 1]);
  await rebuilt(r);
  const [callId] = invitesTo(r, LOWER);
  await connect(r, LOWER, callId!);
  await join(r, 'alice');
  r.signal.take();
  await alive(r, 12_000);
  t.same(hangups(r), [], 'linked past linger_s: a local participant is here');
  t.equal(r.conf.links.snapshot().length, 1);
  t.notOk(r.conf.closed);
});

t.test('memberships naming this focus gone meanwhile: the linger still runs from the rebuild', async (t) => {
  const r = linkRig({ linger_s: 30 });
  r.presence([FOCUS, 1], [LOWER, 1]);
  await rebuilt(r);
  const [callId] = invitesTo(r, LOWER);
  await connect(r, LOWER, callId!);
  await alive(r, 5000);
  r.presence([LOWER, 1]);
  await r.conf.dispatch({ kind: 'recheck' });
  await alive(r, 24_800);
  t.same(hangups(r), [], 'lingering');
  await alive(r, 400);
  t.same(hangups(r), [{ call_id: callId, reason: 'user_hangup' }], 'at rebuild + linger_s, not 30 s after');
});

t.test('cascade.auto off: a rebuild invites nobody and the conference closes at once', async (t) => {
  const r = linkRig({ auto: false });
  r.presence([FOCUS, 1], [LOWER, 1]);
  await rebuilt(r);
  t.same(invitesTo(r, LOWER), []);
  t.ok(r.conf.closed);
});

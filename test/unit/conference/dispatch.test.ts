/**
 * Conference.dispatch with fake ports: each command kind does its work, commands run one at a time in dispatch
 * order on the conference's queue, and an unknown or malformed command is refused with a clear error (logged
 * once, nothing run) while a failing command resolves `{ok: false}` without stopping the queue.
 */
import t from 'tap';
import { ConferenceCommandError, commandProblem } from '../../../src/conference/commands.js';
import type { ConferenceCommand } from '../../../src/conference/commands.js';
import { idsOf, join, refOf, rig, sdpOf } from './fakes.js';

t.test('invite, candidates, selectAnswer, negotiate, hangup: each reaches its session', async (t) => {
  const r = rig();
  const alice = await join(r, 'alice');
  const ref = refOf(idsOf('alice'));
  t.equal(r.conf.size, 1, 'invite started a session');

  t.same(
    await r.conf.dispatch({ kind: 'candidates', session: ref, candidates: [{ candidate: 'candidate:x' }] }),
    {
      ok: true,
    },
  );
  t.same(
    alice.remoteCandidates.map((c) => c.candidate),
    ['candidate:x'],
  );

  r.signal.take();
  await r.conf.dispatch({
    kind: 'negotiate',
    session: ref,
    description: { type: 'offer', sdp: sdpOf([{ kind: 'audio', stream: 'alice-s', track: 'alice-a' }], 3) },
    metadata: {},
  });
  t.same(
    r.signal.take().map((s) => s.type),
    ['m.call.negotiate'],
  );

  await r.conf.dispatch({ kind: 'selectAnswer', session: ref, selectedPartyId: 'SFUDEV' });
  t.notOk(alice.closed, 'select_answer naming the focus changes nothing');

  await r.conf.dispatch({ kind: 'hangup', session: ref });
  t.ok(alice.closed, 'hangup ended it');
  t.equal(r.conf.size, 0);
});

t.test('malformed: the session ends with hangup unknown_error and the given error object', async (t) => {
  const r = rig();
  const alice = await join(r, 'alice');
  r.signal.take();
  await r.conf.dispatch({
    kind: 'malformed',
    session: refOf(idsOf('alice')),
    errcode: 'M_BAD_JSON',
    error: 'candidates must be an array',
  });
  t.ok(alice.closed);
  t.match(r.signal.take(), [
    {
      type: 'm.call.hangup',
      content: {
        reason: 'unknown_error',
        'org.matrix.msc3898.error': { errcode: 'M_BAD_JSON', error: 'candidates must be an array' },
      },
    },
  ]);
  t.equal(r.metrics.calls.at(-1), 'ended:malformed_event');
});

t.test(
  'recheck: revoked devices are hung up with M_FORBIDDEN; a device filter limits the check',
  async (t) => {
    const r = rig();
    const alice = await join(r, 'alice');
    const bob = await join(r, 'bob');
    const carol = await join(r, 'carol');
    r.signal.take();
    r.oracle.decisions.set('@alice:example.org|ALICEDEV', { allowed: false, reason: 'left_room' });
    r.oracle.decisions.set('@bob:example.org|BOBDEV', { allowed: false, reason: 'expired' });
    r.oracle.queries.length = 0;
    await r.conf.dispatch({ kind: 'recheck', device: { userId: '@bob:example.org', deviceId: 'BOBDEV' } });
    t.same(
      r.oracle.queries.map((q) => q.userId),
      ['@bob:example.org'],
      'only the named device is re-authorized',
    );
    t.ok(bob.closed);
    t.notOk(alice.closed);
    t.match(r.signal.take(), [
      {
        dest: { userId: '@bob:example.org' },
        content: {
          reason: 'unknown_error',
          'org.matrix.msc3898.error': { errcode: 'M_FORBIDDEN', error: 'your call membership has expired' },
        },
      },
    ]);
    r.oracle.decisions.set('@carol:example.org|CAROLDEV', {
      allowed: true,
      expiresAt: Number.MAX_SAFE_INTEGER,
      sessionId: 's-carol-new',
    });
    await r.conf.dispatch({ kind: 'recheck' });
    t.ok(alice.closed, 'a full recheck reaches alice');
    t.ok(carol.closed, 'format (a): a membership naming another session_id ends the older session');
    t.match(r.signal.take(), [
      { content: { 'org.matrix.msc3898.error': { error: 'you left the room' } } },
      {
        content: {
          'org.matrix.msc3898.error': { error: 'the device’s call membership names another session' },
        },
      },
    ]);
    t.same(
      r.metrics.calls.filter((c) => c.startsWith('ended')),
      ['ended:revoked', 'ended:revoked', 'ended:membership_session_changed'],
    );
  },
);

t.test('shutdown: every session gets hangup user_hangup and the conference closes', async (t) => {
  const r = rig();
  const peers = [await join(r, 'alice'), await join(r, 'bob')];
  r.signal.take();
  await r.conf.dispatch({ kind: 'shutdown', reason: 'shutdown' });
  t.ok(peers.every((p) => p.closed));
  t.same(
    r.signal.take().map((s) => [s.type, s.content['reason'], s.content['call_id']]),
    [
      ['m.call.hangup', 'user_hangup', 'call-alice'],
      ['m.call.hangup', 'user_hangup', 'call-bob'],
    ],
  );
  t.ok(r.conf.closed);
  t.equal(r.clock.pendingTimers, 0, 'no timer left (keep-alive, speaker)');
});

t.test('commands run one at a time, in dispatch order', async (t) => {
  const r = rig();
  const ids = idsOf('alice');
  const ref = refOf(ids);
  let open = (): void => undefined;
  r.media.gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  // Dispatched back to back while the invite's offer is still being applied: the others must wait for it.
  const pending = [
    r.conf.dispatch({
      kind: 'invite',
      ids,
      sdp: sdpOf([{ kind: 'audio', stream: 'alice-s', track: 'alice-a' }]),
      metadata: {},
    }),
    r.conf.dispatch({ kind: 'candidates', session: ref, candidates: [{ candidate: 'candidate:1' }] }),
    r.conf.dispatch({ kind: 'hangup', session: ref }),
    r.conf.dispatch({ kind: 'candidates', session: ref, candidates: [{ candidate: 'candidate:2' }] }),
  ];
  await new Promise((resolve) => setImmediate(resolve));
  const peer = r.media.peers[0];
  t.same(peer?.events, [], 'nothing reached the peer before its offer was applied');
  open();
  const results = await Promise.all(pending);
  t.ok(results.every((x) => x.ok));
  t.same(
    peer?.events,
    ['answer', 'candidate:candidate:1', 'close'],
    'answer, then the first batch, then the hangup; the batch after the hangup found no session',
  );
  t.same(
    r.signal.take().map((s) => s.type),
    ['m.call.answer', 'm.call.candidates'],
  );
});

t.test('a command for a session that has ended is a no-op', async (t) => {
  const r = rig();
  await join(r, 'alice');
  r.signal.take();
  const stale = refOf(idsOf('alice', { callId: 'call-old' }));
  t.same(await r.conf.dispatch({ kind: 'hangup', session: stale }), { ok: true });
  t.same(await r.conf.dispatch({ kind: 'selectAnswer', session: stale, selectedPartyId: 'X' }), { ok: true });
  t.equal(r.conf.size, 1);
  t.same(r.signal.take(), []);
});

t.test('unknown or malformed commands are refused at once with a clear error, logged once', async (t) => {
  const r = rig();
  await join(r, 'alice');
  const bad: [unknown, RegExp][] = [
    [{ kind: 'explode' }, /unknown conference command kind "explode"/],
    [{ kind: 7 }, /unknown conference command kind of type number/],
    [null, /must be an object/],
    [{ kind: 'hangup' }, /hangup: session must be \{userId, deviceId, callId, senderSessionId\}/],
    [
      { kind: 'candidates', session: refOf(idsOf('alice')), candidates: 'x' },
      /candidates: candidates must be an array/,
    ],
    [
      {
        kind: 'negotiate',
        session: refOf(idsOf('alice')),
        description: { type: 'pranswer', sdp: '' },
        metadata: {},
      },
      /negotiate: needs description/,
    ],
    [{ kind: 'invite', ids: { userId: 'x' }, sdp: '', metadata: {} }, /invite: ids must hold the strings/],
    [{ kind: 'recheck', device: 'all' }, /recheck: device must be/],
    [{ kind: 'shutdown' }, /shutdown: reason must be a string/],
  ];
  for (const [cmd, message] of bad) {
    r.logs.length = 0;
    const result = await r.conf.dispatch(cmd as ConferenceCommand);
    t.equal(result.ok, false, JSON.stringify(cmd));
    if (!result.ok) {
      t.type(result.error, ConferenceCommandError);
      t.match(result.error.message, message);
    }
    t.equal(r.logs.filter((l) => l['msg'] === 'conference command refused').length, 1, 'logged once');
  }
  t.equal(r.conf.size, 1, 'nothing ran');
  t.equal(r.media.peers[0]?.closed, false);
  t.equal(commandProblem({ kind: 'recheck' }), undefined);
  t.equal(commandProblem({ kind: 'hangup', session: refOf(idsOf('alice')), reason: 'x' }), undefined);
});

t.test('a command that fails resolves {ok: false}; the queue goes on', async (t) => {
  const r = rig();
  const alice = await join(r, 'alice');
  alice.candidateError = new Error('ice agent gone');
  const ref = refOf(idsOf('alice'));
  const failed = await r.conf.dispatch({
    kind: 'candidates',
    session: ref,
    candidates: [{ candidate: 'c' }],
  });
  t.equal(failed.ok, false);
  if (!failed.ok) {
    t.equal(failed.error.message, 'ice agent gone');
  }
  t.equal(r.logs.filter((l) => l['msg'] === 'conference task failed').length, 1);
  t.same(await r.conf.dispatch({ kind: 'hangup', session: ref }), { ok: true });
  t.ok(alice.closed, 'the next command still ran');
});

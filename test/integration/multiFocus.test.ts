/**
 * Two real SFU processes, the foci of a.example and b.example, on one test homeserver serving both server
 * names (harness/multiStack.ts): both become ready, and in one room (created on a.example) each answers the
 * invite of a client of its own server; the peers connect with the data channel open. Automatic linking is off
 * (`cascade.auto: false`) so each focus serves only its own client; test/integration/cascade covers links.
 */
import t from 'tap';
import { CONF, type TestCallClient } from '../../harness/callStack.js';
import { startMultiCallStack } from '../../harness/multiCallStack.js';
import type { FocusNode } from '../../harness/multiStack.js';
import type { TapTest } from '../../harness/sfu.js';

const A = 'a.example';
const B = 'b.example';

async function status(node: FocusNode): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${node.httpPort}/status`);
  return (await res.json()) as Record<string, unknown>;
}

async function callOwnFocus(t: TapTest, c: TestCallClient, node: FocusNode): Promise<void> {
  await c.invite({ focus: node.focus, confId: CONF, offerOpts: { dataChannel: true } });
  const answer = await c.waitForAnswer(20_000);
  t.equal((answer['answer'] as { type: string }).type, 'answer', `${c.userId} got an answer`);
  const answers = c.received.filter((e) => e.type === 'm.call.answer');
  t.same(
    answers.map((e) => [e.sender, e.content['party_id']]),
    [[node.focus.user_id, node.focus.device_id]],
    `${c.userId}: answered by the focus of its own server`,
  );
  await c.peer.waitConnected(20_000);
  await c.peer.waitDataChannelOpen(20_000);
  t.same(c.violations, [], 'the focus kept every rule of protocol.md §4.4');
  t.same(c.errors, []);
}

t.test('two focus processes on a.example and b.example each answer their own client', async (t) => {
  const ms = await startMultiCallStack(t, { config: { cascade: { auto: false } } });
  t.same(
    ms.nodes.map((n) => [n.serverName, n.focus.user_id, n.running]),
    [
      [A, `@sfu:${A}`, true],
      [B, `@sfu:${B}`, true],
    ],
    'both foci are up (their /readyz answered 200)',
  );
  t.not(ms.node(A).registration.as_token, ms.node(B).registration.as_token, 'own registrations');
  for (const node of ms.nodes) {
    t.match(await status(node), { focus: { user_id: node.focus.user_id } }, `${node.serverName} /status`);
  }

  t.match(ms.roomId, /:a\.example$/, 'the room was created on a.example');
  const alice = await ms.client('alice', A);
  const bob = await ms.client('bob', B);
  t.equal(alice.userId, `@alice:${A}`);
  t.equal(bob.userId, `@bob:${B}`);
  await Promise.all([callOwnFocus(t, alice, ms.node(A)), callOwnFocus(t, bob, ms.node(B))]);

  for (const node of ms.nodes) {
    t.match(
      await status(node),
      { conferences: 1, sessions: 1 },
      `${node.serverName}: one conference with one session`,
    );
  }
  const invitesPushed = (serverName: string): string[] =>
    ms.hs.pushes
      .filter((p) => p.serverName === serverName && p.status === 200)
      .flatMap(
        (p) =>
          (p.body['de.sorunome.msc2409.to_device'] as { type: string; sender: string }[] | undefined) ?? [],
      )
      .filter((m) => m.type === 'm.call.invite')
      .map((m) => m.sender);
  t.same(invitesPushed(A), [alice.userId], "a.example's focus was pushed alice's invite only");
  t.same(invitesPushed(B), [bob.userId], "b.example's focus was pushed bob's invite only");
  t.same(ms.hs.rejections, [], 'the homeserver rejected nothing either focus or client sent');
});

t.test('a focus process killed with SIGKILL starts again with the same ports and registration', async (t) => {
  const ms = await startMultiCallStack(t);
  const b = ms.node(B);
  const firstPid = b.child?.pid;
  let at = Date.now();
  await b.stop('SIGKILL');
  t.comment(`killed in ${Date.now() - at} ms`);
  at = Date.now();
  t.equal(b.running, false, 'b.example’s focus is down');
  t.equal(b.child?.signalCode, 'SIGKILL');
  t.equal(ms.node(A).running, true, 'a.example’s focus is untouched');
  await b.start();
  t.comment(`restarted in ${Date.now() - at} ms`);
  at = Date.now();
  t.equal(b.running, true);
  t.not(b.child?.pid, firstPid, 'a new process');
  const bob = await ms.client('bob', B);
  await callOwnFocus(t, bob, b);
  t.comment(`called in ${Date.now() - at} ms`);
  t.same(ms.hs.rejections, []);
});

t.test('in process: three foci on a.example, b.example and c.example', async (t) => {
  const ms = await startMultiCallStack(t, {
    mode: 'inprocess',
    serverNames: [A, B, 'c.example'],
  });
  t.same(
    ms.nodes.map((n) => [n.serverName, n.sfu?.focus.userId, n.sfu?.readiness.ready, n.child]),
    [
      [A, `@sfu:${A}`, true, undefined],
      [B, `@sfu:${B}`, true, undefined],
      ['c.example', '@sfu:c.example', true, undefined],
    ],
  );
  const carol = await ms.client('carol', 'c.example');
  await callOwnFocus(t, carol, ms.node('c.example'));
  t.equal(ms.node('c.example').sfu?.conferences.sessionCount, 1);
  t.equal(ms.node(A).sfu?.conferences.sessionCount, 0, 'the other foci have no session');
  t.same(ms.hs.rejections, []);
});

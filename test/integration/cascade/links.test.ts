/**
 * Link set-up between real focus processes (protocol.md §8.1) on the federated test homeserver: with one member
 * per focus, the foci link automatically — exactly one link per focus pair, connected at both ends as their
 * /metrics say (`sfu_links{state="connected"}`), set up by to-device alone, with the lower focus inviting.
 */
import t from 'tap';
import { CONF, type TestCallClient } from '../../../harness/callStack.js';
import { startMultiCallStack, type MultiCallStack } from '../../../harness/multiCallStack.js';
import type { FocusNode } from '../../../harness/multiStack.js';
import type { TapTest } from '../../../harness/sfu.js';
import { waitFor } from '../../../harness/stack.js';

async function metric(node: FocusNode, name: string, labels: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${node.httpPort}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function join(c: TestCallClient, node: FocusNode): Promise<void> {
  await c.invite({ focus: node.focus, confId: CONF, offerOpts: { dataChannel: true, audio: true } });
  await c.waitForAnswer(30_000);
  await c.peer.waitConnected(30_000);
  await c.peer.waitDataChannelOpen(30_000);
}

/** Link invites each server's focus was pushed, as [sender, call_id]. */
function linkInvites(ms: MultiCallStack, serverName: string): [string, string][] {
  return ms.hs.pushes
    .filter((p) => p.serverName === serverName && p.status === 200)
    .flatMap(
      (p) =>
        (p.body['de.sorunome.msc2409.to_device'] as
          { type: string; sender: string; content: Record<string, unknown> }[] | undefined) ?? [],
    )
    .filter((m) => m.type === 'm.call.invite' && m.content['org.matrix.msc3898.cascade'] === true)
    .map((m) => [m.sender, m.content['call_id'] as string]);
}

async function waitLinks(t: TapTest, nodes: FocusNode[], each: number): Promise<void> {
  await waitFor(
    async () => {
      for (const n of nodes) {
        if ((await metric(n, 'sfu_links', 'state="connected"')) !== each) {
          return false;
        }
      }
      return true;
    },
    60_000,
    `${each} connected link(s) at every focus`,
  );
  for (const n of nodes) {
    t.equal(await metric(n, 'sfu_links', 'state="connected"'), each, `${n.serverName}: ${each} connected`);
    t.equal(await metric(n, 'sfu_links', 'state="inviting"'), 0, `${n.serverName}: none inviting`);
  }
}

t.test('two foci with one member each link exactly once', async (t) => {
  const ms = await startMultiCallStack(t);
  const [a, b] = [ms.node('a.example'), ms.node('b.example')];
  const alice = await ms.client('alice', 'a.example');
  const bob = await ms.client('bob', 'b.example');
  await Promise.all([join(alice, a), join(bob, b)]);
  await waitLinks(t, [a, b], 1);
  // The lower focus invites at once; the higher one only after its grace if no link exists by then (a
  // crossing is then resolved), so under load there may be a second invite — but one link remains.
  const toB = linkInvites(ms, 'b.example');
  t.ok(toB.length >= 1, 'a.example invited b.example');
  t.equal(toB[0]?.[0], '@sfu:a.example');
  t.match(toB[0]?.[1], /^cascade-\d+-/);
  t.ok(linkInvites(ms, 'a.example').every(([from]) => from === '@sfu:b.example'));
  t.same(ms.hs.rejections, [], 'the homeserver rejected nothing');
});

t.test('three foci with one member each form exactly 3 links (full mesh)', async (t) => {
  const names = ['a.example', 'b.example', 'c.example'];
  const ms = await startMultiCallStack(t, { serverNames: names });
  const clients = await Promise.all(names.map((n, i) => ms.client(['alice', 'bob', 'carol'][i]!, n)));
  await Promise.all(clients.map((c, i) => join(c, ms.node(names[i]!))));
  await waitLinks(t, ms.nodes, 2);
  const pairs = new Set(
    names.flatMap((n) => linkInvites(ms, n).map(([from]) => [from.replace('@sfu:', ''), n].sort().join('–'))),
  );
  t.same([...pairs].sort(), ['a.example–b.example', 'a.example–c.example', 'b.example–c.example']);
  for (const n of ms.nodes) {
    const status = (await (await fetch(`http://127.0.0.1:${n.httpPort}/status`)).json()) as Record<
      string,
      unknown
    >;
    t.match(status, { sessions: 1, links: 2 }, `${n.serverName}: one session, two links`);
  }
  t.same(ms.hs.rejections, []);
});

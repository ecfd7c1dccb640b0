/**
 * The `connect` op against real focus processes (protocol.md §5.2, §8.1): a focus no live member of the
 * conference names is refused `M_FORBIDDEN` and gets no invite; naming the focus itself is a no-op `ack`.
 */
import t from 'tap';
import { dc } from '../../../client/index.js';
import { CONF, type TestCallClient } from '../../../harness/callStack.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import type { FocusNode } from '../../../harness/multiStack.js';
import { waitFor } from '../../../harness/stack.js';

const A = 'a.example';

function replies(c: TestCallClient): dc.FocusMessage[] {
  const msgs: dc.FocusMessage[] = [];
  c.peer.onData((raw) => {
    const r = dc.readFocusFrame(raw);
    if (r.ok && (r.message.kind === 'ack' || r.message.kind === 'error')) {
      msgs.push(r.message);
    }
  });
  return msgs;
}

async function join(c: TestCallClient, node: FocusNode): Promise<void> {
  await c.invite({ focus: node.focus, confId: CONF, offerOpts: { dataChannel: true } });
  await c.waitForAnswer(20_000);
  await c.peer.waitConnected(20_000);
  await c.peer.waitDataChannelOpen(20_000);
}

t.test('connect to a focus no member names → M_FORBIDDEN, no invite; to itself → ack', async (t) => {
  const ms = await startMultiCallStack(t, { config: { cascade: { auto: false } } });
  const alice = await ms.client('alice', A);
  const inbox = replies(alice);
  await join(alice, ms.node(A));
  const b = ms.node('b.example').focus;
  alice.peer.sendData(JSON.stringify({ op: 'connect', id: 'k1', foci: [b] }));
  alice.peer.sendData(JSON.stringify({ op: 'connect', id: 'k2', foci: [ms.node(A).focus] }));
  await waitFor(() => inbox.length >= 2, 15_000, 'two replies');
  t.match(inbox, [
    { kind: 'error', id: 'k1', errcode: 'M_FORBIDDEN', error: /@sfu:b\.example\/SFUDEV1/ },
    { kind: 'ack', id: 'k2' },
  ]);
  const linkInvites = ms.hs.pushes
    .filter((p) => p.serverName === 'b.example')
    .flatMap((p) => (p.body['de.sorunome.msc2409.to_device'] as { type: string }[] | undefined) ?? [])
    .filter((m) => m.type === 'm.call.invite');
  t.same(linkInvites, [], 'b.example’s focus was invited by nobody');
  t.same(ms.hs.rejections, []);
});

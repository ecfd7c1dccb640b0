/**
 * Focus restart with the rebuild of protocol.md §8.7, real processes: alice publishes on a.example, bob subscribes
 * on b.example through the link; both memberships name the conference (`call_id` = conf_id). b.example's focus is
 * killed with SIGKILL and restarted: from room state alone (bob's membership still names it, alice's names
 * a.example) it rebuilds the conference and invites a.example at once, which takes the invite as a replacement
 * (§4.3) — the link is connected on both foci BEFORE any client calls b.example again. A subscriber joining then
 * gets alice's relayed RTP. Times are reported as comments (no timing thresholds in npm test).
 */
import t from 'tap';
import type { TestCallClient } from '../../../harness/callStack.js';
import { CONF } from '../../../harness/callStack.js';
import {
  asWerift,
  joinWithMedia,
  streamOf,
  subscribe,
  type MediaClient,
} from '../../../harness/mediaCall.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import type { FocusNode } from '../../../harness/multiStack.js';
import { waitFor } from '../../../harness/stack.js';

const A = 'a.example';
const B = 'b.example';
const MEMBERSHIP = { callId: CONF };

async function metric(node: FocusNode, name: string, labels: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${node.httpPort}/metrics`);
    const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  } catch {
    return undefined;
  }
}

async function sessions(node: FocusNode): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${node.httpPort}/status`);
  return ((await res.json()) as { sessions: number }).sessions;
}

/** A subscriber on `node` that counts alice's relayed audio packets. */
async function subscriber(node: FocusNode, c: TestCallClient, alice: string, id: string) {
  const mc: MediaClient = await joinWithMedia({ focusRef: node.focus }, c, {});
  const s = await streamOf(mc, alice, { audio: true });
  let packets = 0;
  asWerift(c.peer).onRtp((r) => {
    if (r.kind === 'audio') {
      packets++;
    }
  });
  await subscribe(mc, [{ stream_id: s.streamId, track_id: s.audio! }], id);
  return { mc, packets: () => packets };
}

t.test('a restarted focus rebuilds its conference from room state and links before any client', async (t) => {
  // Info logs on b.example: its start-up rebuild report is read below.
  const ms = await startMultiCallStack(t, {
    configFor: (name) => (name === B ? { logging: { level: 'info' } } : {}),
  });
  const [a, b] = [ms.node(A), ms.node(B)];
  const alice = await ms.client('alice', A, { membership: MEMBERSHIP });
  const pub = await joinWithMedia({ focusRef: a.focus }, alice, { audio: true });
  const bob = await ms.client('bob', B, { membership: MEMBERSHIP });
  const first = await subscriber(b, bob, alice.userId, 'sub-1');
  await waitFor(() => first.packets() > 20, 60_000, 'relayed audio at bob (b.example)');
  t.equal(await metric(a, 'sfu_links', 'state="connected"'), 1, 'a.example: the link is connected');
  const offersBefore = pub.answered();
  const replacedBefore = (await metric(a, 'sfu_invites_total', 'result="replaced"')) ?? 0;

  await b.stop('SIGKILL');
  await waitFor(async () => (await metric(a, 'sfu_links', 'state="suspended"')) === 1, 30_000, 'suspended');
  t.pass('a.example marked the link suspended');

  await b.start();
  const readyAt = Date.now();
  await waitFor(
    async () =>
      (await metric(b, 'sfu_links', 'state="connected"')) === 1 &&
      (await metric(a, 'sfu_links', 'state="connected"')) === 1,
    30_000,
    'the link connected on both foci',
  );
  t.comment(`link connected on both foci ${Date.now() - readyAt} ms after b.example was ready`);
  t.equal(await sessions(b), 0, 'no client has called b.example yet: the link came from room state');
  t.equal(await metric(a, 'sfu_links', 'state="suspended"'), 0, 'no suspended link left on a.example');
  const rebuilds = b
    .output()
    .split('\n')
    .filter((l) => l.includes('"component":"rebuild"') && l.includes('conferences rebuilt from room state'));
  t.match(rebuilds.at(-1), /"rebuilt":1\b/, 'b.example rebuilt the conference from room state at start-up');
  // Usually a.example takes b.example's invite as a replacement (§4.3); on a slow start its own relink (§8.7)
  // may cross it first, and the crossing rule (§8.1) keeps one of them.
  const replaced = ((await metric(a, 'sfu_invites_total', 'result="replaced"')) ?? 0) > replacedBefore;
  t.comment(
    `a.example took b.example's invite as a replacement: ${replaced ? 'yes' : 'no (crossed a relink)'}`,
  );

  const joinAt = Date.now();
  const dave = await ms.client('dave', B, { membership: MEMBERSHIP });
  const again = await subscriber(b, dave, alice.userId, 'sub-2');
  t.comment(`dave joined b.example and subscribed in ${Date.now() - joinAt} ms`);
  await waitFor(() => again.packets() > 0, 60_000, 'relayed audio at dave (restarted b.example)');
  t.comment(`relayed RTP at the re-joined subscriber ${Date.now() - readyAt} ms after b.example was ready`);
  await waitFor(() => again.packets() > 20, 60_000, 'relayed audio keeps flowing');
  t.equal(pub.answered(), offersBefore, 'alice (a.example) answered no SFU offer: no renegotiation');
  t.same(ms.hs.rejections, []);
});

/**
 * Focus restart (protocol.md §8.7) with real processes: alice publishes on a.example, bob subscribes on
 * b.example through the link. b.example's focus is killed with SIGKILL: a.example marks the link suspended, and
 * after b.example restarts a subscriber joining it receives alice's relayed RTP again (a new link: a relink or
 * b.example's own invite). a.example's clients see no renegotiation throughout. The memberships here are room-wide
 * (`call_id: ""`), which name no conf_id to rebuild from room state (§8.7); restartRebuild.test.ts covers that. Times are reported as comments
 * (no timing thresholds in npm test).
 */
import t from 'tap';
import type { TestCallClient } from '../../../harness/callStack.js';
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

async function metric(node: FocusNode, name: string, labels: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${node.httpPort}/metrics`);
    const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  } catch {
    return undefined;
  }
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

t.test('kill -9 a linked focus and restart it: suspended, relinked, relayed RTP again', async (t) => {
  const ms = await startMultiCallStack(t);
  const [a, b] = [ms.node(A), ms.node(B)];
  const alice = await ms.client('alice', A);
  const pub = await joinWithMedia({ focusRef: a.focus }, alice, { audio: true });
  const bob = await ms.client('bob', B);
  const first = await subscriber(b, bob, alice.userId, 'sub-1');
  await waitFor(() => first.packets() > 20, 60_000, 'relayed audio at bob (b.example)');
  t.equal(await metric(a, 'sfu_links', 'state="connected"'), 1, 'a.example: the link is connected');
  t.ok(
    (await metric(a, 'sfu_link_rtp_packets_total', 'direction="out"'))! > 0,
    'a.example sent RTP on the link',
  );
  t.ok((await metric(b, 'sfu_link_rtp_packets_total', 'direction="in"'))! > 0, 'b.example received it');
  await waitFor(
    async () => ((await metric(a, 'sfu_link_bitrate_bps', 'direction="out"')) ?? 0) > 0,
    10_000,
    'a send bit rate on the link',
  );
  const offersBefore = pub.answered();

  const killedAt = Date.now();
  await b.stop('SIGKILL');
  await waitFor(async () => (await metric(a, 'sfu_links', 'state="suspended"')) === 1, 30_000, 'suspended');
  t.pass('a.example marked the link suspended');
  t.comment(`suspended ${Date.now() - killedAt} ms after the kill`);

  await b.start();
  const readyAt = Date.now();
  const dave = await ms.client('dave', B);
  const again = await subscriber(b, dave, alice.userId, 'sub-2');
  t.comment(`dave joined b.example and subscribed ${Date.now() - readyAt} ms after it was ready`);
  await waitFor(() => again.packets() > 20, 60_000, 'relayed audio at dave (restarted b.example)');
  t.comment(`relayed RTP at the re-joined subscriber ${Date.now() - readyAt} ms after b.example was ready`);
  await waitFor(async () => (await metric(a, 'sfu_links', 'state="connected"')) === 1, 30_000, 'relinked');
  t.equal(await metric(a, 'sfu_links', 'state="suspended"'), 0, 'no suspended link left');
  t.equal(pub.answered(), offersBefore, 'alice (a.example) answered no SFU offer: no renegotiation');
  t.same(ms.hs.rejections, []);
});

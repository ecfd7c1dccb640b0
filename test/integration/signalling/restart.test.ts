/**
 * The SFU killed (SIGKILL) mid-call and started again (issue 17): it rebuilds membership from room state at
 * start-up, so the devices of the call re-invite with the memberships they published before — nothing is
 * re-published — and are answered at once; a subscriber's media is back soon after the SFU is ready (the time is
 * reported, not judged). A real focus process and werift peers; generous timeouts.
 */
import t from 'tap';
import { CallClient } from '../../../client/index.js';
import type { TestCallClient } from '../../../harness/callStack.js';
import { asWerift, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { startMultiCallStack, type MultiCallStack } from '../../../harness/multiCallStack.js';
import { WeriftPeer } from '../../../harness/peers/weriftPeer.js';
import { waitFor } from '../../../harness/stack.js';

const A = 'a.example';

/** A device of `localpart`: the same user, device and session id every time, a new peer each call. */
function device(ms: MultiCallStack, localpart: string) {
  const user = ms.hs.createUser(localpart, { serverName: A, deviceId: `${localpart.toUpperCase()}DEV` });
  ms.hs.join(user.userId, ms.roomId);
  const clients: TestCallClient[] = [];
  return {
    userId: user.userId,
    client(): TestCallClient {
      const c = new CallClient({
        hsUrl: ms.node(A).hsUrl,
        userId: user.userId,
        accessToken: user.accessToken,
        deviceId: user.deviceId,
        sessionId: `${localpart}-session`,
        peer: new WeriftPeer(),
      }) as TestCallClient;
      clients.push(c);
      return c;
    },
    close: () => Promise.all(clients.map((c) => c.close().catch(() => undefined))),
  };
}

/** Joins as a subscriber of `owner`'s audio; counts what arrives. */
async function listen(ms: MultiCallStack, c: TestCallClient, owner: string, id: string) {
  const mc = await joinWithMedia({ focusRef: ms.node(A).focus }, c, {});
  const s = await streamOf(mc, owner, { audio: true });
  let packets = 0;
  asWerift(c.peer).onRtp((r) => {
    if (r.kind === 'audio') {
      packets++;
    }
  });
  await subscribe(mc, [{ stream_id: s.streamId, track_id: s.audio! }], id);
  return () => packets;
}

t.test(
  'kill -9 the SFU and start it again: the call’s devices re-invite on their old memberships',
  async (t) => {
    const ms = await startMultiCallStack(t, { serverNames: [A] });
    const node = ms.node(A);
    const alice = device(ms, 'alice');
    const bob = device(ms, 'bob');
    t.teardown(async () => {
      await alice.close();
      await bob.close();
    });
    const a1 = alice.client();
    await a1.publishMembership(ms.roomId, node.focus);
    await joinWithMedia({ focusRef: node.focus }, a1, { audio: true });
    const b1 = bob.client();
    await b1.publishMembership(ms.roomId, node.focus);
    const first = await listen(ms, b1, alice.userId, 'sub-1');
    await waitFor(() => first() > 20, 30_000, 'bob hears alice');
    const stateEvents = ms.hs.roomState(ms.roomId).length;

    await node.stop('SIGKILL');
    await node.start(); // resolves once /readyz is ready (room state read again)
    const readyAt = Date.now();
    // The old calls are gone with the process; each device calls again, as a client does when its peer fails.
    await a1.peer.close();
    await b1.peer.close();
    const a2 = alice.client();
    await joinWithMedia({ focusRef: node.focus }, a2, { audio: true });
    const aliceAnsweredMs = Date.now() - readyAt;
    const b2 = bob.client();
    const again = await listen(ms, b2, alice.userId, 'sub-2');
    await waitFor(() => again() > 0, 30_000, 'bob hears alice again');
    const mediaBackMs = Date.now() - readyAt;
    t.equal(
      ms.hs.roomState(ms.roomId).length,
      stateEvents,
      'no membership re-published: authorized from room state',
    );
    t.same(a2.hangups, [], 'alice’s re-invite not refused');
    t.same(b2.hangups, [], 'bob’s re-invite not refused');
    t.comment(
      `after the SFU was ready: alice's re-invite answered and connected in ${aliceAnsweredMs} ms; bob hears alice again ${mediaBackMs} ms after it was ready`,
    );
    t.same(ms.hs.rejections, [], 'nothing the homeserver rejects');
  },
);

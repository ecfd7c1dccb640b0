/**
 * The foci of a multi-server stack (multiStack.ts) in one room: the room is created by `@owner:<first server>`
 * (its id names that server), every focus user is invited and joined before the foci start, and call clients are
 * users of any server name: each talks to its own server's listener and names its own server's focus.
 */
import { CallClient, type FocusRef, type MembershipOptions } from '../client/index.js';
import type { TestCallClient } from './callStack.js';
import { startMultiStack, type MultiStack, type MultiStackOptions } from './multiStack.js';
import { createPeer, type PeerKind } from './peers/index.js';
import { RelayedPeer } from './peers/relayedPeer.js';
import type { UdpRelay } from './udpRelay.js';
import type { Teardown } from './sfu.js';

export interface MultiCallStack extends MultiStack {
  roomId: string;
  /**
   * A user `@<localpart>:<serverName>` with device `<LOCALPART>DEV`, joined to the room, with a real WebRTC peer
   * and (unless `membership: false`) a call membership naming `focus` (default: its own server's focus); with
   * `relay`, its media path runs through that relay (loss, delay, bandwidth per direction).
   */
  client(
    localpart: string,
    serverName: string,
    opts?: {
      kind?: PeerKind;
      membership?: MembershipOptions | false;
      join?: boolean;
      focus?: FocusRef;
      relay?: UdpRelay;
    },
  ): Promise<TestCallClient>;
}

export async function startMultiCallStack(
  t: Teardown,
  opts: MultiStackOptions = {},
): Promise<MultiCallStack> {
  let roomId = '';
  const stack = await startMultiStack(t, {
    ...opts,
    before: async (hs) => {
      const owner = hs.createUser('owner').userId;
      roomId = hs.createRoom(owner);
      for (const serverName of hs.serverNames) {
        const focusUser = `@sfu:${serverName}`;
        hs.invite(owner, focusUser, roomId);
        hs.join(focusUser, roomId);
      }
      await opts.before?.(hs);
    },
  });
  return {
    ...stack,
    roomId,
    async client(localpart, serverName, o = {}) {
      const node = stack.node(serverName);
      const user = stack.hs.createUser(localpart, { serverName, deviceId: `${localpart.toUpperCase()}DEV` });
      if (o.join !== false) {
        stack.hs.join(user.userId, roomId);
      }
      const inner = await createPeer(o.kind ?? 'werift');
      const c = new CallClient({
        hsUrl: node.hsUrl,
        userId: user.userId,
        accessToken: user.accessToken,
        deviceId: user.deviceId,
        peer: o.relay === undefined ? inner : new RelayedPeer(inner, o.relay),
      });
      t.teardown(() => c.close());
      if (o.membership !== false && o.join !== false) {
        await c.publishMembership(roomId, o.focus ?? node.focus, o.membership ?? {});
      }
      return c;
    },
  };
}

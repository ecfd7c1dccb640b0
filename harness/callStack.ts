/**
 * A running SFU + test homeserver + one room where the focus user is joined, and a factory for call
 * clients (a user with a device, joined to the room, with a real WebRTC peer and optionally a membership
 * naming the focus).
 */
import { CallClient, type FocusRef, type MembershipOptions } from '../client/index.js';
import { createPeer, type PeerKind, type TestPeer } from './peers/index.js';
import { RelayedPeer } from './peers/relayedPeer.js';
import type { UdpRelay } from './udpRelay.js';
import { startStack, waitFor, type Stack, type StackOptions } from './stack.js';
import type { Teardown } from './sfu.js';

export const CONF = '1700000000000aBcD';

/** A call client driving one of the real test peers. */
export type TestCallClient = CallClient<TestPeer>;

export interface CallStack extends Stack {
  roomId: string;
  focusRef: FocusRef;
  client(
    localpart: string,
    opts?: {
      kind?: PeerKind;
      membership?: MembershipOptions | false;
      join?: boolean;
      /** Put this peer's media path behind the relay (loss, delay, bandwidth per direction). */
      relay?: UdpRelay;
    },
  ): Promise<TestCallClient>;
  /** A second client for the same user and device (its own peer and sender_session_id). */
  sameDevice(c: TestCallClient, opts?: { kind?: PeerKind; sessionId?: string }): Promise<TestCallClient>;
}

export async function startCallStack(t: Teardown, opts: StackOptions = {}): Promise<CallStack> {
  let roomId = '';
  const stack = await startStack(t, {
    ...opts,
    before: async (hs) => {
      const owner = hs.createUser('owner').userId;
      roomId = hs.createRoom(owner);
      hs.invite(owner, '@sfu:example.org', roomId);
      hs.join('@sfu:example.org', roomId);
      await opts.before?.(hs);
    },
  });
  await waitFor(() => stack.sfu.readiness.snapshot()['matrix']?.ok === true, 15_000, 'SFU ready');
  const focusRef = stack.focus;
  const tokens = new Map<string, string>();
  const make = async (
    userId: string,
    accessToken: string,
    deviceId: string,
    kind: PeerKind,
    sessionId?: string,
    relay?: UdpRelay,
  ) => {
    const inner = await createPeer(kind);
    const peer = relay === undefined ? inner : new RelayedPeer(inner, relay);
    const c = new CallClient({
      hsUrl: stack.hs.url,
      userId,
      accessToken,
      deviceId,
      peer,
      ...(sessionId !== undefined ? { sessionId } : {}),
    });
    t.teardown(() => c.close());
    return c;
  };
  return {
    ...stack,
    roomId,
    focusRef,
    async client(localpart, o = {}) {
      const deviceId = `${localpart.toUpperCase()}DEV`;
      const user = stack.hs.createUser(localpart, { deviceId });
      if (o.join !== false) {
        stack.hs.join(user.userId, roomId);
      }
      tokens.set(user.userId, user.accessToken);
      const c = await make(
        user.userId,
        user.accessToken,
        user.deviceId,
        o.kind ?? 'werift',
        undefined,
        o.relay,
      );
      if (o.membership !== false && o.join !== false) {
        await c.publishMembership(roomId, focusRef, o.membership ?? {});
      }
      return c;
    },
    async sameDevice(c, o = {}) {
      return make(c.userId, tokens.get(c.userId) ?? '', c.deviceId, o.kind ?? 'werift', o.sessionId);
    },
  };
}

/** A load process's call client: a werift peer driven through the test homeserver as `u`. */
import { CallClient } from '../../client/index.js';
import { WeriftPeer } from '../../harness/peers/weriftPeer.js';
import type { Env, UserCreds } from './worker.js';

export function loadClient(env: Env, u: UserCreds, sessionId?: string): CallClient<WeriftPeer> {
  return new CallClient({
    hsUrl: env.hsUrl,
    userId: u.userId,
    accessToken: u.accessToken,
    deviceId: u.deviceId,
    peer: new WeriftPeer(),
    ...(sessionId !== undefined ? { sessionId } : {}),
  });
}

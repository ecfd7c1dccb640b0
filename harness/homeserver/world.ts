/**
 * What every server name of one test homeserver shares, as if the servers were federated: users (with their
 * devices and to-device inboxes), rooms and aliases, the stream position and the change listeners. Each server
 * name has its own view (HomeserverState) with its own access tokens and appservice registrations.
 */
import type { Room } from './rooms.js';
import type { Change, UserRecord } from './state.js';
import type { ToDeviceRewriter } from './types.js';

export class SharedWorld {
  readonly now: () => number;
  readonly users = new Map<string, UserRecord>();
  readonly rooms = new Map<string, Room>();
  readonly aliases = new Map<string, string>();
  readonly listeners = new Set<(change: Change) => void>();
  /** Test hooks applied, in order, to every to-device message before delivery (TestHomeserver.rewriteToDevice). */
  readonly toDeviceRewriters = new Set<ToDeviceRewriter>();
  position = 0;

  constructor(now: () => number) {
    this.now = now;
  }

  emit(change: Change): void {
    for (const listener of [...this.listeners]) {
      listener(change);
    }
  }
}

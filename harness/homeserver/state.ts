/**
 * Everything one server name of the test homeserver knows: users, devices, access tokens, to-device inboxes,
 * rooms, and one stream position shared by room events and to-device messages (it backs `/sync` tokens).
 * Observers (AS pushers, `/sync` long-polls, test waiters) subscribe to changes. Users, rooms, the stream and
 * the observers live in a SharedWorld that the views of further server names share (federation, world.ts);
 * access tokens and appservice registrations belong to this server name only.
 */
import { AppserviceRegistry } from './appservices.js';
import { outcome } from './errors.js';
import { newAccessToken, newDeviceId, parseUserId } from './ids.js';
import { RoomStore, type Room, type RoomHost, type StoredEvent } from './rooms.js';
import type { ToDeviceMessage, ToDeviceMessages } from './types.js';
import { SharedWorld } from './world.js';

export interface InboxEntry {
  pos: number;
  message: ToDeviceMessage;
}

export interface Device {
  deviceId: string;
  displayName?: string;
  /** Delivered and not yet acknowledged by a `/sync` with a later `since`. */
  inbox: InboxEntry[];
  /** Every message ever delivered (for test waiters). */
  history: InboxEntry[];
}

export interface UserRecord {
  userId: string;
  localpart: string;
  password?: string;
  devices: Map<string, Device>;
  /** Registered by this appservice. */
  appserviceId?: string;
}

export type Change =
  | { kind: 'room'; room: Room; stored: StoredEvent }
  | { kind: 'toDevice'; userId: string; deviceId: string; entry: InboxEntry };

export class HomeserverState implements RoomHost {
  readonly serverName: string;
  readonly now: () => number;
  readonly appservices: AppserviceRegistry;
  readonly rooms: RoomStore;
  readonly world: SharedWorld;
  readonly #users: Map<string, UserRecord>;
  readonly #tokens = new Map<string, { userId: string; deviceId: string }>();

  /** `world`: the state shared with other server names (a fresh one when absent). */
  constructor(serverName: string, now: () => number, world: SharedWorld = new SharedWorld(now)) {
    this.serverName = serverName;
    this.world = world;
    this.now = world.now;
    this.#users = world.users;
    this.appservices = new AppserviceRegistry(serverName);
    this.rooms = new RoomStore(this, world);
  }

  /** The latest stream position handed out. */
  get position(): number {
    return this.world.position;
  }

  nextPos(): number {
    return ++this.world.position;
  }

  /** The user id names this server (a user of another server name cannot log in or be asserted here). */
  isLocal(userId: string): boolean {
    return parseUserId(userId)?.serverName === this.serverName;
  }

  userIdFor(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  user(userId: string): UserRecord | undefined {
    return this.#users.get(userId);
  }

  userExists(userId: string): boolean {
    return this.#users.has(userId);
  }

  createUser(localpart: string, opts: { password?: string; appserviceId?: string } = {}): UserRecord {
    const userId = this.userIdFor(localpart);
    if (this.#users.has(userId)) {
      throw outcome(400, 'M_USER_IN_USE', 'Desired user ID is already taken.');
    }
    const user: UserRecord = { userId, localpart, devices: new Map() };
    if (opts.password !== undefined) {
      user.password = opts.password;
    }
    if (opts.appserviceId !== undefined) {
      user.appserviceId = opts.appserviceId;
    }
    this.#users.set(userId, user);
    return user;
  }

  /** Returns the device, creating it when missing. */
  ensureDevice(
    userId: string,
    deviceId: string = newDeviceId(),
    displayName?: string,
  ): { device: Device; created: boolean } {
    const user = this.#users.get(userId);
    if (user === undefined) {
      throw new Error(`unknown user ${userId}`);
    }
    const existing = user.devices.get(deviceId);
    if (existing !== undefined) {
      return { device: existing, created: false };
    }
    const device: Device = { deviceId, inbox: [], history: [] };
    if (displayName !== undefined) {
      device.displayName = displayName;
    }
    user.devices.set(deviceId, device);
    return { device, created: true };
  }

  device(userId: string, deviceId: string): Device | undefined {
    return this.#users.get(userId)?.devices.get(deviceId);
  }

  issueToken(userId: string, deviceId: string): string {
    const token = newAccessToken();
    this.#tokens.set(token, { userId, deviceId });
    return token;
  }

  lookupToken(token: string): { userId: string; deviceId: string } | undefined {
    return this.#tokens.get(token);
  }

  /**
   * Delivers to-device messages (client-server/to_device.yaml): `*` means every device of the user; unknown
   * users and devices are dropped silently as Synapse does. Users of the other server names of this homeserver
   * are reached as over federation; users of servers it does not serve are unknown.
   */
  deliverToDevice(sender: string, type: string, messages: ToDeviceMessages): number {
    let delivered = 0;
    for (const [userId, byDevice] of Object.entries(messages)) {
      const user = this.#users.get(userId);
      if (user === undefined) {
        continue;
      }
      for (const [deviceId, sent] of Object.entries(byDevice)) {
        const content = this.#rewrite(sender, userId, deviceId, type, sent);
        if (content === null) {
          continue;
        }
        const targets = deviceId === '*' ? [...user.devices.values()] : [user.devices.get(deviceId)];
        for (const device of targets) {
          if (device === undefined) {
            continue;
          }
          const entry: InboxEntry = { pos: this.nextPos(), message: { type, sender, content } };
          device.inbox.push(entry);
          device.history.push(entry);
          delivered++;
          this.#emit({ kind: 'toDevice', userId, deviceId: device.deviceId, entry });
        }
      }
    }
    return delivered;
  }

  /** The content after the test's rewriters (null: dropped by one of them). */
  #rewrite(
    sender: string,
    recipient: string,
    deviceId: string,
    type: string,
    sent: Record<string, unknown>,
  ): Record<string, unknown> | null {
    let content: Record<string, unknown> | null = sent;
    for (const rewrite of this.world.toDeviceRewriters) {
      content = rewrite({ sender, recipient, deviceId, type, content });
      if (content === null) {
        return null;
      }
    }
    return content;
  }

  onRoomEvent(room: Room, stored: StoredEvent): void {
    this.#emit({ kind: 'room', room, stored });
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.world.listeners.add(listener);
    return () => {
      this.world.listeners.delete(listener);
    };
  }

  #emit(change: Change): void {
    this.world.emit(change);
  }
}

/**
 * One room's reducer state: the latest held event per tracked (type, state_key) slot — each user's
 * `m.room.member` (with its sender, to tell a leave from a kick), each `m.call` / `org.matrix.msc3401.call`
 * (terminated or not), and each call member event's valid entries — and the latest format (d) value per
 * (type, sender, sticky key) — plus a per-user index of entries.
 * Ordering rule: an event older (`origin_server_ts`) than the one held for its slot is not applied; ties go to
 * the later arrival. No liveness here; see liveness.ts. Sticky slots are dropped once no event of theirs can
 * still be sticky (pruneSticky).
 */
import type { StateChange } from './envelope.js';
import { MAX_STICKY_DURATION_MS } from './sticky.js';
import { CALL_TYPES, ROOM_MEMBER_TYPE, type MembershipEntry, type RoomMembership } from './types.js';

export interface RoomMemberRecord {
  readonly membership: RoomMembership;
  readonly sender: string;
  readonly ts: number;
}

type Slot =
  | ({ readonly kind: 'room_member' } & RoomMemberRecord)
  | { readonly kind: 'call'; readonly ts: number; readonly terminated: boolean }
  | { readonly kind: 'call_member'; readonly ts: number; readonly entries: readonly MembershipEntry[] }
  | {
      readonly kind: 'rtc_member';
      readonly ts: number;
      /** `min(origin_server_ts, received)`. */
      readonly start: number;
      readonly entries: readonly MembershipEntry[];
    };

/** Which users' standing may have changed: a set, or every user of the room (an `m.call` change). */
export type Affected =
  { readonly kind: 'users'; readonly users: ReadonlySet<string> } | { readonly kind: 'all' };

function slotKey(eventType: string, stateKey: string): string {
  return JSON.stringify([eventType, stateKey]);
}

/** Sticky slots have three parts, so they never collide with state slots. */
function changeKey(change: StateChange): string {
  return change.kind === 'rtc_member'
    ? JSON.stringify([change.eventType, change.sender, change.stateKey])
    : slotKey(change.eventType, change.stateKey);
}

export class RoomState {
  readonly roomId: string;
  readonly #slots = new Map<string, Slot>();
  /** userId → slot key → that slot's entries of the user (non-empty arrays only). */
  readonly #byUser = new Map<string, Map<string, readonly MembershipEntry[]>>();

  constructor(roomId: string) {
    this.roomId = roomId;
  }

  /** Applies a change of this room; undefined when it is older than the held event of its slot (stale). */
  apply(change: StateChange): Affected | undefined {
    const key = changeKey(change);
    const held = this.#slots.get(key);
    if (held !== undefined && change.ts < held.ts) {
      return undefined;
    }
    switch (change.kind) {
      case 'room_member':
        this.#set(key, {
          kind: 'room_member',
          membership: change.membership,
          sender: change.sender,
          ts: change.ts,
        });
        return { kind: 'users', users: new Set([change.stateKey]) };
      case 'call':
        this.#set(key, { kind: 'call', ts: change.ts, terminated: change.terminated });
        return { kind: 'all' };
      case 'call_member': {
        const users = new Set<string>();
        for (const e of entriesOf(held)) {
          users.add(e.userId);
        }
        for (const e of change.parsed.entries) {
          users.add(e.userId);
        }
        this.#set(key, { kind: 'call_member', ts: change.ts, entries: change.parsed.entries });
        return { kind: 'users', users };
      }
      case 'rtc_member': {
        const { entry, start } = change.parsed;
        this.#set(key, { kind: 'rtc_member', ts: change.ts, start, entries: entry ? [entry] : [] });
        return { kind: 'users', users: new Set([change.sender]) };
      }
    }
  }

  /** Carries every sticky slot of `previous` over (a `/state` answer holds none of them). */
  adoptSticky(previous: RoomState): void {
    for (const [key, prev] of previous.#slots) {
      if (prev.kind === 'rtc_member') {
        this.#set(key, prev);
      }
    }
  }

  /**
   * Drops the sticky slots no event of theirs can still be sticky for (`start + 1 h <= now`: an older event for
   * the same key would have expired too); `emptyOnly` keeps the ones still holding an entry. Returns the count.
   */
  pruneSticky(now: number, emptyOnly: boolean): number {
    let n = 0;
    for (const [key, slot] of [...this.#slots]) {
      if (
        slot.kind === 'rtc_member' &&
        slot.start + MAX_STICKY_DURATION_MS <= now &&
        (!emptyOnly || slot.entries.length === 0)
      ) {
        this.#set(key, undefined);
        n++;
      }
    }
    return n;
  }

  /**
   * Keeps each slot of `previous` that is strictly newer than this state's slot for the same key (an event
   * that arrived while this state was being fetched). Slots absent from this state are not revived.
   */
  adoptNewer(previous: RoomState): void {
    for (const [key, prev] of previous.#slots) {
      const cur = this.#slots.get(key);
      if (cur !== undefined && prev.ts > cur.ts) {
        this.#set(key, prev);
      }
    }
  }

  membershipOf(userId: string): RoomMemberRecord | undefined {
    const slot = this.#slots.get(slotKey(ROOM_MEMBER_TYPE, userId));
    return slot?.kind === 'room_member' ? slot : undefined;
  }

  /** Whether any `m.call` / `org.matrix.msc3401.call` held for this call id carries `m.terminated`. */
  isTerminated(callId: string): boolean {
    return CALL_TYPES.some((type) => {
      const slot = this.#slots.get(slotKey(type, callId));
      return slot?.kind === 'call' && slot.terminated;
    });
  }

  terminatedCallIds(): Set<string> {
    const out = new Set<string>();
    for (const [key, slot] of this.#slots) {
      if (slot.kind === 'call' && slot.terminated) {
        const [, callId] = JSON.parse(key) as [string, string];
        out.add(callId);
      }
    }
    return out;
  }

  entriesOf(userId: string): MembershipEntry[] {
    const perSlot = this.#byUser.get(userId);
    return perSlot === undefined ? [] : [...perSlot.values()].flat();
  }

  usersWithEntries(): IterableIterator<string> {
    return this.#byUser.keys();
  }

  *allEntries(): Generator<MembershipEntry> {
    for (const perSlot of this.#byUser.values()) {
      for (const entries of perSlot.values()) {
        yield* entries;
      }
    }
  }

  /** Replaces (or, with undefined, removes) a slot and re-indexes its entries. */
  #set(key: string, slot: Slot | undefined): void {
    for (const e of entriesOf(this.#slots.get(key))) {
      const perSlot = this.#byUser.get(e.userId);
      perSlot?.delete(key);
      if (perSlot?.size === 0) {
        this.#byUser.delete(e.userId);
      }
    }
    if (slot === undefined) {
      this.#slots.delete(key);
      return;
    }
    this.#slots.set(key, slot);
    const byUser = new Map<string, MembershipEntry[]>();
    for (const e of entriesOf(slot)) {
      const list = byUser.get(e.userId);
      if (list === undefined) {
        byUser.set(e.userId, [e]);
      } else {
        list.push(e);
      }
    }
    for (const [userId, entries] of byUser) {
      let perSlot = this.#byUser.get(userId);
      if (perSlot === undefined) {
        perSlot = new Map();
        this.#byUser.set(userId, perSlot);
      }
      perSlot.set(key, entries);
    }
  }
}

function entriesOf(slot: Slot | undefined): readonly MembershipEntry[] {
  return slot?.kind === 'call_member' || slot?.kind === 'rtc_member' ? slot.entries : [];
}

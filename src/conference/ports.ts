/**
 * Ports through which the conference layer reaches Matrix. This file holds only the membership side: the
 * MembershipOracle that answers "may this device be in this conference now?" (protocol.md §3.6, §3.7) and the
 * types it speaks. Types only; the implementation lives in src/appservice/membership/.
 */

/** A focus (SFU instance) as named in call member events: exact `(user_id, device_id)`. */
export interface FocusRef {
  readonly user_id: string;
  readonly device_id: string;
}

/**
 * Why an authorization is refused. `authorize` checks in this order and returns the first that applies:
 * `unknown_room` → room membership (`banned`, `kicked`, `left_room`, `not_joined`) → `call_terminated` →
 * `no_membership` → `device_not_listed` → `wrong_call` → `expired` → `other_focus`.
 */
export type DenyReason =
  | 'unknown_room'
  | 'not_joined'
  | 'left_room'
  | 'kicked'
  | 'banned'
  | 'call_terminated'
  | 'no_membership'
  | 'device_not_listed'
  | 'wrong_call'
  | 'expired'
  | 'other_focus';

export type AuthDecision =
  | {
      readonly allowed: true;
      /** The latest expiry among the live memberships that grant access; re-check at or before it. */
      readonly expiresAt: number;
      /** Format (a)'s per-device `session_id` of the granting membership, when it has one. */
      readonly sessionId?: string;
    }
  | { readonly allowed: false; readonly reason: DenyReason };

export interface AuthQuery {
  readonly roomId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly confId: string;
  /** The focus that must be named as active (normally this SFU). */
  readonly focus: FocusRef;
}

export interface ResolveQuery {
  readonly userId: string;
  readonly deviceId: string;
  readonly confId: string;
  readonly focus: FocusRef;
  /** When given it is returned as-is; `authorize` decides later. */
  readonly roomId?: string;
}

/** One row of `fociPresence`. */
export interface FocusPresenceRef {
  readonly focus: FocusRef;
  readonly liveMembers: number;
}

export type RoomResolution =
  | { readonly kind: 'room'; readonly roomId: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'ambiguous'; readonly roomIds: readonly string[] };

/**
 * Why a previously live membership that named a focus no longer counts. `room_forgotten` is the store dropping
 * the room's state altogether (forgetRoom), not something a user did.
 */
export type RevocationReason =
  | 'expired'
  | 'left_membership'
  | 'left_room'
  | 'kicked'
  | 'banned'
  | 'call_terminated'
  | 'focus_removed'
  | 'room_forgotten';

/**
 * One (room, user, device, call) membership that was live and named some foci, and now no longer names the foci
 * in `foci`. A revocation is a hint: the consumer re-runs `authorize` for the sessions it affects (another
 * membership, e.g. a room-wide one, may still grant access).
 */
export interface Revocation {
  readonly roomId: string;
  readonly userId: string;
  readonly deviceId: string;
  /** The membership's call id (`""` with `scope: "m.room"` for a room-wide membership). */
  readonly callId: string;
  readonly scope?: string;
  readonly reason: RevocationReason;
  /** The active foci this membership named before and no longer names (never empty). */
  readonly foci: readonly FocusRef[];
}

/** What the conference layer asks about room state. All answers are for the caller's clock reading `now` (ms). */
export interface MembershipOracle {
  authorize(q: AuthQuery, now: number): AuthDecision;
  resolveRoom(q: ResolveQuery, now: number): RoomResolution;
  /** Distinct active foci named by live memberships of the conference, sorted by user_id then device_id. */
  fociInUse(roomId: string, confId: string, now: number): FocusRef[];
  /**
   * Per active focus named by live memberships of the conference: how many distinct `(user_id, device_id)` name
   * it (§8.1 link triggers and authorization). Sorted like `fociInUse`; foci no live membership names are absent.
   */
  fociPresence(roomId: string, confId: string, now: number): FocusPresenceRef[];
  /** The earliest expiry (> now) among currently live memberships, to arm one timer; undefined when none. */
  nextExpiry(now: number): number | undefined;
}

/** A to-device destination. */
export interface Dest {
  readonly userId: string;
  readonly deviceId: string;
}

/**
 * Outgoing to-device signalling (implemented by the appservice's ToDeviceSender): one FIFO per destination,
 * retried; resolves 'dropped' (never rejects) when the message could not be delivered.
 */
export interface SignallingPort {
  send(dest: Dest, type: string, content: Record<string, unknown>): Promise<'sent' | 'dropped'>;
}

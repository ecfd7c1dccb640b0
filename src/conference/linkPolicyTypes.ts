/**
 * The values LinkPolicy (linkPolicy.ts, protocol.md §8.1, §8.7) takes and returns: its configuration, the view of a
 * conference it decides on, and its decisions. Plain data.
 */
import type { FocusId } from './focusId.js';

export interface LinkPolicyConfig {
  /** `cascade.auto`. */
  readonly auto: boolean;
  /** `cascade.initiate_grace_s` × 1000. */
  readonly initiateGraceMs: number;
  /** `cascade.max_links`. */
  readonly maxLinks: number;
  /** `cascade.linger_s` × 1000. */
  readonly lingerMs: number;
}

/** The §9 keys this policy reads, in the config's units. */
export function linkPolicyConfig(c: {
  auto: boolean;
  initiate_grace_s: number;
  max_links: number;
  linger_s: number;
}): LinkPolicyConfig {
  return {
    auto: c.auto,
    initiateGraceMs: c.initiate_grace_s * 1000,
    maxLinks: c.max_links,
    lingerMs: c.linger_s * 1000,
  };
}

/** Live memberships of the conference (§3.4–3.6) that name `focus` as their active focus (§3.5). */
export interface FocusPresence {
  readonly focus: FocusId;
  readonly liveMembers: number;
}

/** `inviting`: our invite awaits its answer; `answering`: theirs is being answered. */
export type LinkState = 'inviting' | 'answering' | 'connected' | 'suspended';

export interface LinkView {
  readonly remote: FocusId;
  readonly callId: string;
  readonly initiator: 'self' | 'remote';
  readonly state: LinkState;
}

export interface ConferenceView {
  /** Per named focus (this one included); foci no live membership names may be absent. */
  readonly foci: readonly FocusPresence[];
  /** Local participants' sessions. */
  readonly localParticipants: number;
  /** The conference's links, in any state. */
  readonly links: readonly LinkView[];
}

/** `rebuild`: the conference was rebuilt from room state at start-up (§8.7): invite at once, whichever side sorts
 * lower. */
export type InviteReason = 'lower' | 'grace' | 'retry' | 'connect' | 'relink' | 'rebuild';
export type HangupWhy = 'linger' | 'crossing';

export type LinkAction =
  | { readonly kind: 'invite'; readonly remote: FocusId; readonly reason: InviteReason }
  /** Always `user_hangup` on the wire (§4.5). */
  | { readonly kind: 'hangup'; readonly remote: FocusId; readonly callId: string; readonly why: HangupWhy };

export type RemoteStatus =
  /** A link exists (any state) and is needed. */
  | 'linked'
  /** An invite was sent; its link is not in the view yet. */
  | 'invited'
  /** The higher focus waits for the lower one's invite until `at`. */
  | 'grace'
  /** A failed invite is retried at `at`. */
  | 'backoff'
  /** The link is not needed and is hung up at `at` unless it is needed again. */
  | 'lingering'
  /** The trigger holds but `cascade.max_links` links exist. */
  | 'max_links'
  /** No trigger holds and no link exists. */
  | 'idle';

export interface RemoteDecision {
  readonly remote: FocusId;
  readonly status: RemoteStatus;
  readonly at?: number;
}

export interface LinkDecision {
  readonly actions: readonly LinkAction[];
  /** One row per remote focus that is named by a live membership or has a link, in §8.1 byte order. */
  readonly remotes: readonly RemoteDecision[];
  /** When to call `evaluate` again if nothing changes before; undefined: only on a change. */
  readonly nextDeadline: number | undefined;
}

export type IncomingInviteDecision =
  | { readonly kind: 'accept' }
  /** Refuse with a hangup carrying `errcode` (§3.7). */
  | { readonly kind: 'refuse'; readonly errcode: 'M_FORBIDDEN' | 'M_LIMIT_EXCEEDED' }
  /** The same call_id again (a re-delivered invite): nothing to do. */
  | { readonly kind: 'duplicate' }
  /** Crossing invites: the link started by the lower focus survives; `hangup` (ours or theirs) ends with
   * `user_hangup`. `keep: 'theirs'` means: answer the incoming invite. */
  | { readonly kind: 'crossing'; readonly keep: 'ours' | 'theirs'; readonly hangup: string }
  /** An invite from an already-linked focus replaces the old link (§8.7 restart, §4.3): answer it, hang up
   * `hangup` with `user_hangup`, re-send the demand (linkLiveness `replaced`). */
  | { readonly kind: 'replace'; readonly hangup: readonly string[] };

export type ConnectOutcome =
  | { readonly focus: FocusId; readonly outcome: 'invited' | 'exists' | 'self' }
  | {
      readonly focus: FocusId;
      readonly outcome: 'refused';
      readonly errcode: 'M_FORBIDDEN' | 'M_LIMIT_EXCEEDED';
    };

/** Why a link left the view. `relink`: liveness gave up on it (§8.7), re-invite at once from either side;
 * `teardown`: this policy's own linger hangup; `failed`: anything else (refusal, remote hangup, ICE failure). */
export type LinkEndCause = 'failed' | 'relink' | 'teardown';

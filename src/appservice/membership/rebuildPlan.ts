/**
 * Which conferences a restarted focus rebuilds from room state (protocol.md §8.7): every conference
 * `(room_id, conf_id)` where a live membership (§3.4–3.6, any format the store reads) names this focus as active
 * focus AND one names another focus, in room then conf id order, at most `maxConferences`. Room-wide memberships
 * (`call_id: ""`) count toward the foci of a conference but name none of their own (no conf_id to rebuild).
 * Pure: `now` is an argument.
 */
import type { FocusPresenceRef, FocusRef } from '../../conference/ports.js';
import { sameFocus } from './liveness.js';

/** What the plan reads of the membership store. */
export interface RebuildSource {
  liveConferences(now: number): readonly { readonly roomId: string; readonly confId: string }[];
  fociPresence(roomId: string, confId: string, now: number): readonly FocusPresenceRef[];
}

export interface RebuildTarget {
  readonly roomId: string;
  readonly confId: string;
  /** The other foci live memberships name, sorted as `fociPresence`. */
  readonly peers: readonly FocusRef[];
}

export interface RebuildPlan {
  readonly conferences: readonly RebuildTarget[];
  /** Conferences that qualified beyond `maxConferences` (not rebuilt). */
  readonly skipped: number;
  /** Live conferences that did not qualify (this focus not named, or no other focus named). */
  readonly local: number;
}

export function planRebuild(
  source: RebuildSource,
  self: FocusRef,
  now: number,
  maxConferences: number,
): RebuildPlan {
  const conferences: RebuildTarget[] = [];
  let skipped = 0;
  let local = 0;
  for (const { roomId, confId } of source.liveConferences(now)) {
    const presence = source.fociPresence(roomId, confId, now).filter((p) => p.liveMembers > 0);
    const named = presence.some((p) => sameFocus(p.focus, self));
    const peers = presence.filter((p) => !sameFocus(p.focus, self)).map((p) => p.focus);
    if (!named || peers.length === 0) {
      local++;
    } else if (conferences.length >= maxConferences) {
      skipped++;
    } else {
      conferences.push({ roomId, confId, peers });
    }
  }
  return { conferences, skipped, local };
}

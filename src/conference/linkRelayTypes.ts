/**
 * The seam between a conference's link CALLS (set-up, liveness, relink: links.ts) and its link MEDIA ROUTING
 * (linkRelay.ts, protocol.md §8.2–§8.4, §8.8): one LinkRelay per remote focus, outliving the calls that carry
 * it, so relayed publications survive a suspension and rebind on a relink. Everything runs on the conference's
 * queue. Types only.
 */
import type { Logger } from 'pino';
import type { LinkMessage } from '../protocol/dc/linkTypes.js';
import type { Clock } from '../util/clock.js';
import type { FocusId } from './focusId.js';
import type { LinkPeerPort } from './linkPorts.js';
import type { MembershipOracle } from './ports.js';

export interface LinkRelayDeps {
  /** The remote focus. */
  readonly remote: FocusId;
  /** focusKey(remote): the `origin.link` of its relayed publications in the router. */
  readonly linkKey: string;
  readonly roomId: string;
  readonly confId: string;
  /** This focus (relayed streams are checked against memberships naming `remote`, local ones naming `self`). */
  readonly self: FocusId;
  readonly oracle: MembershipOracle;
  readonly clock: Clock;
  readonly log: Logger;
  /** `cascade.keep_lowest_layer`. */
  readonly keepLowestLayer: boolean;
  /** `limits.max_tracks_per_subscribe` (metadata and subscribe lists on the link). */
  readonly maxListEntries: number;
  /** Sends a message on the current call's data channel (dropped when none is open). */
  send(msg: LinkMessage): void;
  /** Relayed publications were added, changed or removed: the conference re-sends metadata and prunes. */
  publicationsChanged(): void;
}

/** What links.ts calls on the relay of one remote focus. */
export interface LinkRelayPort {
  /**
   * A new call's peer (the first call, a relink or a replacement): relayed sources of the previous peer move
   * to it (LinkPeerPort.adoptRelayed) and local tracks are sent on it once the remote asks again.
   */
  attach(peer: LinkPeerPort): void;
  /** The current call's data channel opened: send this focus's link metadata and its current demand. */
  opened(): void;
  /** One parsed link message from the current call (metadata, subscribe, unsubscribe, layers, ack, error). */
  handle(msg: LinkMessage): void;
  /** Local publications changed (a session started, ended, renegotiated, sent metadata): re-send if changed. */
  localChanged(): void;
  /**
   * Periodic (every 200 ms): demand diff → subscribe/unsubscribe; relayed streams re-authorized (dropped
   * within 1 s once no live membership names the remote focus for their member, §8.1).
   */
  tick(now: number): void;
  /** Whether streams are demanded over the link in either direction (LinkLiveness `demand`). */
  readonly expecting: boolean;
  /** The link is gone for good (grace expired or torn down): relayed publications removed, trunk sends closed. */
  close(): void;
}

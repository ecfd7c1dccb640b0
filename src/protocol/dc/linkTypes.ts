/**
 * The messages of a link between two foci (protocol.md §8): dialect A only (§8.1), both directions alike, since
 * either focus publishes, subscribes and answers. A subset of {@link DcMessage} plus the `layers` announcement
 * of §8.5. Requests a client makes and a link has no use for (`publish`, `unpublish`, `connect`, the `select`
 * alias) and the client-facing `active_speaker` are not link messages.
 */
import type { DcMessage, DcParseFailure, TrackRef } from './types.js';

/** §8.5: the layers of one relayed track the sending focus is sending now (rids, may be empty). */
export interface LayersSending {
  streamId: string;
  trackId: string;
  sending: string[];
}

export type LinkMessage =
  | Extract<DcMessage, { kind: 'unsubscribe' | 'offer' | 'answer' | 'metadata' | 'alive' | 'ack' | 'error' }>
  /** §8.3: entries may carry `layers` (rids); `width`/`height` are then ignored by the receiver. */
  | { kind: 'subscribe'; id?: string; tracks: TrackRef[] }
  /** §8.5: the sending focus paused or resumed layers. */
  | { kind: 'layers'; id?: string; tracks: LayersSending[] };

export type LinkMessageKind = LinkMessage['kind'];

/** The dialect A ops of a link. */
export const LINK_OPS = [
  'subscribe',
  'unsubscribe',
  'offer',
  'answer',
  'metadata',
  'alive',
  'ack',
  'error',
  'layers',
] as const;
export type LinkOp = (typeof LINK_OPS)[number];

export type LinkParseResult = { ok: true; dialect: 'A'; message: LinkMessage } | DcParseFailure;

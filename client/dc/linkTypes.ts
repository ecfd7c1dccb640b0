/**
 * The messages of a link between two foci (protocol.md §8), as a test focus built on this client reads and
 * writes them: dialect A only (§8.1), the same in both directions. Shapes follow the wire (snake_case).
 */
import type { FailedTrack } from './types.js';

/** One layer of a relayed video track (§8.2): rid, trunk SSRC, size when known. */
export interface LinkLayer {
  rid: string;
  ssrc: number;
  width?: number;
  height?: number;
}

/** A relayed track (§8.2): audio has `ssrc`, video has `layers`, lowest first. */
export interface LinkTrack {
  kind: 'audio' | 'video';
  width?: number;
  height?: number;
  ssrc?: number;
  layers?: LinkLayer[];
}

/** A relayed stream, always under its member's real `user_id`/`device_id` (§8.2). */
export interface LinkStream {
  user_id: string;
  device_id: string;
  purpose?: 'm.usermedia' | 'm.screenshare';
  audio_muted?: boolean;
  video_muted?: boolean;
  tracks?: Record<string, LinkTrack>;
}

/** Link metadata: stream objects keyed by msid stream id. */
export type LinkMetadata = Record<string, LinkStream>;

/** A `subscribe`/`unsubscribe` entry on a link; `layers` = the rids demanded (§8.3). */
export interface LinkWant {
  stream_id: string;
  track_id: string;
  width?: number;
  height?: number;
  layers?: string[];
}

/** A `layers` entry (§8.5): the rids the sending focus is sending now. */
export interface LayersEntry {
  stream_id: string;
  track_id: string;
  sending: string[];
}

export type LinkMessage =
  | { kind: 'subscribe'; id?: string; start: LinkWant[] }
  | { kind: 'unsubscribe'; id?: string; stop: LinkWant[] }
  | { kind: 'offer' | 'answer'; id?: string; sdp: string; metadata?: LinkMetadata }
  | { kind: 'metadata'; id?: string; metadata: LinkMetadata }
  | { kind: 'alive'; id?: string }
  | { kind: 'ack'; id: string }
  | { kind: 'error'; id?: string; errcode: string; error: string; failed?: FailedTrack[] }
  | { kind: 'layers'; id?: string; tracks: LayersEntry[] };

/** A link frame read: the message, or why it breaks §8. */
export type LinkFrame = { ok: true; message: LinkMessage } | { ok: false; violation: string };

/** At most this many layers per track and rids per demand (§8.2–§8.5). */
export const LINK_MAX_LAYERS = 4;

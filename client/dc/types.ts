/**
 * The data-channel messages of protocol.md §5 as this client sees them. Dialect A = MSC3898 `op` messages with the
 * project's `id`/`ack`/`error`; dialect B = matrix-js-sdk `{type, content}` events.
 */
import type { StreamMetadata } from '../metadata.js';

export type Dialect = 'A' | 'B';

/** One track of a subscription list; `width`/`height` 0 or absent = unconstrained. */
export interface TrackWant {
  stream_id: string;
  track_id: string;
  width?: number;
  height?: number;
}

export interface FailedTrack {
  stream_id: string;
  track_id: string;
}

/** What the focus sends (both dialects, one shape). */
export type FocusMessage =
  | { kind: 'offer'; id?: string; sdp: string; metadata?: StreamMetadata }
  | { kind: 'answer'; id?: string; sdp: string; metadata?: StreamMetadata }
  | { kind: 'metadata'; id?: string; metadata: StreamMetadata }
  | { kind: 'ack'; id: string }
  | { kind: 'error'; id?: string; errcode: string; error: string; failed?: FailedTrack[] }
  /** Dialect B only. */
  | { kind: 'ping' }
  | { kind: 'active_speaker'; user_id: string; device_id: string; stream_id: string };

/** A focus frame read: the message and its dialect, or why it breaks §5. */
export type FocusFrame =
  | { ok: true; dialect: Dialect; message: FocusMessage }
  | { ok: false; dialect: Dialect | undefined; violation: string };

/** §5.3 error codes. */
export const DC_ERRCODES: readonly string[] = [
  'M_NOT_JSON',
  'M_BAD_JSON',
  'M_INVALID_PARAM',
  'M_NOT_FOUND',
  'M_LIMIT_EXCEEDED',
  'M_FORBIDDEN',
  'M_UNKNOWN',
  'M_UNRECOGNIZED',
];

/** Dialect B event types (§5.2). */
export const DC_TYPES = {
  trackSubscription: 'm.call.track_subscription',
  negotiate: 'm.call.negotiate',
  metadataChanged: 'm.call.sdp_stream_metadata_changed',
  ping: 'm.call.ping',
  pong: 'm.call.pong',
  connect: 'org.matrix.msc3898.connect',
  error: 'org.matrix.msc3898.error',
  activeSpeaker: 'org.matrix.msc3898.active_speaker',
} as const;

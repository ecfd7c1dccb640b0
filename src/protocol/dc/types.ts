/**
 * The data-channel message model (protocol.md §5, §6): one discriminated union for both dialects and both
 * directions. Dialect A = MSC3898 `op` messages with this project's `id`/`ack`/`error`; dialect B =
 * matrix-js-sdk `{type, content}` events. The wire names are in {@link DC_OPS} and {@link DC_EVENT_TYPES}.
 */

export type Dialect = 'A' | 'B';

/** Who sent a frame: a client's frames may not carry the server-to-client kinds (`ack`, `ping`, `error`). */
export type DcSender = 'client' | 'server';

/**
 * One track in a subscription list. `width`/`height`: 0 or absent = unconstrained (§5.2). `layers`: link
 * frames only (§8.3), the rids demanded, never empty; a client's `layers` key is dropped like any unknown key.
 */
export interface TrackRef {
  streamId: string;
  trackId: string;
  width?: number;
  height?: number;
  layers?: string[];
}

/** A focus named in `connect` (§8). */
export interface FocusRef {
  user_id: string;
  device_id: string;
}

/** One layer of a relayed video track on a link (§8.2): its rid, trunk SSRC and size (0 or absent = unknown). */
export interface LayerInfo {
  rid: string;
  ssrc: number;
  width?: number;
  height?: number;
}

/**
 * Per-track MSC3077 fields kept by §6. `ssrc` (audio) and `layers` (video, lowest first) are link metadata
 * only (§8.2): the client parser and `mergeMetadata` drop them, and only the link serializer writes them.
 */
export interface TrackInfo {
  kind?: 'audio' | 'video';
  width?: number;
  height?: number;
  ssrc?: number;
  layers?: LayerInfo[];
}

/** One MSC3077 stream object, reduced to the fields §6 keeps. */
export interface StreamInfo {
  user_id?: string;
  device_id?: string;
  purpose?: 'm.usermedia' | 'm.screenshare';
  audio_muted?: boolean;
  video_muted?: boolean;
  tracks?: Record<string, TrackInfo>;
}

/** MSC3077 stream objects keyed by msid stream id (§6). */
export type StreamMetadata = Record<string, StreamInfo>;

/** `(stream_id, track_id)` of a track a request could not apply (§5.2). */
export interface FailedTrack {
  stream_id: string;
  track_id: string;
}

export type DcErrcode =
  | 'M_NOT_JSON'
  | 'M_BAD_JSON'
  | 'M_INVALID_PARAM'
  | 'M_NOT_FOUND'
  | 'M_LIMIT_EXCEEDED'
  | 'M_FORBIDDEN'
  | 'M_UNKNOWN'
  | 'M_UNRECOGNIZED';

export const DC_ERRCODES: readonly DcErrcode[] = [
  'M_NOT_JSON',
  'M_BAD_JSON',
  'M_INVALID_PARAM',
  'M_NOT_FOUND',
  'M_LIMIT_EXCEEDED',
  'M_FORBIDDEN',
  'M_UNKNOWN',
  'M_UNRECOGNIZED',
];

export type DcMessage =
  /** A `subscribe {start}` (or its legacy alias `select`). */
  | { kind: 'subscribe'; id?: string; tracks: TrackRef[]; alias?: 'select' }
  /** A `unsubscribe {stop}`. */
  | { kind: 'unsubscribe'; id?: string; tracks: TrackRef[] }
  /** B `m.call.track_subscription`; an absent list is empty. */
  | { kind: 'track_subscription'; subscribe: TrackRef[]; unsubscribe: TrackRef[] }
  /** A only. */
  | { kind: 'publish'; id?: string; sdp: string; metadata: StreamMetadata }
  /** A only. */
  | { kind: 'unpublish'; id?: string; tracks: TrackRef[]; sdp?: string }
  /** A `offer` / B `m.call.negotiate {description: {type: offer}}`. */
  | { kind: 'offer'; id?: string; sdp: string; metadata?: StreamMetadata }
  /** A `answer` / B `m.call.negotiate {description: {type: answer}}`. */
  | { kind: 'answer'; id?: string; sdp: string; metadata?: StreamMetadata }
  /** A `metadata` / B `m.call.sdp_stream_metadata_changed`. */
  | { kind: 'metadata'; id?: string; metadata: StreamMetadata }
  /** A `alive` / B `m.call.pong`. */
  | { kind: 'alive'; id?: string }
  /** B `m.call.ping`, server → client only. */
  | { kind: 'ping' }
  /** A `connect` / B `org.matrix.msc3898.connect`; never empty. */
  | { kind: 'connect'; id?: string; foci: FocusRef[] }
  /** A only, server → client. */
  | { kind: 'ack'; id: string }
  /** A `error` / B `org.matrix.msc3898.error` (no id in B), server → client. */
  | { kind: 'error'; id?: string; errcode: DcErrcode; error: string; failed?: FailedTrack[] }
  /**
   * A `active_speaker` / B `org.matrix.msc3898.active_speaker`, server → client (README "Active speaker"):
   * the dominant speaker of the conference and the stream its voice is in.
   */
  | { kind: 'active_speaker'; user_id: string; device_id: string; stream_id: string };

export type DcMessageKind = DcMessage['kind'];

/** The kinds only the server sends; parsed from a client they are `M_BAD_JSON`. */
export const SERVER_ONLY_KINDS: readonly DcMessageKind[] = ['ack', 'ping', 'error', 'active_speaker'];

/** Dialect A `op` names; `select` is the legacy alias of `subscribe`. */
export const DC_OPS = [
  'subscribe',
  'select',
  'unsubscribe',
  'publish',
  'unpublish',
  'offer',
  'answer',
  'metadata',
  'alive',
  'connect',
  'ack',
  'error',
  'active_speaker',
] as const;
export type DcOp = (typeof DC_OPS)[number];

/** Dialect B event types. */
export const DC_EVENT_TYPES = {
  trackSubscription: 'm.call.track_subscription',
  negotiate: 'm.call.negotiate',
  metadataChanged: 'm.call.sdp_stream_metadata_changed',
  ping: 'm.call.ping',
  pong: 'm.call.pong',
  connect: 'org.matrix.msc3898.connect',
  error: 'org.matrix.msc3898.error',
  activeSpeaker: 'org.matrix.msc3898.active_speaker',
} as const;
export type DcEventType = (typeof DC_EVENT_TYPES)[keyof typeof DC_EVENT_TYPES];

/** §9 `limits.max_dc_message_bytes` and `limits.max_tracks_per_subscribe`. */
export interface DcParseLimits {
  /** UTF-8 bytes of one frame. */
  maxBytes: number;
  /** Entries of one subscribe/unsubscribe list. */
  maxListEntries: number;
}

export interface DcParseFailure {
  ok: false;
  errcode: DcErrcode;
  /** Informative; names the field and the rule it broke. */
  error: string;
  /** The request's id (dialect A), when it had a valid one: the error reply echoes it. */
  id?: string;
  /** Known once the frame was classified (§5.1). */
  dialect?: Dialect;
}

export type DcParseResult = { ok: true; dialect: Dialect; message: DcMessage } | DcParseFailure;

/** `id` of a dialect A request: 1–64 characters (§5.2). */
export const MAX_ID_CHARS = 64;
/** `width`/`height` in subscriptions and metadata: integers 0–16384. */
export const MAX_DIMENSION = 16384;
/** Trunk SSRCs are RTP SSRCs: unsigned 32-bit integers (§8.2). */
export const MAX_SSRC = 0xffffffff;
/** Layers of one relayed track, and rids of one demand or `sending` list (§8.2, §8.3, §8.5). */
export const MAX_LAYERS = 4;
/** A rid: 1–16 of `A-Z a-z 0-9 - _` (RFC 8851 rid-id; WebRTC caps it at 16 characters). */
export const MAX_RID_CHARS = 16;

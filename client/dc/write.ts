/**
 * Frames this client sends on the data channel (protocol.md §5.2), in either dialect. Dialect B has no ids: an
 * `id` given for B is dropped. Requests A has and B does not (`publish`, `unpublish`) are A only.
 */
import { METADATA_KEY_STABLE, type StreamMetadata } from '../metadata.js';
import type { FocusRef } from '../membership.js';
import { DC_TYPES, type Dialect, type TrackWant } from './types.js';

const op = (name: string, id: string | undefined, fields: Record<string, unknown> = {}): string =>
  JSON.stringify({ op: name, ...(id === undefined ? {} : { id }), ...fields });

const ev = (type: string, content: Record<string, unknown>): string => JSON.stringify({ type, content });

/** Add or resize (A `subscribe {start}` / B `m.call.track_subscription {subscribe}`). */
export function subscribeFrame(dialect: Dialect, tracks: readonly TrackWant[], id?: string): string {
  return dialect === 'A'
    ? op('subscribe', id, { start: tracks })
    : ev(DC_TYPES.trackSubscription, { subscribe: tracks });
}

/** Stop forwarding (A `unsubscribe {stop}` / B `m.call.track_subscription {unsubscribe}`). */
export function unsubscribeFrame(dialect: Dialect, tracks: readonly TrackWant[], id?: string): string {
  return dialect === 'A'
    ? op('unsubscribe', id, { stop: tracks })
    : ev(DC_TYPES.trackSubscription, { unsubscribe: tracks });
}

/** An offer or answer (A `offer`/`answer` / B `m.call.negotiate`; B always attaches the client's metadata). */
export function sdpFrame(
  dialect: Dialect,
  type: 'offer' | 'answer',
  sdp: string,
  opts: { id?: string; metadata?: StreamMetadata } = {},
): string {
  if (dialect === 'A') {
    return op(type, opts.id, { sdp, ...(opts.metadata === undefined ? {} : { metadata: opts.metadata }) });
  }
  return ev(DC_TYPES.negotiate, { description: { type, sdp }, [METADATA_KEY_STABLE]: opts.metadata ?? {} });
}

/** The client's own streams (A `metadata` / B `m.call.sdp_stream_metadata_changed`). */
export function metadataFrame(dialect: Dialect, metadata: StreamMetadata, id?: string): string {
  return dialect === 'A'
    ? op('metadata', id, { metadata })
    : ev(DC_TYPES.metadataChanged, { [METADATA_KEY_STABLE]: metadata });
}

/** Keep-alive (§5.5): A `alive`, B `m.call.pong` (the answer to the focus's `m.call.ping`). */
export function aliveFrame(dialect: Dialect, id?: string): string {
  return dialect === 'A' ? op('alive', id) : ev(DC_TYPES.pong, {});
}

/** Ask the focus to link to other foci (§8). */
export function connectFrame(dialect: Dialect, foci: readonly FocusRef[], id?: string): string {
  const list = foci.map((f) => ({ user_id: f.user_id, device_id: f.device_id }));
  return dialect === 'A' ? op('connect', id, { foci: list }) : ev(DC_TYPES.connect, { foci: list });
}

/** A `publish {sdp, metadata}`: an offer adding tracks (dialect B uses `sdpFrame('B', 'offer', ...)`). */
export function publishFrame(sdp: string, metadata: StreamMetadata, id?: string): string {
  return op('publish', id, { sdp, metadata });
}

/** A `unpublish {stop, sdp?}`. */
export function unpublishFrame(tracks: readonly TrackWant[], sdp?: string, id?: string): string {
  return op('unpublish', id, { stop: tracks, ...(sdp === undefined ? {} : { sdp }) });
}

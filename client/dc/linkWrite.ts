/**
 * Frames a focus sends on a link (protocol.md §8), always dialect A (§8.1). Writers serialize what they are
 * given: a test focus may send a frame that breaks the rules on purpose.
 */
import type { LayersEntry, LinkMetadata, LinkWant } from './linkTypes.js';
import type { FailedTrack } from './types.js';

const op = (name: string, id: string | undefined, fields: Record<string, unknown> = {}): string =>
  JSON.stringify({ op: name, ...(id === undefined ? {} : { id }), ...fields });

/** §8.2: this focus's local publishers' streams with their trunk SSRCs (a full snapshot). */
export function linkMetadataFrame(metadata: LinkMetadata, id?: string): string {
  return op('metadata', id, { metadata });
}

/** §8.3: demand, `layers` = the rids wanted (absent: audio, or the layer §7 would choose). */
export function linkSubscribeFrame(start: readonly LinkWant[], id?: string): string {
  return op('subscribe', id, { start });
}

/** §8.3: drop tracks whose last local subscriber left. */
export function linkUnsubscribeFrame(stop: readonly LinkWant[], id?: string): string {
  return op('unsubscribe', id, {
    stop: stop.map((w) => ({ stream_id: w.stream_id, track_id: w.track_id })),
  });
}

/** §8.5: the layers the sending focus is sending now, per track. */
export function layersFrame(tracks: readonly LayersEntry[], id?: string): string {
  return op('layers', id, { tracks });
}

/** §8.1: `alive`, every `cascade.link_alive_s`. */
export function linkAliveFrame(id?: string): string {
  return op('alive', id);
}

/** A reply to a request that had an id. */
export function linkAckFrame(id: string): string {
  return op('ack', id);
}

/** An `error` on the link (e.g. §8.8 collisions: `M_INVALID_PARAM` with `failed`). */
export function linkErrorFrame(
  errcode: string,
  error: string,
  id?: string,
  failed?: readonly FailedTrack[],
): string {
  return op('error', id, { errcode, error, ...(failed === undefined ? {} : { failed }) });
}

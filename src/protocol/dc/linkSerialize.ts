/**
 * {@link LinkMessage} → a link frame (protocol.md §8): always dialect A (§8.1), with the link fields the session
 * serializer never writes: per-track `ssrc` and `layers` in metadata (§8.2), `layers` in `subscribe` entries
 * (§8.3), and the `layers` op (§8.5). Pure; only the fields of the model are written.
 */
import type { LayersSending, LinkMessage } from './linkTypes.js';
import { dialectA, type Wire } from './serialize.js';

function sending(t: LayersSending): Wire {
  return { stream_id: t.streamId, track_id: t.trackId, sending: [...t.sending] };
}

/** The frame text of a link message. */
export function serializeLinkFrame(m: LinkMessage): string {
  if (m.kind === 'layers') {
    return JSON.stringify({
      op: 'layers',
      ...(m.id !== undefined ? { id: m.id } : {}),
      tracks: m.tracks.map(sending),
    });
  }
  // Every other link kind has a dialect A form.
  return JSON.stringify(dialectA(m, true));
}

/**
 * What each participant is told about the others (protocol.md §6): a publisher's streams are *available*
 * once the offer carrying them is applied (their m-lines send) and the stream has metadata. Each viewer
 * gets every available stream of every OTHER session, width/height kept, `user_id`/`device_id` of the
 * authenticated publisher; a `(stream_id, track_id)` belongs to the first session that published it. Pure.
 */
import type { StreamMetadata } from '../protocol/dc/types.js';
import type { RemoteMediaTrack } from '../protocol/sdp.js';

export interface Publisher {
  readonly key: string;
  readonly owner: { user_id: string; device_id: string };
  readonly since: number;
  readonly metadata: StreamMetadata;
  readonly tracks: readonly RemoteMediaTrack[];
}

/** The available streams of one publisher. */
export function availableStreams(p: Publisher): StreamMetadata {
  const out: StreamMetadata = {};
  for (const t of p.tracks) {
    const stream = p.metadata[t.streamId];
    if (!t.sending || stream === undefined) {
      continue;
    }
    const declared = stream.tracks?.[t.trackId];
    const entry = (out[t.streamId] ??= {
      user_id: p.owner.user_id,
      device_id: p.owner.device_id,
      purpose: stream.purpose ?? 'm.usermedia',
      audio_muted: stream.audio_muted ?? false,
      video_muted: stream.video_muted ?? false,
      tracks: {},
    });
    (entry.tracks ??= {})[t.trackId] = {
      kind: declared?.kind ?? t.kind,
      ...(declared?.width !== undefined ? { width: declared.width } : {}),
      ...(declared?.height !== undefined ? { height: declared.height } : {}),
    };
  }
  return out;
}

/** Track keys owned by each publisher: the first (earliest `since`, then key order) keeps a contested id. */
function owners(publishers: readonly Publisher[]): Map<string, string> {
  const owner = new Map<string, string>();
  const ordered = [...publishers].sort((a, b) => a.since - b.since || (a.key < b.key ? -1 : 1));
  for (const p of ordered) {
    for (const t of p.tracks) {
      const k = JSON.stringify([t.streamId, t.trackId]);
      if (!owner.has(k)) {
        owner.set(k, p.key);
      }
    }
  }
  return owner;
}

/** The snapshot `viewerKey` receives: every other publisher's available streams. */
export function snapshotFor(viewerKey: string, publishers: readonly Publisher[]): StreamMetadata {
  const owner = owners(publishers);
  const out: StreamMetadata = {};
  for (const p of publishers) {
    if (p.key === viewerKey) {
      continue;
    }
    for (const [streamId, stream] of Object.entries(availableStreams(p))) {
      const tracks = Object.fromEntries(
        Object.entries(stream.tracks ?? {}).filter(
          ([trackId]) => owner.get(JSON.stringify([streamId, trackId])) === p.key,
        ),
      );
      if (Object.keys(tracks).length > 0 && out[streamId] === undefined) {
        out[streamId] = { ...stream, tracks };
      }
    }
  }
  return out;
}

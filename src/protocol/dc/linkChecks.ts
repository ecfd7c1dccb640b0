/**
 * Checks of link metadata against state the parser cannot see (protocol.md §8.2, §8.8). Pure: the caller passes
 * what it knows; nothing here is wired into a conference yet.
 */
import { quote } from './check.js';
import type { DcMessage, FailedTrack, StreamMetadata } from './types.js';

/**
 * §8.8: the relayed `(stream_id, track_id)`s of `relayed` that someone else already publishes at the
 * receiving focus. `takenByOther` answers for one track; the caller decides who "someone else" is (a local
 * publisher, or a track relayed by another link). In metadata order, each track once.
 */
export function relayedCollisions(
  relayed: StreamMetadata,
  takenByOther: (streamId: string, trackId: string) => boolean,
): FailedTrack[] {
  const out: FailedTrack[] = [];
  for (const [streamId, stream] of Object.entries(relayed)) {
    for (const trackId of Object.keys(stream.tracks ?? {})) {
      if (takenByOther(streamId, trackId)) {
        out.push({ stream_id: streamId, track_id: trackId });
      }
    }
  }
  return out;
}

/** The `error` a receiving focus sends on the link for colliding tracks (§8.8, `M_INVALID_PARAM`). */
export function collisionError(failed: readonly FailedTrack[], id?: string): DcMessage {
  const names = failed.map((f) => `${quote(f.stream_id)}/${quote(f.track_id)}`);
  const shown =
    names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  return {
    kind: 'error',
    ...(id !== undefined ? { id } : {}),
    errcode: 'M_INVALID_PARAM',
    error: `already published by someone else in this conference: ${shown}`,
    failed: failed.map((f) => ({ stream_id: f.stream_id, track_id: f.track_id })),
  };
}

/** Every trunk SSRC of a snapshot → `stream/track` (audio) or `stream/track/rid` (a video layer). */
function ssrcOwners(m: StreamMetadata): Map<number, string> {
  const owners = new Map<number, string>();
  for (const [streamId, stream] of Object.entries(m)) {
    for (const [trackId, track] of Object.entries(stream.tracks ?? {})) {
      const base = `${quote(streamId)}/${quote(trackId)}`;
      if (track.ssrc !== undefined) {
        owners.set(track.ssrc, base);
      }
      for (const l of track.layers ?? []) {
        owners.set(l.ssrc, `${base}/${quote(l.rid)}`);
      }
    }
  }
  return owners;
}

/**
 * §8.2 "unique per link direction and stable for the link's life": problems of a new link metadata snapshot
 * against the previous one of the same link direction. A track or layer present in both keeps its SSRC, and an
 * SSRC of `previous` never names another track or layer in `next`, even when its old owner is gone (the
 * receiver keys loss repair and continuity by SSRC). Added and removed tracks are fine. Callers that keep every
 * SSRC the link ever announced can pass that history as `previous`. An empty list = stable; otherwise each
 * entry is an error text for `M_INVALID_PARAM`.
 */
export function unstableTrunkSsrcs(previous: StreamMetadata, next: StreamMetadata): string[] {
  const before = ssrcOwners(previous);
  const after = ssrcOwners(next);
  const ssrcBefore = new Map<string, number>();
  for (const [ssrc, owner] of before) {
    ssrcBefore.set(owner, ssrc);
  }
  const problems: string[] = [];
  for (const [ssrc, owner] of after) {
    const was = before.get(ssrc);
    if (was !== undefined && was !== owner) {
      problems.push(`ssrc ${ssrc} moved from ${was} to ${owner}`);
    }
    const old = ssrcBefore.get(owner);
    if (old !== undefined && old !== ssrc) {
      problems.push(`${owner} changed ssrc from ${old} to ${ssrc}`);
    }
  }
  return problems;
}

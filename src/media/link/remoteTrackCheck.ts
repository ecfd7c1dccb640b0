/**
 * The relayed tracks a link announcement may create (protocol.md §8.2), checked before any is routed: ids
 * non-empty strings; audio with one 32-bit SSRC; video with 1–8 layers, each a rid (1–16 chars, unique in the
 * track), a 32-bit SSRC and optional non-negative sizes; every SSRC unique across the whole announcement; a
 * `(stream_id, track_id)` at most once. What fails is left out and named in `problems`. Pure.
 */
import type { RemoteTrunkTrack, TrunkLayer } from './types.js';

export const MAX_TRUNK_LAYERS = 8;
export const MAX_RID_LENGTH = 16;

export function trackKey(streamId: string, trackId: string): string {
  return `${streamId}\u0000${trackId}`;
}

function isSsrc(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
}

function isSize(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** Why one track cannot be relayed (undefined: it can), given the SSRCs taken by the tracks before it. */
function problemOf(t: RemoteTrunkTrack, taken: ReadonlySet<number>): string | undefined {
  if (!isId(t.streamId) || !isId(t.trackId)) {
    return 'stream_id and track_id must be non-empty strings';
  }
  const ssrcs: number[] = [];
  const kind: string = t.kind;
  if (kind === 'audio') {
    if (!isSsrc(t.ssrc)) {
      return 'audio needs a 32-bit ssrc';
    }
    ssrcs.push(t.ssrc);
  } else if (kind === 'video') {
    const layers: readonly TrunkLayer[] = t.layers ?? [];
    if (layers.length === 0 || layers.length > MAX_TRUNK_LAYERS) {
      return `video needs 1–${MAX_TRUNK_LAYERS} layers`;
    }
    const rids = new Set<string>();
    for (const l of layers) {
      if (typeof l.rid !== 'string' || l.rid.length === 0 || l.rid.length > MAX_RID_LENGTH) {
        return `a layer rid must be 1–${MAX_RID_LENGTH} characters`;
      }
      if (rids.has(l.rid)) {
        return `rid ${l.rid} twice`;
      }
      rids.add(l.rid);
      if (!isSsrc(l.ssrc) || !isSize(l.width) || !isSize(l.height)) {
        return `layer ${l.rid}: bad ssrc or size`;
      }
      ssrcs.push(l.ssrc);
    }
  } else {
    return 'kind must be audio or video';
  }
  const seen = new Set<number>();
  for (const s of ssrcs) {
    if (taken.has(s) || seen.has(s)) {
      return `ssrc ${s} used twice`;
    }
    seen.add(s);
  }
  return undefined;
}

export function checkRemoteTracks(list: readonly RemoteTrunkTrack[]): {
  ok: RemoteTrunkTrack[];
  problems: string[];
} {
  const ok: RemoteTrunkTrack[] = [];
  const problems: string[] = [];
  const taken = new Set<number>();
  const keys = new Set<string>();
  for (const t of list) {
    const key = isId(t.streamId) && isId(t.trackId) ? trackKey(t.streamId, t.trackId) : '';
    const problem = keys.has(key) ? 'track announced twice' : problemOf(t, taken);
    if (problem !== undefined) {
      problems.push(`${t.streamId}/${t.trackId}: ${problem}`);
      continue;
    }
    keys.add(key);
    for (const s of t.kind === 'audio' ? [t.ssrc ?? 0] : (t.layers ?? []).map((l) => l.ssrc)) {
      taken.add(s);
    }
    ok.push(t);
  }
  return { ok, problems };
}

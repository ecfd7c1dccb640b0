/**
 * MSC3077 stream metadata (protocol.md §6): the strict reader used by the data-channel parser, a standalone
 * validator for metadata from other paths (to-device invites and negotiates), and the per-stream merge.
 * Only `user_id`, `device_id`, `purpose`, `audio_muted`, `video_muted` and `tracks` (`kind`, `width`,
 * `height`) are kept; other keys are dropped, never errors. Pure.
 */
import { BadJson, Checker, absent, get, isDimension, isObject, quote, setOwn } from './check.js';
import { checkLinkMetadata, readLinkTrackFields } from './linkMetadata.js';
import type { DcErrcode, StreamInfo, StreamMetadata, TrackInfo } from './types.js';

export const STREAM_PURPOSES = ['m.usermedia', 'm.screenshare'] as const;
export const TRACK_KINDS = ['audio', 'video'] as const;

/** The authenticated participant whose `user_id`/`device_id` replace what a client claimed. */
export interface MetadataOwner {
  user_id: string;
  device_id: string;
}

function key(path: string, k: string): string {
  return `${path}[${quote(k)}]`;
}

function readTrack(c: Checker, v: unknown, path: string): TrackInfo {
  const o = c.object(v, path);
  const kind = c.optionalEnum(get(o, 'kind'), `${path}.kind`, TRACK_KINDS);
  const width = c.optionalDimension(get(o, 'width'), `${path}.width`);
  const height = c.optionalDimension(get(o, 'height'), `${path}.height`);
  return {
    ...(kind !== undefined ? { kind } : {}),
    ...(width !== undefined ? { width } : {}),
    ...(height !== undefined ? { height } : {}),
    ...(c.link ? readLinkTrackFields(c, o, kind, path) : {}),
  };
}

function memberField(c: Checker, v: unknown, path: string): string | undefined {
  return c.link ? c.string(v, path) : c.optionalString(v, path);
}

function readStream(c: Checker, v: unknown, path: string): StreamInfo {
  const o = c.object(v, path);
  // A relayed stream is authorized by its member's membership (§8.1), so a link must name the member.
  const userId = memberField(c, get(o, 'user_id'), `${path}.user_id`);
  const deviceId = memberField(c, get(o, 'device_id'), `${path}.device_id`);
  const purpose = c.optionalEnum(get(o, 'purpose'), `${path}.purpose`, STREAM_PURPOSES);
  const audioMuted = c.optionalBoolean(get(o, 'audio_muted'), `${path}.audio_muted`);
  const videoMuted = c.optionalBoolean(get(o, 'video_muted'), `${path}.video_muted`);
  const rawTracks = get(o, 'tracks');
  let tracks: Record<string, TrackInfo> | undefined;
  if (!absent(rawTracks)) {
    const t = c.object(rawTracks, `${path}.tracks`);
    tracks = {};
    for (const [trackId, track] of Object.entries(t)) {
      setOwn(tracks, trackId, readTrack(c, track, key(`${path}.tracks`, trackId)));
    }
  }
  return {
    ...(userId !== undefined ? { user_id: userId } : {}),
    ...(deviceId !== undefined ? { device_id: deviceId } : {}),
    ...(purpose !== undefined ? { purpose } : {}),
    ...(audioMuted !== undefined ? { audio_muted: audioMuted } : {}),
    ...(videoMuted !== undefined ? { video_muted: videoMuted } : {}),
    ...(tracks !== undefined ? { tracks } : {}),
  };
}

/**
 * Reads §6 metadata inside a parse: an object of stream objects. A mistyped field or a bad `purpose`/`kind`
 * is `M_BAD_JSON` (thrown); a width/height outside 0–16384 is recorded as `M_INVALID_PARAM`. A link-mode
 * checker also reads and checks the link fields (linkMetadata.ts, §8.2).
 */
export function readStreamMetadata(c: Checker, v: unknown, path: string): StreamMetadata {
  const o = c.object(v, path);
  const out: StreamMetadata = {};
  for (const [streamId, stream] of Object.entries(o)) {
    setOwn(out, streamId, readStream(c, stream, key(path, streamId)));
  }
  if (c.link) {
    checkLinkMetadata(c, out, path);
  }
  return out;
}

/**
 * Validates metadata from any source with the data-channel rules (e.g. an invite's, §4.2). With
 * `link: {maxTracks}` it applies the link rules of §8.2 (e.g. the metadata of a link invite).
 */
export function parseStreamMetadata(
  raw: unknown,
  path = 'sdp_stream_metadata',
  link?: { maxTracks: number },
): { ok: true; metadata: StreamMetadata } | { ok: false; errcode: DcErrcode; error: string } {
  const c = link === undefined ? new Checker(Infinity) : new Checker(link.maxTracks, 'link');
  try {
    const metadata = readStreamMetadata(c, raw, path);
    const problem = c.problem;
    return problem === undefined ? { ok: true, metadata } : { ok: false, ...problem };
  } catch (e) {
    if (e instanceof BadJson) {
      return { ok: false, errcode: 'M_BAD_JSON', error: e.message };
    }
    throw e;
  }
}

// --- lenient copies for the merge: invalid pieces are dropped, never errors -----------------------------

function cleanTrack(v: unknown): TrackInfo | undefined {
  if (!isObject(v)) {
    return undefined;
  }
  const kind = get(v, 'kind');
  const width = get(v, 'width');
  const height = get(v, 'height');
  return {
    ...(kind === 'audio' || kind === 'video' ? { kind } : {}),
    ...(typeof width === 'number' && isDimension(width) ? { width } : {}),
    ...(typeof height === 'number' && isDimension(height) ? { height } : {}),
  };
}

function cleanTracks(v: unknown): Record<string, TrackInfo> | undefined {
  if (!isObject(v)) {
    return undefined;
  }
  const out: Record<string, TrackInfo> = {};
  for (const [trackId, track] of Object.entries(v)) {
    const t = cleanTrack(track);
    if (t !== undefined) {
      setOwn(out, trackId, t);
    }
  }
  return out;
}

/** The kept fields of a stream object, without `user_id`/`device_id` (the owner's are set later). */
function cleanStream(v: unknown): StreamInfo | undefined {
  if (!isObject(v)) {
    return undefined;
  }
  const purpose = get(v, 'purpose');
  const audioMuted = get(v, 'audio_muted');
  const videoMuted = get(v, 'video_muted');
  const tracks = cleanTracks(get(v, 'tracks'));
  return {
    ...(purpose === 'm.usermedia' || purpose === 'm.screenshare' ? { purpose } : {}),
    ...(typeof audioMuted === 'boolean' ? { audio_muted: audioMuted } : {}),
    ...(typeof videoMuted === 'boolean' ? { video_muted: videoMuted } : {}),
    ...(tracks !== undefined ? { tracks } : {}),
  };
}

function entries(v: unknown): [string, unknown][] {
  return isObject(v) ? Object.entries(v) : [];
}

function own<T>(o: Record<string, T>, k: string): T | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

function mergeTracks(
  current: Record<string, TrackInfo>,
  incoming: Record<string, TrackInfo>,
): Record<string, TrackInfo> {
  const out: Record<string, TrackInfo> = { ...current };
  for (const [trackId, track] of Object.entries(incoming)) {
    const cur = own(current, trackId);
    setOwn(out, trackId, cur === undefined ? track : { ...cur, ...track });
  }
  return out;
}

function mergeStream(current: StreamInfo, incoming: StreamInfo): StreamInfo {
  const tracks =
    current.tracks === undefined || incoming.tracks === undefined
      ? (incoming.tracks ?? current.tracks)
      : mergeTracks(current.tracks, incoming.tracks);
  return { ...current, ...incoming, ...(tracks !== undefined ? { tracks } : {}) };
}

/**
 * §6 merge of a participant's own metadata: streams are merged per stream id (a stream only in `current` is
 * kept), fields per stream and per track (an incoming field replaces the current one, an absent one keeps
 * it). Only the §6 fields survive, and invalid values (wrong type, unknown `purpose`/`kind`, a size outside
 * 0–16384, a stream or track that is not an object) are dropped, so unvalidated input is safe here. Every
 * stream gets the owner's `user_id`/`device_id`. Returns a new object sharing nothing with its inputs.
 */
export function mergeMetadata(
  current: StreamMetadata,
  incoming: StreamMetadata,
  owner: MetadataOwner,
): StreamMetadata {
  const merged: StreamMetadata = {};
  for (const [streamId, stream] of entries(current)) {
    const s = cleanStream(stream);
    if (s !== undefined) {
      setOwn(merged, streamId, s);
    }
  }
  for (const [streamId, stream] of entries(incoming)) {
    const s = cleanStream(stream);
    if (s === undefined) {
      continue;
    }
    const cur = own(merged, streamId);
    setOwn(merged, streamId, cur === undefined ? s : mergeStream(cur, s));
  }
  const out: StreamMetadata = {};
  for (const [streamId, stream] of Object.entries(merged)) {
    setOwn<StreamInfo>(out, streamId, { user_id: owner.user_id, device_id: owner.device_id, ...stream });
  }
  return out;
}

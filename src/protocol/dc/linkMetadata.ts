/**
 * Link metadata (protocol.md §8.2): the trunk SSRCs a sending focus announces per relayed track, read only when
 * the {@link Checker} is in link mode.
 *
 * Why a link mode and not just more optional fields: a trunk SSRC tells the receiving focus which RTP on the
 * link belongs to which `(stream_id, track_id)`, so only a linked focus may announce one (§8.2, §8.1
 * authorization). On a client's data channel `ssrc` and `layers` stay unknown keys, dropped exactly as before
 * (§6 keeps only its listed fields), so no client can claim a trunk SSRC and client sessions parse unchanged.
 *
 * Rules on a link, in addition to §6:
 * - every stream names its `user_id` and `device_id` (relayed streams are authorized per member, §8.1);
 * - every track has a `kind`; audio carries `ssrc`, video carries `layers` (1–4, lowest first), never the other;
 * - SSRCs are unsigned 32-bit integers, unique across the whole snapshot (one link direction);
 * - rids are unique per track; layers with known sizes (width and height > 0) never get smaller in pixels;
 * - at most `maxListEntries` tracks in one snapshot (§9 `limits.max_tracks_per_subscribe`).
 * A mistyped or missing field is `M_BAD_JSON`; a well-typed value out of range, a duplicate or a wrong order is
 * `M_INVALID_PARAM`; too many layers or tracks is `M_LIMIT_EXCEEDED`. Pure.
 */
import { absent, get, quote, type Checker, type JsonObject } from './check.js';
import { MAX_LAYERS, type LayerInfo, type StreamMetadata, type TrackInfo } from './types.js';

/** `ssrc` or `layers` of one link track (`o` is the track object, `kind` as already read). */
export function readLinkTrackFields(
  c: Checker,
  o: JsonObject,
  kind: TrackInfo['kind'],
  path: string,
): Pick<TrackInfo, 'ssrc' | 'layers'> {
  if (kind === undefined) {
    return c.bad(`${path}.kind must be "audio" or "video" on a link, got missing`);
  }
  const ssrc = get(o, 'ssrc');
  const layers = get(o, 'layers');
  if (kind === 'audio') {
    if (!absent(layers)) {
      return c.bad(`${path}.layers: an audio track carries one ssrc, not layers`);
    }
    return { ssrc: c.ssrc(ssrc, `${path}.ssrc`) };
  }
  if (!absent(ssrc)) {
    return c.bad(`${path}.ssrc: a video track carries its SSRCs in layers`);
  }
  return { layers: readLayers(c, layers, `${path}.layers`) };
}

function readLayer(c: Checker, v: unknown, path: string): LayerInfo {
  const o = c.object(v, path);
  const rid = c.rid(get(o, 'rid'), `${path}.rid`);
  const ssrc = c.ssrc(get(o, 'ssrc'), `${path}.ssrc`);
  const width = c.optionalDimension(get(o, 'width'), `${path}.width`);
  const height = c.optionalDimension(get(o, 'height'), `${path}.height`);
  return {
    rid,
    ssrc,
    ...(width !== undefined ? { width } : {}),
    ...(height !== undefined ? { height } : {}),
  };
}

/** Pixels of a layer whose size is known, else undefined. */
function pixels(l: LayerInfo): number | undefined {
  return l.width !== undefined && l.height !== undefined && l.width > 0 && l.height > 0
    ? l.width * l.height
    : undefined;
}

function readLayers(c: Checker, v: unknown, path: string): LayerInfo[] {
  const list = c.array(v, path);
  const layers = list.map((e, i) => readLayer(c, e, `${path}[${i}]`));
  if (layers.length === 0) {
    c.invalid(`${path} must not be empty: a video track on a link has at least one layer`);
  }
  if (layers.length > MAX_LAYERS) {
    c.limit(`${path} has ${layers.length} layers, more than ${MAX_LAYERS}`);
  }
  const rids = layers.map((l) => l.rid);
  const dup = rids.find((r, i) => rids.indexOf(r) !== i);
  if (dup !== undefined) {
    c.invalid(`${path} names rid ${quote(dup)} twice`);
  }
  let largest = 0;
  layers.forEach((l, i) => {
    const p = pixels(l);
    if (p === undefined) {
      return;
    }
    if (p < largest) {
      c.invalid(`${path}[${i}] is smaller than a layer before it: layers go lowest first (§8.2, §7)`);
    }
    largest = Math.max(largest, p);
  });
  return layers;
}

/** Snapshot-wide rules: SSRCs unique in the link direction, and at most `maxListEntries` tracks. */
export function checkLinkMetadata(c: Checker, m: StreamMetadata, path: string): void {
  const owner = new Map<number, string>();
  let tracks = 0;
  for (const [streamId, stream] of Object.entries(m)) {
    for (const [trackId, track] of Object.entries(stream.tracks ?? {})) {
      tracks++;
      const name = `${quote(streamId)}/${quote(trackId)}`;
      const ssrcs = track.ssrc !== undefined ? [track.ssrc] : (track.layers ?? []).map((l) => l.ssrc);
      for (const ssrc of ssrcs) {
        const other = owner.get(ssrc);
        if (other !== undefined) {
          c.invalid(`${path}: ssrc ${ssrc} is announced for both ${other} and ${name}`);
        }
        owner.set(ssrc, name);
      }
    }
  }
  if (tracks > c.maxListEntries) {
    c.limit(`${path} has ${tracks} tracks, more than ${c.maxListEntries}`);
  }
}

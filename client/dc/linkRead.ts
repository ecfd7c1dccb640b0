/**
 * Reads one frame a focus sent on a link (protocol.md §8.1–§8.5), checking everything the spec fixes: dialect A
 * only, the §5.2 `id`, link metadata (§8.2: members named, audio `ssrc`, video `layers` 1–4 lowest first, rids
 * unique per track, SSRCs uint32 and unique in the snapshot), layer demand (§8.3) and the `layers` op (§8.5).
 * Unknown keys are dropped; `null` where a value is optional is a violation (a focus never writes it). Never
 * throws: a frame that breaks the protocol comes back as `{ok: false, violation}`.
 */
import { isObject } from '../ids.js';
import {
  LINK_MAX_LAYERS,
  type LayersEntry,
  type LinkFrame,
  type LinkLayer,
  type LinkMessage,
  type LinkMetadata,
  type LinkStream,
  type LinkTrack,
  type LinkWant,
} from './linkTypes.js';
import { DC_ERRCODES, type FailedTrack } from './types.js';

type Fields = Record<string, unknown>;
/** A value read, or the violation. */
type R<T> = T | Violation;

class Violation {
  constructor(readonly text: string) {}
}

const no = (text: string): Violation => new Violation(text);
const bad = <T>(r: R<T>): r is Violation => r instanceof Violation;
const str = (v: unknown): v is string => typeof v === 'string';
const show = (v: unknown): string => (JSON.stringify(v) as string | undefined)?.slice(0, 80) ?? String(v);

export interface LinkReadOptions {
  /** §9 `limits.max_tracks_per_subscribe`: entries per list and tracks per metadata snapshot (default 200). */
  maxTracks?: number;
}

const RID = /^[A-Za-z0-9_-]{1,16}$/;

function dimension(v: unknown, what: string): R<number | undefined> {
  if (v === undefined) {
    return undefined;
  }
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 16384
    ? (v as number)
    : no(`${what} is not an integer 0–16384: ${show(v)}`);
}

function ssrcOf(v: unknown, what: string): R<number> {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32
    ? (v as number)
    : no(`${what} is not a uint32 SSRC: ${show(v)}`);
}

/** A list of rids: unique, 1–4 (0–4 when `mayBeEmpty`). */
function ridsOf(v: unknown, what: string, mayBeEmpty: boolean): R<string[]> {
  if (!Array.isArray(v)) {
    return no(`${what} is not a list of rids: ${show(v)}`);
  }
  if ((v.length === 0 && !mayBeEmpty) || v.length > LINK_MAX_LAYERS) {
    return no(`${what} has ${v.length} rids (${mayBeEmpty ? 0 : 1}–${LINK_MAX_LAYERS})`);
  }
  for (const r of v) {
    if (!str(r) || !RID.test(r)) {
      return no(`${what} has a bad rid ${show(r)}`);
    }
  }
  return new Set(v).size === v.length ? [...(v as string[])] : no(`${what} repeats a rid: ${show(v)}`);
}

function layerOf(v: unknown, what: string): R<LinkLayer> {
  if (!isObject(v) || !str(v['rid']) || !RID.test(v['rid'])) {
    return no(`${what} is not a layer with a valid rid: ${show(v)}`);
  }
  const ssrc = ssrcOf(v['ssrc'], `${what}.ssrc`);
  const width = dimension(v['width'], `${what}.width`);
  const height = dimension(v['height'], `${what}.height`);
  if (bad(ssrc)) return ssrc;
  if (bad(width)) return width;
  if (bad(height)) return height;
  return {
    rid: v['rid'],
    ssrc,
    ...(width === undefined ? {} : { width }),
    ...(height === undefined ? {} : { height }),
  };
}

function layersOf(v: unknown, what: string): R<LinkLayer[]> {
  if (!Array.isArray(v) || v.length === 0 || v.length > LINK_MAX_LAYERS) {
    return no(`${what} is not a list of 1–${LINK_MAX_LAYERS} layers: ${show(v)}`);
  }
  const out: LinkLayer[] = [];
  let biggest = 0;
  for (const [i, x] of v.entries()) {
    const l = layerOf(x, `${what}[${i}]`);
    if (bad(l)) {
      return l;
    }
    if (out.some((o) => o.rid === l.rid)) {
      return no(`${what} repeats rid ${l.rid}`);
    }
    const px = (l.width ?? 0) * (l.height ?? 0);
    if (px > 0 && px < biggest) {
      return no(`${what} is not lowest first: ${l.rid} is smaller than a layer before it`);
    }
    biggest = Math.max(biggest, px);
    out.push(l);
  }
  return out;
}

function trackOf(v: unknown, what: string): R<LinkTrack> {
  if (!isObject(v) || (v['kind'] !== 'audio' && v['kind'] !== 'video')) {
    return no(`${what} is not a track with kind audio or video: ${show(v)}`);
  }
  const width = dimension(v['width'], `${what}.width`);
  const height = dimension(v['height'], `${what}.height`);
  if (bad(width)) return width;
  if (bad(height)) return height;
  const size = { ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }) };
  if (v['kind'] === 'audio') {
    if (v['layers'] !== undefined) {
      return no(`${what} is audio with layers`);
    }
    const ssrc = ssrcOf(v['ssrc'], `${what}.ssrc`);
    return bad(ssrc) ? ssrc : { kind: 'audio', ...size, ssrc };
  }
  if (v['ssrc'] !== undefined) {
    return no(`${what} is video with a track-level ssrc`);
  }
  const layers = layersOf(v['layers'], `${what}.layers`);
  return bad(layers) ? layers : { kind: 'video', ...size, layers };
}

function streamOf(v: unknown, what: string): R<LinkStream> {
  if (!isObject(v) || !str(v['user_id']) || !str(v['device_id'])) {
    return no(`${what} does not name its member (user_id, device_id): ${show(v)}`);
  }
  const { purpose, audio_muted, video_muted, tracks } = v;
  if (purpose !== undefined && purpose !== 'm.usermedia' && purpose !== 'm.screenshare') {
    return no(`${what}.purpose is ${show(purpose)}`);
  }
  for (const [k, b] of [
    ['audio_muted', audio_muted],
    ['video_muted', video_muted],
  ] as const) {
    if (b !== undefined && typeof b !== 'boolean') {
      return no(`${what}.${k} is not a boolean: ${show(b)}`);
    }
  }
  const out: LinkStream = {
    user_id: v['user_id'],
    device_id: v['device_id'],
    ...(purpose === undefined ? {} : { purpose }),
    ...(audio_muted === undefined ? {} : { audio_muted: audio_muted as boolean }),
    ...(video_muted === undefined ? {} : { video_muted: video_muted as boolean }),
  };
  if (tracks === undefined) {
    return out;
  }
  if (!isObject(tracks)) {
    return no(`${what}.tracks is not an object`);
  }
  const read: Record<string, LinkTrack> = {};
  for (const [trackId, t] of Object.entries(tracks)) {
    const track = trackOf(t, `${what}.tracks.${trackId}`);
    if (bad(track)) {
      return track;
    }
    Object.defineProperty(read, trackId, {
      value: track,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { ...out, tracks: read };
}

function metadataOf(v: unknown, maxTracks: number): R<LinkMetadata> {
  if (!isObject(v)) {
    return no(`metadata is not an object: ${show(v)}`);
  }
  const out: LinkMetadata = {};
  const owners = new Map<number, string>();
  let count = 0;
  for (const [streamId, s] of Object.entries(v)) {
    const stream = streamOf(s, `metadata.${streamId}`);
    if (bad(stream)) {
      return stream;
    }
    for (const [trackId, t] of Object.entries(stream.tracks ?? {})) {
      count++;
      for (const ssrc of t.ssrc === undefined ? (t.layers ?? []).map((l) => l.ssrc) : [t.ssrc]) {
        const owner = owners.get(ssrc);
        if (owner !== undefined) {
          return no(`ssrc ${ssrc} is announced twice (${owner} and ${streamId}/${trackId})`);
        }
        owners.set(ssrc, `${streamId}/${trackId}`);
      }
    }
    Object.defineProperty(out, streamId, {
      value: stream,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return count > maxTracks ? no(`metadata has ${count} tracks, more than ${maxTracks}`) : out;
}

function wantsOf(v: unknown, what: string, maxTracks: number, withLayers: boolean): R<LinkWant[]> {
  if (!Array.isArray(v) || v.length > maxTracks) {
    return no(`${what} is not a list of at most ${maxTracks} tracks: ${show(v)}`);
  }
  const out: LinkWant[] = [];
  for (const [i, x] of v.entries()) {
    if (!isObject(x) || !str(x['stream_id']) || !str(x['track_id'])) {
      return no(`${what}[${i}] is not {stream_id, track_id}: ${show(x)}`);
    }
    const width = dimension(x['width'], `${what}[${i}].width`);
    const height = dimension(x['height'], `${what}[${i}].height`);
    const layers =
      withLayers && x['layers'] !== undefined
        ? ridsOf(x['layers'], `${what}[${i}].layers`, false)
        : undefined;
    if (bad(width)) return width;
    if (bad(height)) return height;
    if (bad(layers)) return layers;
    out.push({
      stream_id: x['stream_id'],
      track_id: x['track_id'],
      ...(width === undefined ? {} : { width }),
      ...(height === undefined ? {} : { height }),
      ...(layers === undefined ? {} : { layers }),
    });
  }
  return out;
}

function layersOpOf(v: unknown, maxTracks: number): R<LayersEntry[]> {
  if (!Array.isArray(v) || v.length === 0 || v.length > maxTracks) {
    return no(`layers.tracks is not a list of 1–${maxTracks} tracks: ${show(v)}`);
  }
  const out: LayersEntry[] = [];
  for (const [i, x] of v.entries()) {
    if (!isObject(x) || !str(x['stream_id']) || !str(x['track_id'])) {
      return no(`layers.tracks[${i}] is not {stream_id, track_id, sending}: ${show(x)}`);
    }
    const sending = ridsOf(x['sending'], `layers.tracks[${i}].sending`, true);
    if (bad(sending)) {
      return sending;
    }
    if (out.some((o) => o.stream_id === x['stream_id'] && o.track_id === x['track_id'])) {
      return no(`layers.tracks names ${x['stream_id']}/${x['track_id']} twice`);
    }
    out.push({ stream_id: x['stream_id'], track_id: x['track_id'], sending });
  }
  return out;
}

function failedOf(v: unknown): R<FailedTrack[] | undefined> {
  if (v === undefined) {
    return undefined;
  }
  if (!Array.isArray(v) || !v.every((x) => isObject(x) && str(x['stream_id']) && str(x['track_id']))) {
    return no(`error.failed is not a list of {stream_id, track_id}: ${show(v)}`);
  }
  return (v as Fields[]).map((x) => ({
    stream_id: x['stream_id'] as string,
    track_id: x['track_id'] as string,
  }));
}

function bodyOf(op: string, f: Fields, id: { id?: string }, maxTracks: number): R<LinkMessage> {
  switch (op) {
    case 'subscribe': {
      const start = wantsOf(f['start'], 'start', maxTracks, true);
      return bad(start) ? start : { kind: 'subscribe', ...id, start };
    }
    case 'unsubscribe': {
      const stop = wantsOf(f['stop'], 'stop', maxTracks, false);
      return bad(stop) ? stop : { kind: 'unsubscribe', ...id, stop };
    }
    case 'offer':
    case 'answer': {
      if (!str(f['sdp'])) {
        return no(`${op} without sdp`);
      }
      const metadata = f['metadata'] === undefined ? undefined : metadataOf(f['metadata'], maxTracks);
      if (bad(metadata)) {
        return metadata;
      }
      return { kind: op, ...id, sdp: f['sdp'], ...(metadata === undefined ? {} : { metadata }) };
    }
    case 'metadata': {
      const metadata = metadataOf(f['metadata'], maxTracks);
      return bad(metadata) ? metadata : { kind: 'metadata', ...id, metadata };
    }
    case 'alive':
      return { kind: 'alive', ...id };
    case 'ack':
      return id.id === undefined ? no('ack without id') : { kind: 'ack', id: id.id };
    case 'error': {
      const { errcode, error } = f;
      if (!str(errcode) || !DC_ERRCODES.includes(errcode) || !str(error)) {
        return no(`error without a known errcode and an error text: ${show(f)}`);
      }
      const failed = failedOf(f['failed']);
      if (bad(failed)) {
        return failed;
      }
      return { kind: 'error', ...id, errcode, error, ...(failed === undefined ? {} : { failed }) };
    }
    case 'layers': {
      const tracks = layersOpOf(f['tracks'], maxTracks);
      return bad(tracks) ? tracks : { kind: 'layers', ...id, tracks };
    }
    default:
      return no(`op ${show(op)} is not a link message`);
  }
}

/** Length in Unicode code points (how §5.2 counts an id's characters). */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff || i === 0 || (s.charCodeAt(i - 1) & 0xfc00) !== 0xd800) {
      n++;
    }
  }
  return n;
}

/** Reads one link frame. */
export function readLinkFrame(text: string, opts: LinkReadOptions = {}): LinkFrame {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, violation: `not JSON: ${text.slice(0, 80)}` };
  }
  if (!isObject(v) || !str(v['op'])) {
    return { ok: false, violation: `not a dialect A message (links speak A only): ${text.slice(0, 80)}` };
  }
  const rawId = v['id'];
  if (rawId !== undefined && (!str(rawId) || rawId.length === 0 || codePoints(rawId) > 64)) {
    return { ok: false, violation: `bad id ${show(rawId)}` };
  }
  const r = bodyOf(v['op'], v, rawId === undefined ? {} : { id: rawId }, opts.maxTracks ?? 200);
  return bad(r) ? { ok: false, violation: r.text } : { ok: true, message: r };
}

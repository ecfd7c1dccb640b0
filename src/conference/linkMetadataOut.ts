/**
 * The link metadata this focus sends (protocol.md §8.2): the streams of its LOCAL publishers only (§8.4), under
 * their real `user_id`/`device_id`, each track with its trunk SSRCs — audio one `ssrc`, video `layers`
 * `[{rid, ssrc, width, height}]` lowest first, from the published track's layer table. A video track without
 * simulcast is one layer with rid {@link SINGLE_LAYER_RID}; a simulcast layer without a usable rid gets
 * `l<rank>`. Sizes are written only while they keep growing (the receiver refuses a layer smaller than one
 * before it); at most MAX_LAYERS layers (the lowest) per track and `maxTracks` tracks per snapshot. Alongside,
 * the trunk plan of each announced track: what `LinkPeerPort.sendTrack` needs.
 */
import { isRid } from '../protocol/dc/check.js';
import { MAX_LAYERS, type StreamInfo, type StreamMetadata, type TrackInfo } from '../protocol/dc/types.js';
import type { TrackSourcePort } from './conferencePorts.js';
import type { TrunkSendLayer } from './linkPorts.js';
import type { LocalPublisher } from './router.js';
import { trackKey } from './session.js';
import type { TrunkSsrcs } from './trunkSsrcs.js';

/** The rid of the one layer of a non-simulcast video track on the trunk. */
export const SINGLE_LAYER_RID = 'f';

/** One local track as announced on the link. */
export interface TrunkPlan {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly source: TrackSourcePort;
  readonly audioSsrc?: number;
  /** Video: lowest first. */
  readonly layers?: readonly TrunkSendLayer[];
}

export interface LinkMetadataOut {
  readonly metadata: StreamMetadata;
  /** By trackKey. */
  readonly plans: ReadonlyMap<string, TrunkPlan>;
  /** Tracks left out because the snapshot was full. */
  readonly dropped: number;
}

/** The trunk layers of a video source and their announced sizes, lowest first. */
function videoLayers(
  ssrcs: TrunkSsrcs,
  streamId: string,
  trackId: string,
  source: TrackSourcePort,
): { plan: TrunkSendLayer[]; info: { rid: string; ssrc: number; width?: number; height?: number }[] } {
  const rows = source.selectable().layers.slice(0, MAX_LAYERS);
  const plan: TrunkSendLayer[] = [];
  const info: { rid: string; ssrc: number; width?: number; height?: number }[] = [];
  const rids = new Set<string>();
  let largest = 0;
  rows.forEach((row, rank) => {
    let rid = rows.length === 1 && row.rid === undefined ? SINGLE_LAYER_RID : row.rid;
    if (rid === undefined || !isRid(rid) || rids.has(rid)) {
      rid = `l${rank}`;
    }
    rids.add(rid);
    const ssrc = ssrcs.get(streamId, trackId, rid);
    plan.push({ layerId: row.id, rid, ssrc });
    const size = row.size;
    const pixels = size !== undefined && size.width > 0 && size.height > 0 ? size.width * size.height : 0;
    if (size !== undefined && pixels > 0 && pixels >= largest) {
      largest = pixels;
      info.push({ rid, ssrc, width: size.width, height: size.height });
    } else {
      info.push({ rid, ssrc });
    }
  });
  return { plan, info };
}

/** The link metadata and trunk plans of `publishers` (Router.localPublishers()). */
export function linkMetadataOut(
  publishers: readonly LocalPublisher[],
  ssrcs: TrunkSsrcs,
  maxTracks: number,
): LinkMetadataOut {
  const metadata: StreamMetadata = {};
  const plans = new Map<string, TrunkPlan>();
  let dropped = 0;
  for (const pub of publishers) {
    for (const p of pub.publications) {
      const stream = pub.metadata[p.streamId];
      if (stream === undefined) {
        continue; // not available to anyone without metadata (§6)
      }
      if (plans.size >= maxTracks) {
        dropped++;
        continue;
      }
      const declared = stream.tracks?.[p.trackId];
      const track: TrackInfo = { kind: p.kind };
      let plan: TrunkPlan;
      if (p.kind === 'audio') {
        const ssrc = ssrcs.get(p.streamId, p.trackId);
        track.ssrc = ssrc;
        plan = { streamId: p.streamId, trackId: p.trackId, kind: 'audio', source: p.source, audioSsrc: ssrc };
      } else {
        const { plan: layers, info } = videoLayers(ssrcs, p.streamId, p.trackId, p.source);
        if (layers.length === 0) {
          continue; // no layer known yet: announced once there is one
        }
        const top = info.at(-1);
        const w = declared?.width ?? top?.width ?? 0;
        const h = declared?.height ?? top?.height ?? 0;
        if (w > 0 && h > 0) {
          track.width = w;
          track.height = h;
        }
        track.layers = info;
        plan = { streamId: p.streamId, trackId: p.trackId, kind: 'video', source: p.source, layers };
      }
      const owned = metadata[p.streamId];
      if (owned !== undefined && (owned.user_id !== pub.userId || owned.device_id !== pub.deviceId)) {
        continue; // a stream id belongs to its first publisher (§6)
      }
      const entry: StreamInfo = (metadata[p.streamId] ??= {
        user_id: pub.userId,
        device_id: pub.deviceId,
        purpose: stream.purpose ?? 'm.usermedia',
        audio_muted: stream.audio_muted ?? false,
        video_muted: stream.video_muted ?? false,
        tracks: {},
      });
      (entry.tracks ??= {})[p.trackId] = track;
      plans.set(trackKey(p.streamId, p.trackId), plan);
    }
  }
  return { metadata, plans, dropped };
}

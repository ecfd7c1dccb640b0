/**
 * {@link DcMessage} → the wire shapes of protocol.md §5.2. Dialect A: `{"op", "id"?, ...}` with `start`/`stop`
 * lists of `{stream_id, track_id, width?, height?}`; dialect B: `{"type", "content"}` with metadata under the
 * stable `sdp_stream_metadata` key and no ids. Pure; only the fields of the model are written.
 */
import { METADATA_KEY_STABLE } from '../callContent.js';
import { setOwn } from './check.js';
import {
  DC_EVENT_TYPES,
  type DcMessage,
  type Dialect,
  type FailedTrack,
  type FocusRef,
  type LayerInfo,
  type StreamInfo,
  type StreamMetadata,
  type TrackInfo,
  type TrackRef,
} from './types.js';

export type Wire = Record<string, unknown>;

/**
 * A subscription entry; `layers` only on a link (§8.3). `link` is false for every client session, so link
 * fields in the model never reach a client's wire (trunk SSRCs and demand are link business).
 */
function trackRef(t: TrackRef, link: boolean): Wire {
  return {
    stream_id: t.streamId,
    track_id: t.trackId,
    ...(t.width !== undefined ? { width: t.width } : {}),
    ...(t.height !== undefined ? { height: t.height } : {}),
    ...(link && t.layers !== undefined ? { layers: [...t.layers] } : {}),
  };
}

function layer(l: LayerInfo): Wire {
  return {
    rid: l.rid,
    ssrc: l.ssrc,
    ...(l.width !== undefined ? { width: l.width } : {}),
    ...(l.height !== undefined ? { height: l.height } : {}),
  };
}

function trackInfo(t: TrackInfo, link: boolean): Wire {
  return {
    ...(t.kind !== undefined ? { kind: t.kind } : {}),
    ...(t.width !== undefined ? { width: t.width } : {}),
    ...(t.height !== undefined ? { height: t.height } : {}),
    ...(link && t.ssrc !== undefined ? { ssrc: t.ssrc } : {}),
    ...(link && t.layers !== undefined ? { layers: t.layers.map(layer) } : {}),
  };
}

function streamInfo(s: StreamInfo, link: boolean): Wire {
  let tracks: Record<string, Wire> | undefined;
  if (s.tracks !== undefined) {
    tracks = {};
    for (const [trackId, t] of Object.entries(s.tracks)) {
      setOwn(tracks, trackId, trackInfo(t, link));
    }
  }
  return {
    ...(s.user_id !== undefined ? { user_id: s.user_id } : {}),
    ...(s.device_id !== undefined ? { device_id: s.device_id } : {}),
    ...(s.purpose !== undefined ? { purpose: s.purpose } : {}),
    ...(s.audio_muted !== undefined ? { audio_muted: s.audio_muted } : {}),
    ...(s.video_muted !== undefined ? { video_muted: s.video_muted } : {}),
    ...(tracks !== undefined ? { tracks } : {}),
  };
}

/** A copy with only the §6 fields (plus §8.2's on a link; the wire never carries anything else). */
function metadata(m: StreamMetadata, link = false): Record<string, Wire> {
  const out: Record<string, Wire> = {};
  for (const [streamId, s] of Object.entries(m)) {
    setOwn(out, streamId, streamInfo(s, link));
  }
  return out;
}

function foci(list: readonly FocusRef[]): Wire[] {
  return list.map((f) => ({ user_id: f.user_id, device_id: f.device_id }));
}

function failed(list: readonly FailedTrack[]): Wire[] {
  return list.map((f) => ({ stream_id: f.stream_id, track_id: f.track_id }));
}

function op(name: string, id: string | undefined, fields: Wire = {}): Wire {
  return { op: name, ...(id !== undefined ? { id } : {}), ...fields };
}

/**
 * Dialect A; undefined for `track_subscription` and `ping`, which A does not have. `link`: write the link
 * fields of §8.2–§8.3 (linkSerialize.ts); a link's `subscribe` is never spelled `select`.
 */
export function dialectA(m: DcMessage, link = false): Wire | undefined {
  const ref = (t: TrackRef): Wire => trackRef(t, false);
  switch (m.kind) {
    case 'subscribe':
      return op(link ? 'subscribe' : (m.alias ?? 'subscribe'), m.id, {
        start: m.tracks.map((t) => trackRef(t, link)),
      });
    case 'unsubscribe':
      return op('unsubscribe', m.id, { stop: m.tracks.map(ref) });
    case 'publish':
      return op('publish', m.id, { sdp: m.sdp, metadata: metadata(m.metadata, link) });
    case 'unpublish':
      return op('unpublish', m.id, {
        stop: m.tracks.map(ref),
        ...(m.sdp !== undefined ? { sdp: m.sdp } : {}),
      });
    case 'offer':
    case 'answer':
      return op(m.kind, m.id, {
        sdp: m.sdp,
        ...(m.metadata !== undefined ? { metadata: metadata(m.metadata, link) } : {}),
      });
    case 'metadata':
      return op('metadata', m.id, { metadata: metadata(m.metadata, link) });
    case 'alive':
      return op('alive', m.id);
    case 'connect':
      return op('connect', m.id, { foci: foci(m.foci) });
    case 'ack':
      return op('ack', m.id);
    case 'error':
      return op('error', m.id, {
        errcode: m.errcode,
        error: m.error,
        ...(m.failed !== undefined ? { failed: failed(m.failed) } : {}),
      });
    case 'active_speaker':
      return op('active_speaker', undefined, speaker(m));
    case 'track_subscription':
    case 'ping':
      return undefined;
  }
}

function speaker(m: { user_id: string; device_id: string; stream_id: string }): Wire {
  return { user_id: m.user_id, device_id: m.device_id, stream_id: m.stream_id };
}

/**
 * Dialect B; undefined for `subscribe`, `unsubscribe`, `publish`, `unpublish` and `ack`, which B does not
 * have. Ids are dropped. An empty `track_subscription` list is omitted (both are written when both are empty).
 */
function dialectB(m: DcMessage): Wire | undefined {
  switch (m.kind) {
    case 'track_subscription': {
      const both = m.subscribe.length === 0 && m.unsubscribe.length === 0;
      return {
        type: DC_EVENT_TYPES.trackSubscription,
        content: {
          ...(both || m.subscribe.length > 0
            ? { subscribe: m.subscribe.map((t) => trackRef(t, false)) }
            : {}),
          ...(both || m.unsubscribe.length > 0
            ? { unsubscribe: m.unsubscribe.map((t) => trackRef(t, false)) }
            : {}),
        },
      };
    }
    case 'offer':
    case 'answer':
      return {
        type: DC_EVENT_TYPES.negotiate,
        content: {
          description: { type: m.kind, sdp: m.sdp },
          ...(m.metadata !== undefined ? { [METADATA_KEY_STABLE]: metadata(m.metadata) } : {}),
        },
      };
    case 'metadata':
      return {
        type: DC_EVENT_TYPES.metadataChanged,
        content: { [METADATA_KEY_STABLE]: metadata(m.metadata) },
      };
    case 'alive':
      return { type: DC_EVENT_TYPES.pong, content: {} };
    case 'ping':
      return { type: DC_EVENT_TYPES.ping, content: {} };
    case 'connect':
      return { type: DC_EVENT_TYPES.connect, content: { foci: foci(m.foci) } };
    case 'error':
      return {
        type: DC_EVENT_TYPES.error,
        content: {
          errcode: m.errcode,
          error: m.error,
          ...(m.failed !== undefined ? { failed: failed(m.failed) } : {}),
        },
      };
    case 'active_speaker':
      return { type: DC_EVENT_TYPES.activeSpeaker, content: speaker(m) };
    case 'subscribe':
    case 'unsubscribe':
    case 'publish':
    case 'unpublish':
    case 'ack':
      return undefined;
  }
}

/** The frame text of `message` in `dialect`, or undefined when the message has no form in that dialect. */
export function serializeDc(message: DcMessage, dialect: Dialect): string | undefined {
  const wire = dialect === 'A' ? dialectA(message) : dialectB(message);
  return wire === undefined ? undefined : JSON.stringify(wire);
}

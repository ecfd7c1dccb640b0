/** The others in the call, as the focus's stream metadata (protocol.md §6) describes them, grouped by device. */
import type { StreamMetadata } from './metadata.js';

export interface RemoteTrackInfo {
  trackId: string;
  kind: string;
  width?: number;
  height?: number;
}

export interface RemoteStream {
  /** The msid stream id: the key for `Call.subscribe`. */
  streamId: string;
  purpose: string;
  audioMuted: boolean;
  videoMuted: boolean;
  tracks: RemoteTrackInfo[];
}

export interface Participant {
  userId: string;
  deviceId: string;
  streams: RemoteStream[];
}

/** Participants in order of first appearance in the metadata; streams without `user_id`/`device_id` are skipped. */
export function participantsFrom(metadata: StreamMetadata): Participant[] {
  const byKey = new Map<string, Participant>();
  for (const [streamId, info] of Object.entries(metadata)) {
    if (typeof info.user_id !== 'string' || typeof info.device_id !== 'string') {
      continue;
    }
    const key = `${info.user_id}|${info.device_id}`;
    let p = byKey.get(key);
    if (p === undefined) {
      p = { userId: info.user_id, deviceId: info.device_id, streams: [] };
      byKey.set(key, p);
    }
    const tracks: RemoteTrackInfo[] = [];
    for (const [trackId, t] of Object.entries(info.tracks ?? {})) {
      const track: RemoteTrackInfo = { trackId, kind: typeof t.kind === 'string' ? t.kind : 'unknown' };
      if (typeof t.width === 'number') {
        track.width = t.width;
      }
      if (typeof t.height === 'number') {
        track.height = t.height;
      }
      tracks.push(track);
    }
    p.streams.push({
      streamId,
      purpose: typeof info.purpose === 'string' ? info.purpose : 'm.usermedia',
      audioMuted: info.audio_muted === true,
      videoMuted: info.video_muted === true,
      tracks,
    });
  }
  return [...byKey.values()];
}

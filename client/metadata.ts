/** MSC3077 stream metadata (protocol.md §6) as this client announces it. */

/** The to-device key of the metadata (§4.2, §4.4). */
export const METADATA_KEY = 'org.matrix.msc3077.sdp_stream_metadata';
/** The stable key, used on the data channel in dialect B (§5.2). */
export const METADATA_KEY_STABLE = 'sdp_stream_metadata';

export interface TrackInfo {
  kind?: string;
  width?: number;
  height?: number;
}

export interface StreamInfo {
  user_id?: string;
  device_id?: string;
  purpose?: string;
  audio_muted?: boolean;
  video_muted?: boolean;
  tracks?: Record<string, TrackInfo>;
}

/** Stream objects keyed by msid stream id. */
export type StreamMetadata = Record<string, StreamInfo>;

/** Metadata for the audio/video sections an offer sends (`a=msid:<stream> <track>`, direction send*). */
export function metadataFromSdp(sdp: string, userId: string, deviceId: string): Record<string, unknown> {
  const streams: Record<string, { tracks: Record<string, { kind: string }> } & Record<string, unknown>> = {};
  for (const section of sdp.split(/\r?\n(?=m=)/)) {
    const kind = /^m=(audio|video) /.exec(section)?.[1];
    if (kind === undefined) {
      continue;
    }
    const direction = /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(section)?.[1] ?? 'sendrecv';
    const msid = /^a=msid:(\S+) (\S+)\r?$/m.exec(section);
    if ((direction !== 'sendrecv' && direction !== 'sendonly') || msid === null || msid[1] === '-') {
      continue;
    }
    const [, streamId, trackId] = msid as unknown as [string, string, string];
    streams[streamId] ??= {
      user_id: userId,
      device_id: deviceId,
      purpose: 'm.usermedia',
      audio_muted: false,
      video_muted: false,
      tracks: {},
    };
    streams[streamId].tracks[trackId] = { kind };
  }
  return streams;
}

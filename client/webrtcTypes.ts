/**
 * The parts of the browser's WebRTC and media API the client uses, as structural types: client/ compiles without
 * the DOM library (it runs in Node too), and a browser's `RTCPeerConnection`, `MediaStream` and
 * `MediaStreamTrack` fit these shapes as they are.
 */

/**
 * An event handler property. Method syntax makes it bivariant, so the browser's handler types (taking the full
 * event, `this`-typed) and ours (taking the few fields we read) are assignable both ways.
 */
export type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'] | null;

export interface MediaStreamTrackLike {
  readonly id: string;
  readonly kind: string;
  readonly readyState?: string;
  enabled?: boolean;
  stop(): void;
}

export interface MediaStreamLike {
  readonly id: string;
  getTracks(): MediaStreamTrackLike[];
}

export interface SessionDescriptionLike {
  readonly type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  readonly sdp?: string;
}

export interface IceCandidateLike {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}

export interface DataChannelLike {
  readonly label: string;
  readonly readyState: string;
  binaryType: string;
  onopen: Handler<unknown>;
  onclose: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  send(data: string): void;
  close(): void;
}

export interface SendEncodingLike {
  rid?: string;
  scaleResolutionDownBy?: number;
  active?: boolean;
  maxBitrate?: number;
}

export interface TransceiverInitLike {
  direction?: 'sendonly' | 'sendrecv' | 'recvonly' | 'inactive' | 'stopped';
  streams?: MediaStreamLike[];
  sendEncodings?: SendEncodingLike[];
}

export interface TrackEventLike {
  readonly track: MediaStreamTrackLike;
  readonly streams: readonly MediaStreamLike[];
  readonly transceiver: { readonly mid: string | null };
  /** The `RTCRtpReceiver` (for an encoded-frame transform). */
  readonly receiver?: unknown;
}

export interface PeerConnectionLike {
  readonly connectionState: string;
  readonly localDescription: SessionDescriptionLike | null;
  readonly remoteDescription: SessionDescriptionLike | null;
  onicecandidate: Handler<{ candidate: IceCandidateLike | null }>;
  onconnectionstatechange: Handler<unknown>;
  ondatachannel: Handler<{ channel: DataChannelLike }>;
  ontrack: Handler<TrackEventLike>;
  addTransceiver(track: MediaStreamTrackLike | string, init?: TransceiverInitLike): unknown;
  createDataChannel(label: string, init?: Record<string, unknown>): DataChannelLike;
  createOffer(): Promise<SessionDescriptionLike>;
  createAnswer(): Promise<SessionDescriptionLike>;
  setLocalDescription(d?: SessionDescriptionLike): Promise<void>;
  setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  addIceCandidate(c?: {
    candidate: string;
    sdpMid?: string | null;
    sdpMLineIndex?: number | null;
    usernameFragment?: string | null;
  }): Promise<void>;
  getStats(): Promise<{ forEach(cb: (report: Record<string, unknown>) => void): void }>;
  close(): void;
}

export interface MediaDevicesLike {
  getUserMedia(constraints: {
    audio: boolean | Record<string, unknown>;
    video: boolean | Record<string, unknown>;
  }): Promise<MediaStreamLike>;
}

/**
 * The parts of the browser's WebRTC and media API the client uses, as structural types: client/ compiles without
 * the DOM library (it runs in Node too), and a browser's `RTCPeerConnection`, `MediaStream` and
 * `MediaStreamTrack` fit these shapes as they are.
 */

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
  readonly type: string;
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
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
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
  direction?: 'sendonly' | 'sendrecv' | 'recvonly' | 'inactive';
  streams?: MediaStreamLike[];
  sendEncodings?: SendEncodingLike[];
}

export interface TrackEventLike {
  readonly track: MediaStreamTrackLike;
  readonly streams: readonly MediaStreamLike[];
  readonly transceiver: { readonly mid: string | null };
}

export interface PeerConnectionLike {
  readonly connectionState: string;
  readonly localDescription: SessionDescriptionLike | null;
  readonly remoteDescription: SessionDescriptionLike | null;
  onicecandidate: ((ev: { candidate: IceCandidateLike | null }) => void) | null;
  onconnectionstatechange: ((ev: unknown) => void) | null;
  ondatachannel: ((ev: { channel: DataChannelLike }) => void) | null;
  ontrack: ((ev: TrackEventLike) => void) | null;
  addTransceiver(track: MediaStreamTrackLike, init?: TransceiverInitLike): unknown;
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

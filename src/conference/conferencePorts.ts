/**
 * What a conference reaches outside itself, as ports: objects with methods, never closures, so a conference can
 * later run on a worker thread with the other side of each port on the main thread. Types only.
 *
 * - MediaPort / PeerPort: the media layer (src/media) as the conference uses it; `Peer` and `MediaLayer`
 *   satisfy them structurally. TrackSourcePort and ForwardedTrackPort are the narrow views of a published
 *   track (today's PublishedTrack) and of a forwarded one (DownTrack).
 * - ConferenceMetricsPort: the conference's counters (ConferenceMetrics implements it over prom-client).
 * - ConferenceHost (host.ts): what the conference tells its owner.
 * The membership port (MembershipOracle, synchronous over the pure store) and the SignallingPort are in ports.ts.
 */
import type { IceCandidateInit, RemoteMediaTrack } from '../protocol/sdp.js';
import type { Dialect } from '../protocol/dc/types.js';
import type { LayerTable } from '../simulcast/layerTable.js';

/** A track a client publishes, as the router uses it (PublishedTrack implements it). */
export interface TrackSourcePort {
  readonly kind: 'audio' | 'video';
  readonly closed: boolean;
  /** The layers, lowest quality first (ids, rids, sizes): what a link announces of a local track (§8.2). */
  selectable(): LayerTable;
  setMuted(muted: boolean): void;
  setDeclaredSize(size: { width: number; height: number } | undefined): void;
  /** Loudness since the last call (RFC 6464 levels: sum over packets, packet count). */
  takeLoudness(): { sum: number; count: number };
}

/** A published track forwarded to one subscriber (DownTrack implements it). */
export interface ForwardedTrackPort {
  readonly closed: boolean;
  /** Set by the conference; the media layer calls it once when the forwarding ends on its own. */
  onEnded: (() => void) | undefined;
  setRequested(width: number, height: number, now: number): void;
  /** The layer ids being forwarded and a pending switch's target (/status). */
  usedLayers(): { current: number | undefined; target: number | undefined };
  /** What the forwarding sends, bytes per second over its last window (/status). */
  readonly rateBytesPerS: number;
}

/** An opaque forwarding m-line of a subscriber's peer (an RTCRtpTransceiver for werift). */
export type ForwardingSlot = object;

export interface PeerPortEvents {
  state: ['new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed'];
  dcopen: [];
  dcmessage: [string | Uint8Array];
  /** The client's RTCP feedback went past its flood bound (emitted once): the session is hung up. */
  flood: [];
}

/** One client's peer connection, as the conference drives it (src/media/peer.ts). */
export interface PeerPort {
  /** Applies a remote offer; returns the answer SDP. Rejects when the offer cannot be applied. */
  answer(offerSdp: string): Promise<string>;
  /** Creates and applies a local offer (SFU-initiated renegotiation). */
  offer(): Promise<string>;
  acceptAnswer(sdp: string): Promise<void>;
  rollback(): Promise<void>;
  /** The tracks of the current remote description (parses SDP: call when a description was applied). */
  remoteTracks(): RemoteMediaTrack[];
  /** The published track on m-line `mid`, once its offer is applied. */
  publishedTrack(mid: string): TrackSourcePort | undefined;
  addForwardingTransceiver(kind: 'audio' | 'video', streamId: string, trackId: string): ForwardingSlot;
  forward(slot: ForwardingSlot, source: TrackSourcePort, width: number, height: number): ForwardedTrackPort;
  stopForwarding(track: ForwardedTrackPort): void;
  releaseForwardingTransceiver(slot: ForwardingSlot): void;
  localCandidates(): IceCandidateInit[];
  addRemoteCandidate(c: {
    candidate: string;
    sdpMid?: string;
    sdpMLineIndex?: number;
    usernameFragment?: string;
  }): Promise<void>;
  /** A text frame on the signalling data channel; false if it is not open. */
  send(text: string): boolean;
  close(): Promise<void>;
  on<K extends keyof PeerPortEvents>(event: K, listener: (...args: PeerPortEvents[K]) => void): unknown;
}

export interface MediaPort {
  /** A new peer for a client offer (throws when none can be created). */
  createPeer(offerSdp: string): PeerPort;
}

export type InviteResult = 'accepted' | 'renegotiated' | 'replaced' | 'duplicate' | 'refused' | 'failed';
export type RenegotiationInitiator = 'sfu' | 'client';

export interface ConferenceMetricsPort {
  invite(result: InviteResult): void;
  sessionEnded(reason: string): void;
  iceConnected(seconds: number): void;
  dcMessage(dialect: Dialect | 'unknown', kind: string, result: 'ok' | 'error'): void;
  renegotiation(initiator: RenegotiationInitiator, result: string): void;
  /** Liveness gave up on a link (§8.7): `sfu_link_relinks_total{reason}`. */
  linkRelink(reason: string): void;
  /** A link peer closed: its final RTP counters go into `sfu_link_rtp_packets_total`. */
  linkPeerClosed(rtpIn: number, rtpOut: number): void;
}

/** A conference as its owner knows it; `instance` tells two conferences of the same key apart. */
export interface ConferenceRef {
  readonly roomId: string;
  readonly confId: string;
  readonly instance: number;
}

/** The addressing of one session (protocol.md §4.2: sender, device_id, call_id, sender_session_id). */
export interface SessionRef {
  readonly userId: string;
  readonly deviceId: string;
  readonly callId: string;
  readonly senderSessionId: string;
}

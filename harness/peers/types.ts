/**
 * One small interface over three real WebRTC client implementations (werift, @roamhq/wrtc, Chromium through
 * playwright-core), so tests can play a Matrix call client's peer connection with any of them. Every peer uses
 * no STUN/TURN server and announces only loopback (127.0.0.1, UDP) candidates; signalling is trickle ICE:
 * returned SDPs carry no `a=candidate` lines, candidates come through `onCandidate`.
 */

export type PeerKind = 'werift' | 'wrtc' | 'chromium';

export interface OfferOptions {
  /** Create the (signalling) data channel in this offer; a string is its label (default `datachannel`). */
  dataChannel?: boolean | string;
  /** Add one outgoing audio track (a real source where the implementation has one). */
  audio?: boolean;
  /** Add one outgoing video track; `simulcast: true` sends RIDs `q`/`h`/`f` (scale 4/2/1). */
  video?: boolean | { simulcast: boolean };
}

/** A remote candidate as it arrives in `m.call.candidates`; `candidate: ""` marks the end of candidates. */
export interface RemoteCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** A local candidate to send; the last one a peer emits has `candidate: ""`. */
export interface LocalCandidate {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
}

export interface TestPeer {
  readonly kind: PeerKind;
  /** Adds tracks/transceivers and the data channel, returns the offer SDP (trickle: candidates come via onCandidate). */
  createOffer(opts: OfferOptions): Promise<string>;
  setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  /** Answers the remote offer set last (SFU-initiated renegotiation, or a peer-to-peer answerer). */
  createAnswer(): Promise<string>;
  /** `candidate: ""` = end of candidates. */
  addIceCandidate(c: RemoteCandidate): Promise<void>;
  /** Candidates gathered before a callback was registered are replayed to it; `""` comes last. */
  onCandidate(cb: (c: LocalCandidate) => void): void;
  /** ICE + DTLS connected (connectionState `connected`); rejects on `failed`/`closed` or timeout. */
  waitConnected(timeoutMs: number): Promise<void>;
  /** The signalling channel: the one this peer created, else the first one the remote opened. */
  waitDataChannelOpen(timeoutMs: number): Promise<void>;
  /** Throws unless the data channel is open. */
  sendData(text: string): void;
  /** Messages received before the first callback are delivered to it; later callbacks see only new ones. */
  onData(cb: (text: string) => void): void;
  connectionState(): string;
  /** Idempotent; stops every source and timer and releases sockets (and, for Chromium, the page). */
  close(): Promise<void>;
}

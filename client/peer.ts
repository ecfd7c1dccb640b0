/**
 * The WebRTC peer connection the client drives, as an interface: the client never creates one itself, so the same
 * code runs with a browser's RTCPeerConnection wrapper, werift, @roamhq/wrtc or headless Chromium. Signalling is
 * trickle ICE: the SDPs a peer returns carry no `a=candidate` lines, its candidates come through `onCandidate`.
 */

export interface OfferOptions {
  /** Create the (signalling) data channel in this offer; a string is its label (default `datachannel`). */
  dataChannel?: boolean | string;
  /** Add one outgoing audio track. */
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

export interface CallPeer {
  /** Adds tracks/transceivers and the data channel, returns the offer SDP (trickle: candidates come via onCandidate). */
  createOffer(opts: OfferOptions): Promise<string>;
  setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  /** Answers the remote offer set last (SFU-initiated renegotiation). */
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
  /** Idempotent; stops every source and timer and releases the connection. */
  close(): Promise<void>;
}

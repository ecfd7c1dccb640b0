/**
 * The media side of a link between two foci (protocol.md §8.2–§8.6) as the conference drives it: one peer
 * connection with an audio and a video *carrier* m-line and the link's data channel; relayed tracks received
 * under trunk SSRCs (each a simulcast publisher to this focus's subscribers); local tracks sent on the trunk
 * verbatim per layer. src/media/link implements it; the conference only sees these ports. Types only.
 */
import type { IceCandidateInit } from '../protocol/sdp.js';
import type { TrackSourcePort } from './conferencePorts.js';

/** One layer of a relayed video track on the trunk (link metadata, §8.2), lowest quality first. */
export interface TrunkLayer {
  readonly rid: string;
  readonly ssrc: number;
  /** 0 or absent: unknown. */
  readonly width?: number;
  readonly height?: number;
}

/** A track the remote focus relays to this one (from its link metadata). */
export interface RemoteTrunkTrack {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  /** Audio: the trunk SSRC. */
  readonly ssrc?: number;
  /** Video: the layers, lowest first. */
  readonly layers?: readonly TrunkLayer[];
}

/** What the receiving focus's subscribers use of one relayed track now (§8.3), as rids of its trunk layers. */
export interface RelayedDemand {
  readonly streamId: string;
  readonly trackId: string;
  /** Video: rids demanded (never empty while the track has subscribers); audio: empty. */
  readonly rids: readonly string[];
}

/** A local track's layer as sent on the trunk: the source's layer id, the rid announced and its trunk SSRC. */
export interface TrunkSendLayer {
  readonly layerId: number;
  readonly rid: string;
  readonly ssrc: number;
}

/** One local track sent on the trunk (created on the first `subscribe` for it, closed on `unsubscribe`). */
export interface TrunkSendPort {
  readonly closed: boolean;
  /**
   * The rids to send now (video; audio ignores it). A newly added layer starts with a coalesced keyframe
   * request to the publisher (§8.3).
   */
  setLayers(rids: readonly string[]): void;
  /** The rids actually being sent (after the trunk budget, §8.5). */
  readonly sending: readonly string[];
  close(): void;
}

/** One local track sent on the trunk as the status document shows it (§8.3, §8.5). */
export interface TrunkSendStatus {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  /** Video: the rids the remote focus demands, lowest first (audio: empty). */
  readonly demanded: readonly string[];
  /** Video: the rids sent now, after the trunk budget (audio: empty). */
  readonly sending: readonly string[];
}

export interface LinkPeerEvents {
  state: ['new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed'];
  dcopen: [];
  dcmessage: [string | Uint8Array];
  /** The sending budget paused or resumed layers of a sent track (§8.5): announce `layers` at once. */
  layers: [{ streamId: string; trackId: string; sending: readonly string[] }];
  /** The remote focus's RTCP feedback went past its flood bound (media/feedbackBudget.ts); emitted once. */
  flood: [];
}

export interface LinkStats {
  rtpIn: number;
  rtpOut: number;
  bytesIn: number;
  bytesOut: number;
  /** The receive-side estimate of the trunk toward this focus (bit/s), undefined before one. */
  estimateBps: number | undefined;
  /** The send budget min(remote estimate, cap) (bit/s). */
  budgetBps: number;
  /** When RTP or RTCP last arrived on the link (ms, injected clock); undefined before any. */
  lastMediaAt: number | undefined;
}

/** One link's peer connection (src/media/link). Methods never throw on bad remote input; they log once. */
export interface LinkPeerPort {
  /** Initiator: creates and applies the offer (two carrier m-lines + the data channel). */
  offer(): Promise<string>;
  /** Invitee: applies the offer, returns the answer. Rejects when the offer cannot be applied. */
  answer(offerSdp: string): Promise<string>;
  acceptAnswer(sdp: string): Promise<void>;
  /** An ICE-restart offer (§8.7), applied locally; the answer comes back through `acceptAnswer`. */
  restartIce(): Promise<string>;
  localCandidates(): IceCandidateInit[];
  addRemoteCandidate(c: {
    candidate: string;
    sdpMid?: string;
    sdpMLineIndex?: number;
    usernameFragment?: string;
  }): Promise<void>;
  /** A text frame on the link's data channel; false if it is not open. */
  send(text: string): boolean;

  // --- receiving: relayed tracks -------------------------------------------------------------------
  /**
   * The remote focus's relayed tracks, the whole set (the metadata the conference accepted): new ones get a
   * relayed source, changed SSRCs are re-announced to the ingest (rebinding keeps the source), missing ones
   * close (their subscribers see the track end).
   */
  setRemoteTracks(tracks: readonly RemoteTrunkTrack[]): void;
  /** The relayed source of a remote track: to subscribers a simulcast publisher (media/track.ts TrackSource). */
  relayedSource(streamId: string, trackId: string): TrackSourcePort | undefined;
  /** Layers the sender is sending now (§8.5 `layers`); others are not selectable until resumed. */
  setRemoteSending(streamId: string, trackId: string, rids: readonly string[]): void;
  /** What local subscribers use of each relayed track with at least one subscriber (the §8.3 union, 2 s hold). */
  demand(now: number): RelayedDemand[];
  /** Keyframe requests for every relayed video track (after a relink or resume). */
  requestKeyframes(): void;
  /**
   * A relink (§8.7): moves the relayed sources of `old` (a previous call to the same focus) to this peer with
   * their subscribers attached; they rebind by `(stream_id, track_id)` at the next `setRemoteTracks`. Closing
   * `old` afterwards leaves them open.
   */
  adoptRelayed(old: LinkPeerPort): void;

  // --- sending: local tracks on the trunk -----------------------------------------------------------
  /** Starts relaying a local track: audio under `audioSsrc`, video under its `layers`. */
  sendTrack(
    source: TrackSourcePort,
    streamId: string,
    trackId: string,
    trunk: { audioSsrc?: number; layers?: readonly TrunkSendLayer[] },
  ): TrunkSendPort;

  /** The local tracks sent on the trunk now, with their demanded and sent layers (status, diagnostics). */
  trunkSends(): TrunkSendStatus[];

  stats(): LinkStats;
  close(): Promise<void>;
  on<K extends keyof LinkPeerEvents>(event: K, listener: (...args: LinkPeerEvents[K]) => void): unknown;
}

export interface LinkMediaPort {
  /** A new link peer; `maxLinkBps` caps its send budget (`cascade.max_link_bps`). */
  createLinkPeer(opts: { maxLinkBps: number }): LinkPeerPort;
}

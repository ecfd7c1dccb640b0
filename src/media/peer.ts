/**
 * One SFU-side WebRTC peer connection (werift): answers the client's offer, exposes its candidates for
 * trickling (announced IPs applied), buffers remote candidates until the remote description is set,
 * adopts the FIRST data channel the client opens as the signalling channel (later ones are ignored),
 * reports connection state, and closes idempotently (its UDP ports are released).
 */
import { RTCPeerConnection, type RTCDataChannel, type RTCRtpTransceiver } from 'werift';
import type { MediaConfig } from '../config/types.js';
import {
  announceCandidate,
  announceSdp,
  extractCandidates,
  hasBundleGroup,
  mediaSections,
  offerProblem,
  remoteMediaTracks,
  type IceCandidateInit,
  type RemoteMediaTrack,
} from '../protocol/sdp.js';
import { InvalidStateError, toError } from '../util/errors.js';
import { TypedEmitter } from '../util/events.js';
import type { DownTrack } from './downTrack.js';
import { alignExtensionIds } from './extensionIds.js';
import { keepSimulcastInOffer } from './offerSimulcast.js';
import './noDefaultStun.js'; // no STUN request to werift's default public server (see the module)
import { PeerMedia, type MediaContext } from './peerMedia.js';
import type { PublishedTrack } from './publishedTrack.js';
import type { TrackSource } from './track.js';

export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export type PeerEvents = {
  /** Connection state changes (ICE + DTLS). */
  state: [PeerState];
  /** The signalling data channel opened. */
  dcopen: [];
  /** A text frame (or a binary one, as a Buffer) on the signalling channel. */
  dcmessage: [string | Buffer];
  dcclose: [];
  /** The peer's RTCP feedback went past its flood bound (media/feedbackBudget.ts); emitted once. */
  flood: [];
  closed: [];
  listenererror: [string, Error];
};

export class PeerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PeerError';
  }
}

export interface RemoteCandidate {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
  usernameFragment?: string;
}

export class Peer extends TypedEmitter<PeerEvents> {
  readonly #pc: RTCPeerConnection;
  readonly #announced: readonly string[];
  /** The local SDP last sent (answer, or offer with simulcast lines restored): where the next offer restores them from. */
  #sentLocal: string | undefined;
  readonly #media: PeerMedia;
  #remoteSet = false;
  #pending: RemoteCandidate[] = [];
  #dc: RTCDataChannel | undefined;
  #state: PeerState = 'new';
  #closed = false;
  readonly #closedAt: Promise<void>;
  #resolveClosed!: () => void;

  private constructor(pc: RTCPeerConnection, announced: readonly string[], ctx: MediaContext) {
    super();
    this.#pc = pc;
    this.#announced = announced;
    this.#media = new PeerMedia(pc, ctx);
    this.#media.onFlood = () => {
      this.safeEmit('flood');
    };
    this.#closedAt = new Promise((r) => {
      this.#resolveClosed = r;
    });
    pc.connectionStateChange.subscribe((s) => {
      this.#setState(s);
    });
    pc.onDataChannel.subscribe((dc) => {
      this.#adopt(dc);
    });
  }

  /** Creates a peer for an offer. BUNDLE is used only if the offer bundles. */
  static create(
    media: MediaConfig,
    offerSdp: string,
    makePc: (bundle: boolean) => RTCPeerConnection,
    ctx: MediaContext,
  ): Peer {
    return new Peer(makePc(hasBundleGroup(offerSdp)), media.announced_ips, ctx);
  }

  get state(): PeerState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get dataChannelOpen(): boolean {
    return this.#dc?.readyState === 'open';
  }

  /** Applies a remote offer and returns the answer SDP (candidates included, announced IPs applied). */
  async answer(offerSdp: string): Promise<string> {
    this.#assertOpen();
    const current = mediaSections(this.#pc.remoteDescription?.sdp ?? '').length;
    const problem = offerProblem(offerSdp, current);
    if (problem !== undefined) {
      throw new PeerError(`cannot apply offer: ${problem}`);
    }
    try {
      await this.#pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      this.#remoteSet = true;
      this.#media.sync(this.remoteTracks());
      await this.#flushCandidates();
      const answer = await this.#pc.createAnswer();
      await this.#pc.setLocalDescription(answer);
    } catch (e) {
      throw new PeerError(`cannot apply offer: ${toError(e).message}`, { cause: e });
    }
    const local = this.#pc.localDescription;
    if (local === null) {
      throw new PeerError('no local description after createAnswer');
    }
    this.#sentLocal = local.sdp;
    return announceSdp(local.sdp, this.#announced);
  }

  get signalingState(): string {
    return this.#pc.signalingState;
  }

  /** The tracks the remote description sends (msid stream/track ids per m-line). */
  remoteTracks(): RemoteMediaTrack[] {
    const sdp = this.#pc.remoteDescription?.sdp;
    return sdp === undefined ? [] : remoteMediaTracks(sdp);
  }

  /**
   * A sendonly transceiver that forwards a publisher's track: its `a=msid` carries the publisher's stream and
   * track ids (protocol.md §6). An inactive transceiver of the same kind is reused before a new one is added.
   */
  addForwardingTransceiver(kind: 'audio' | 'video', streamId: string, trackId: string): RTCRtpTransceiver {
    this.#assertOpen();
    const reusable = this.#pc
      .getTransceivers()
      .find(
        (t) =>
          t.kind === kind && t.direction === 'inactive' && t.sender.streamIds.length === 0 && t.mid !== null,
      );
    const tr = reusable ?? this.#pc.addTransceiver(kind, { direction: 'sendonly' });
    tr.setDirection('sendonly');
    Object.defineProperty(tr.sender, 'trackId', {
      value: trackId,
      writable: true,
      configurable: true,
      enumerable: true,
    });
    tr.sender.streamIds = [streamId];
    return tr;
  }

  /** The track the client publishes on m-line `mid` (undefined until that offer is applied). */
  publishedTrack(mid: string): PublishedTrack | undefined {
    return this.#media.published(mid);
  }

  /** Starts forwarding a published track (of any peer) on one of this peer's forwarding transceivers. */
  forward(tr: RTCRtpTransceiver, track: TrackSource, width: number, height: number): DownTrack {
    this.#assertOpen();
    return this.#media.forward(tr, track, width, height);
  }

  stopForwarding(dt: DownTrack): void {
    this.#media.stopForwarding(dt);
  }

  /** The media side (published and forwarded tracks), for stats and tests. */
  get media(): PeerMedia {
    return this.#media;
  }

  /** Stops forwarding on a transceiver (direction inactive; the m-line stays for reuse). */
  releaseForwardingTransceiver(tr: RTCRtpTransceiver): void {
    tr.setDirection('inactive');
    tr.sender.streamIds = [];
  }

  /** Creates and applies a local offer (SFU-initiated renegotiation); returns its SDP. */
  async offer(): Promise<string> {
    this.#assertOpen();
    alignExtensionIds(this.#pc.getTransceivers(), this.#pc.config.headerExtensions);
    const previous = this.#sentLocal ?? this.#pc.localDescription?.sdp;
    const offer = await this.#pc.createOffer();
    await this.#pc.setLocalDescription(offer);
    const local = this.#pc.localDescription;
    if (local === null) {
      throw new PeerError('no local description after createOffer');
    }
    this.#sentLocal = keepSimulcastInOffer(local.sdp, previous);
    return announceSdp(this.#sentLocal, this.#announced);
  }

  /** Applies the remote answer to our offer. */
  async acceptAnswer(sdp: string): Promise<void> {
    this.#assertOpen();
    try {
      await this.#pc.setRemoteDescription({ type: 'answer', sdp });
      this.#media.sync(this.remoteTracks());
    } catch (e) {
      throw new PeerError(`cannot apply answer: ${toError(e).message}`, { cause: e });
    }
  }

  /** Rolls back our pending local offer (glare: the SFU is the polite peer). */
  async rollback(): Promise<void> {
    if (this.#pc.signalingState === 'have-local-offer') {
      await this.#pc.setLocalDescription({ type: 'rollback' });
    }
  }

  /** The local candidates (from the local description), announced IPs applied. */
  localCandidates(): IceCandidateInit[] {
    const sdp = this.#pc.localDescription?.sdp ?? '';
    const out: IceCandidateInit[] = [];
    for (const c of extractCandidates(sdp)) {
      for (const candidate of announceCandidate(c.candidate, this.#announced)) {
        out.push({ ...c, candidate });
      }
    }
    return out;
  }

  /** Adds a remote candidate; buffered until the remote description is set. "" (end) is accepted and ignored. */
  async addRemoteCandidate(c: RemoteCandidate): Promise<void> {
    if (this.#closed) {
      return;
    }
    if (c.candidate === '') {
      return;
    }
    if (!this.#remoteSet) {
      this.#pending.push(c);
      return;
    }
    await this.#addCandidate(c);
  }

  /** Sends a text frame on the signalling channel; false if it is not open. */
  send(text: string): boolean {
    const dc = this.#dc;
    if (dc?.readyState !== 'open') {
      return false;
    }
    dc.send(text);
    return true;
  }

  whenClosed(): Promise<void> {
    return this.#closedAt;
  }

  async close(): Promise<void> {
    if (this.#closed) {
      return this.#closedAt;
    }
    this.#closed = true;
    this.#pending = [];
    this.#media.close();
    try {
      await this.#pc.close();
    } catch {
      // Closing is best-effort; the ports are released either way.
    }
    this.#setState('closed');
    this.safeEmit('closed');
    this.#resolveClosed();
    this.removeAllListeners();
    return this.#closedAt;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new InvalidStateError('peer is closed');
    }
  }

  async #flushCandidates(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    for (const c of pending) {
      await this.#addCandidate(c);
    }
  }

  async #addCandidate(c: RemoteCandidate): Promise<void> {
    try {
      await this.#pc.addIceCandidate({
        candidate: c.candidate,
        ...(c.sdpMid !== undefined ? { sdpMid: c.sdpMid } : {}),
        ...(c.sdpMLineIndex !== undefined ? { sdpMLineIndex: c.sdpMLineIndex } : {}),
        ...(c.usernameFragment !== undefined ? { usernameFragment: c.usernameFragment } : {}),
      });
    } catch {
      // A bad or foreign candidate is not fatal: ICE uses the others.
    }
  }

  #adopt(dc: RTCDataChannel): void {
    if (this.#dc !== undefined || this.#closed) {
      return; // only the first channel carries signalling (protocol.md §5.1)
    }
    this.#dc = dc;
    dc.onMessage.subscribe((data) => {
      this.safeEmit('dcmessage', data);
    });
    dc.stateChanged.subscribe((s) => {
      if (s === 'open') {
        this.safeEmit('dcopen');
      } else if (s === 'closed') {
        this.safeEmit('dcclose');
      }
    });
    if (dc.readyState === 'open') {
      this.safeEmit('dcopen');
    }
  }

  #setState(s: PeerState): void {
    if (this.#state === s || (this.#state === 'closed' && s !== 'closed')) {
      return;
    }
    this.#state = s;
    this.safeEmit('state', s);
  }
}

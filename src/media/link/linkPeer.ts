/**
 * One link's peer connection (protocol.md §8.1, §8.2): a werift RTCPeerConnection (the SFU's media config, no
 * default STUN, announced IPs applied to the SDP and candidates) with ONE audio and ONE video *carrier*
 * transceiver (sendrecv, BUNDLE, RTCP-mux, the SFU's codecs; linkConfig.ts) and the link's data channel —
 * created by the offerer, adopted by the answerer as the first incoming one. Offer / answer / ICE-restart
 * offer, remote candidates buffered until the remote description is set ("" ignored), state events,
 * idempotent close. The media side (relayed tracks, trunk sends, per-hop RTCP) is linkMedia.ts.
 * Implements the conference's LinkPeerPort structurally (src/conference/linkPorts.ts).
 */
import { RTCPeerConnection, type RTCDataChannel, type RTCRtpTransceiver } from 'werift';
import type { MediaConfig } from '../../config/types.js';
import {
  announceCandidate,
  announceSdp,
  extractCandidates,
  mediaSections,
  type IceCandidateInit,
} from '../../protocol/sdp.js';
import { InvalidStateError, toError } from '../../util/errors.js';
import { TypedEmitter } from '../../util/events.js';
import '../noDefaultStun.js'; // no STUN request to werift's default public server
import type { MediaContext } from '../peerMedia.js';
import type { PublishedTrack } from '../publishedTrack.js';
import type { TrackSource } from '../track.js';
import { IceRecheck } from './iceRecheck.js';
import { linkOfferProblem, linkPeerConfig } from './linkConfig.js';
import { LinkMedia } from './linkMedia.js';
import { TrunkCcLink } from './trunkCcLink.js';
import type { TrunkSend } from './trunkSender.js';
import type {
  LinkCongestionControl,
  LinkPeerEvents,
  LinkPeerOptions,
  LinkState,
  LinkStats,
  RelayedDemand,
  RemoteTrunkTrack,
  TrunkSendLayer,
  TrunkSendStatus,
} from './types.js';

export class LinkPeerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LinkPeerError';
  }
}

/** The label of the link's data channel (any label works: the answerer adopts the first channel). */
export const LINK_DC_LABEL = 'sfu-link';

export interface RemoteCandidate {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
  usernameFragment?: string;
}

/** A send that never started (closed link, a relayed source, not a track source): closed from the start. */
const DEAD_SEND = {
  closed: true,
  sending: [] as readonly string[],
  setLayers: (): void => undefined,
  close: (): void => undefined,
};

function isTrackSource(x: unknown): x is TrackSource {
  const s = x as Partial<TrackSource> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.addSink === 'function' &&
    typeof s.removeSink === 'function' &&
    typeof s.requestKeyframe === 'function' &&
    typeof s.senderClock === 'function'
  );
}

export class LinkPeer extends TypedEmitter<LinkPeerEvents> {
  readonly #pc: RTCPeerConnection;
  readonly #announced: readonly string[];
  readonly #ctx: MediaContext;
  readonly #media: LinkMedia;
  readonly #recheck: IceRecheck;
  #remoteSet = false;
  #pending: RemoteCandidate[] = [];
  #dc: RTCDataChannel | undefined;
  #state: LinkState = 'new';
  #closed = false;
  readonly #closedAt: Promise<void>;
  #resolveClosed!: () => void;

  constructor(media: MediaConfig, ctx: MediaContext, opts: LinkPeerOptions) {
    super();
    this.#ctx = ctx;
    this.#announced = media.announced_ips;
    this.#pc = new RTCPeerConnection(linkPeerConfig(media));
    const carriers: Record<'audio' | 'video', RTCRtpTransceiver> = {
      audio: this.#pc.addTransceiver('audio', { direction: 'sendrecv' }),
      video: this.#pc.addTransceiver('video', { direction: 'sendrecv' }),
    };
    this.#media = new LinkMedia(ctx, carriers, opts, (send) => {
      this.safeEmit('layers', { streamId: send.streamId, trackId: send.trackId, sending: send.sending });
    });
    this.#media.onFlood = () => {
      this.safeEmit('flood');
    };
    this.#recheck = new IceRecheck(ctx.clock, (e) => {
      ctx.log.warn({ err: toError(e) }, 'link: ICE re-check failed');
    });
    const linkMedia = this.#media;
    linkMedia.setCongestionControl(
      new TrunkCcLink({
        maxLinkBps: opts.maxLinkBps,
        startBps: opts.maxLinkBps,
        sends: () => linkMedia.sends(),
        clock: ctx.clock,
      }),
    );
    this.#closedAt = new Promise((r) => {
      this.#resolveClosed = r;
    });
    this.#pc.connectionStateChange.subscribe((s) => {
      this.#setState(s);
    });
    this.#pc.onDataChannel.subscribe((dc) => {
      this.#adopt(dc);
    });
  }

  get state(): LinkState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get dataChannelOpen(): boolean {
    return this.#dc?.readyState === 'open';
  }

  /** The media side (tests, congestion control). */
  get media(): LinkMedia {
    return this.#media;
  }

  /** Initiator: creates and applies the offer (two carrier m-lines + the data channel). */
  async offer(): Promise<string> {
    this.#assertOpen();
    if (this.#dc === undefined) {
      this.#adopt(this.#pc.createDataChannel(LINK_DC_LABEL));
    }
    return this.#localOffer(false);
  }

  /** An ICE-restart offer (§8.7), applied locally; the answer comes back through `acceptAnswer`. */
  async restartIce(): Promise<string> {
    this.#assertOpen();
    return this.#localOffer(true);
  }

  /** Invitee: applies the offer, returns the answer. Rejects when the offer cannot be applied. */
  async answer(offerSdp: string): Promise<string> {
    this.#assertOpen();
    const current = mediaSections(this.#pc.remoteDescription?.sdp ?? '').length;
    const problem = linkOfferProblem(offerSdp, current);
    if (problem !== undefined) {
      throw new LinkPeerError(`cannot apply link offer: ${problem}`);
    }
    try {
      await this.#pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      this.#remoteSet = true;
      await this.#flushCandidates();
      await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    } catch (e) {
      throw new LinkPeerError(`cannot apply link offer: ${toError(e).message}`, { cause: e });
    }
    this.#media.negotiated();
    this.#resumeIceAfterRestart();
    return this.#localSdp();
  }

  async acceptAnswer(sdp: string): Promise<void> {
    this.#assertOpen();
    try {
      await this.#pc.setRemoteDescription({ type: 'answer', sdp });
      this.#remoteSet = true;
      await this.#flushCandidates();
    } catch (e) {
      throw new LinkPeerError(`cannot apply link answer: ${toError(e).message}`, { cause: e });
    }
    this.#media.negotiated();
    this.#resumeIceAfterRestart();
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

  /** Adds a remote candidate; buffered until the remote description is set. "" (end) is ignored. */
  async addRemoteCandidate(c: RemoteCandidate): Promise<void> {
    if (this.#closed || c.candidate === '') {
      return;
    }
    if (!this.#remoteSet) {
      this.#pending.push(c);
      return;
    }
    await this.#addCandidate(c);
  }

  /** A text frame on the link's data channel; false if it is not open. */
  send(text: string): boolean {
    const dc = this.#dc;
    if (dc?.readyState !== 'open') {
      return false;
    }
    dc.send(text);
    return true;
  }

  // --- receiving: relayed tracks -----------------------------------------------------------------------

  setRemoteTracks(tracks: readonly RemoteTrunkTrack[]): void {
    if (!this.#closed) {
      this.#media.relayed.set(tracks);
    }
  }

  relayedSource(streamId: string, trackId: string): PublishedTrack | undefined {
    return this.#media.relayed.get(streamId, trackId);
  }

  setRemoteSending(streamId: string, trackId: string, rids: readonly string[]): void {
    this.#media.relayed.setSending(streamId, trackId, rids);
  }

  demand(now: number): RelayedDemand[] {
    return this.#media.relayed.demand(now);
  }

  requestKeyframes(): void {
    this.#media.relayed.requestKeyframes();
  }

  /** A relink (§8.7): takes the relayed tracks of `old` (another LinkPeer) with their subscribers. */
  adoptRelayed(old: unknown): void {
    if (!(old instanceof LinkPeer) || old === this) {
      this.#ctx.log.error('link: adoptRelayed needs another LinkPeer');
      return;
    }
    if (!this.#closed) {
      this.#media.relayed.adoptFrom(old.#media.relayed);
    }
  }

  // --- sending: local tracks on the trunk ------------------------------------------------------------

  sendTrack(
    source: unknown,
    streamId: string,
    trackId: string,
    trunk: { audioSsrc?: number; layers?: readonly TrunkSendLayer[] },
  ): TrunkSend | typeof DEAD_SEND {
    if (!isTrackSource(source)) {
      this.#ctx.log.error({ streamId, trackId }, 'link: sendTrack needs a media track source');
      return DEAD_SEND;
    }
    return this.#media.sendTrack(source, streamId, trackId, trunk) ?? DEAD_SEND;
  }

  /** Trunk congestion control (§8.5) plugs in here (types.ts LinkCongestionControl). */
  setCongestionControl(cc: LinkCongestionControl | undefined): void {
    this.#media.setCongestionControl(cc);
  }

  /**
   * Trunk packets per SSRC: sent by this focus (its trunk sends, retransmissions excluded) and received from
   * the remote one (routes of this link). For tests and diagnostics (§8.3: only demanded layers cross).
   */
  trunkCounters(): { sent: Map<number, number>; received: Map<number, number> } {
    const sent = new Map<number, number>();
    for (const s of this.#media.sends()) {
      for (const o of s.outs()) {
        sent.set(o.ssrc, o.packets);
      }
    }
    return { sent, received: this.#media.relayed.receivedBySsrc() };
  }

  trunkSends(): TrunkSendStatus[] {
    return this.#media.sends().map((s) => ({
      streamId: s.streamId,
      trackId: s.trackId,
      kind: s.kind,
      demanded: s.kind === 'audio' ? [] : s.demanded,
      sending: s.sending,
    }));
  }

  stats(): LinkStats {
    return this.#media.stats();
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
    this.#recheck.stop();
    this.#media.close();
    try {
      await this.#pc.close();
    } catch {
      // best-effort; the ports are released either way
    }
    this.#setState('closed');
    this.#resolveClosed();
    this.removeAllListeners();
    return this.#closedAt;
  }

  async #localOffer(iceRestart: boolean): Promise<string> {
    await this.#pc.setLocalDescription(await this.#pc.createOffer({ iceRestart }));
    return this.#localSdp();
  }

  #localSdp(): string {
    const local = this.#pc.localDescription;
    if (local === null) {
      throw new LinkPeerError('no local description');
    }
    return announceSdp(local.sdp, this.#announced);
  }

  /**
   * werift 0.24.4 runs ICE checks only while DTLS is not yet connected (RTCPeerConnection.connect), so after an
   * ICE restart of a connected link nothing would nominate a new pair: the checks of the new generation are
   * started here (the DTLS and SRTP sessions carry on over the new pair; docs/werift-notes.md §4). After every
   * negotiation (first or restart) failed pairs are checked again until one is nominated (iceRecheck.ts).
   */
  #resumeIceAfterRestart(): void {
    const dtls = this.#media.transport;
    const ice = dtls?.iceTransport;
    if (ice !== undefined) {
      this.#recheck.arm(ice.connection);
    }
    if (ice === undefined || dtls?.state !== 'connected' || ice.connection.nominated !== undefined) {
      return;
    }
    ice.start().catch((e: unknown) => {
      this.#ctx.log.warn({ err: toError(e) }, 'link: ICE restart failed');
    });
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new InvalidStateError('link peer is closed');
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
      // a bad or foreign candidate is not fatal: ICE uses the others
    }
  }

  #adopt(dc: RTCDataChannel): void {
    if (this.#dc !== undefined || this.#closed) {
      return; // only the first channel is the link's
    }
    this.#dc = dc;
    dc.onMessage.subscribe((data) => {
      this.safeEmit('dcmessage', data);
    });
    dc.stateChanged.subscribe((s) => {
      if (s === 'open') {
        this.safeEmit('dcopen');
      }
    });
    if (dc.readyState === 'open') {
      this.safeEmit('dcopen');
    }
  }

  #setState(s: LinkState): void {
    if (this.#state === s || (this.#state === 'closed' && s !== 'closed')) {
      return;
    }
    this.#state = s;
    this.safeEmit('state', s);
  }
}

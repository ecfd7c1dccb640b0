/**
 * A `CallPeer` over the browser's `RTCPeerConnection`: it publishes the given camera and microphone tracks
 * (`sendonly`; video with 3-layer simulcast, rids q/h/f at 1/4, 1/2 and full resolution), opens the signalling data
 * channel, trickles its candidates, and reports the focus's forwarded tracks by the msid stream and track ids of
 * the SDP (protocol.md §6: the same ids as the metadata). Types are structural (webrtcTypes.ts).
 */
import type { CallPeer, LocalCandidate, OfferOptions, RemoteCandidate } from './peer.js';
import type {
  DataChannelLike,
  MediaStreamLike,
  MediaStreamTrackLike,
  PeerConnectionLike,
  SendEncodingLike,
} from './webrtcTypes.js';

/** Simulcast layers as matrix-js-sdk sends them: low, medium, high. */
export const SIMULCAST_ENCODINGS: readonly SendEncodingLike[] = [
  { rid: 'q', scaleResolutionDownBy: 4 },
  { rid: 'h', scaleResolutionDownBy: 2 },
  { rid: 'f', scaleResolutionDownBy: 1 },
];

export interface RemoteTrack {
  streamId: string;
  trackId: string;
  kind: string;
  track: MediaStreamTrackLike;
}

export interface BrowserPeerOptions {
  /** The local stream (camera + microphone) whose tracks are published. */
  stream?: MediaStreamLike;
  /** `RTCConfiguration` (default: no ICE servers, max-bundle). */
  rtcConfig?: Record<string, unknown>;
  /** Default: `new RTCPeerConnection(rtcConfig)`. */
  createPeerConnection?: (config: Record<string, unknown>) => PeerConnectionLike;
  /** Send video as 3 simulcast layers (default true). */
  simulcast?: boolean;
  /** Stop the local tracks on `close()` (default true: the camera light goes off when the call ends). */
  stopTracksOnClose?: boolean;
  /** Encoded-frame transforms (end-to-end encryption): attached to every sender and receiver before media flows. */
  transforms?: FrameTransforms;
}

/** Called with each `RTCRtpSender` / `RTCRtpReceiver` as it is created (set its `transform`). */
export interface FrameTransforms {
  sender(sender: unknown, kind: string): void;
  receiver(receiver: unknown, kind: string): void;
}

/** `a=mid` → the `a=msid` stream and track ids of each media section. */
export function msidByMid(sdp: string): Map<string, { streamId: string; trackId: string }> {
  const out = new Map<string, { streamId: string; trackId: string }>();
  for (const section of sdp.split(/\r?\n(?=m=)/).slice(1)) {
    const mid = /^a=mid:(\S+)\r?$/m.exec(section)?.[1];
    const msid = /^a=msid:(\S+) (\S+)\r?$/m.exec(section);
    if (mid !== undefined && msid !== null && msid[1] !== '-') {
      out.set(mid, { streamId: msid[1] as string, trackId: msid[2] as string });
    }
  }
  return out;
}

/** Trickle-only SDP (peer.ts): no `a=candidate` / `a=end-of-candidates` lines. */
export function withoutCandidates(sdp: string): string {
  return sdp
    .split(/\r\n/)
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .join('\r\n');
}

function defaultPeerConnection(config: Record<string, unknown>): PeerConnectionLike {
  const ctor = (globalThis as unknown as { RTCPeerConnection?: new (c: unknown) => PeerConnectionLike })
    .RTCPeerConnection;
  if (ctor === undefined) {
    throw new Error('this environment has no RTCPeerConnection (BrowserPeer runs in a browser)');
  }
  return new ctor(config);
}

interface Waiter {
  done: () => boolean;
  failed: () => string | undefined;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class BrowserPeer implements CallPeer {
  readonly pc: PeerConnectionLike;
  readonly #o: BrowserPeerOptions;
  readonly #candidates: LocalCandidate[] = [];
  readonly #candidateCbs: ((c: LocalCandidate) => void)[] = [];
  readonly #data: string[] = [];
  readonly #dataCbs: ((text: string) => void)[] = [];
  readonly #trackCbs: ((t: RemoteTrack) => void)[] = [];
  readonly #tracks: RemoteTrack[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #heldIce: RemoteCandidate[] = [];
  #dc: DataChannelLike | undefined;
  #published = false;
  #remoteSdp = '';
  #remoteSet = false;
  #closed = false;

  constructor(o: BrowserPeerOptions = {}) {
    this.#o = o;
    this.pc = (o.createPeerConnection ?? defaultPeerConnection)(
      o.rtcConfig ?? { iceServers: [], bundlePolicy: 'max-bundle' },
    );
    this.pc.onicecandidate = (ev) => {
      const c = ev.candidate;
      if (c !== null && c.candidate === '') {
        return; // a per-section end marker; the null event ends them all
      }
      const local: LocalCandidate = { candidate: c?.candidate ?? '' };
      if (c?.sdpMid != null) {
        local.sdpMid = c.sdpMid;
      }
      if (c?.sdpMLineIndex != null) {
        local.sdpMLineIndex = c.sdpMLineIndex;
      }
      this.#candidates.push(local);
      for (const cb of this.#candidateCbs) {
        cb(local);
      }
    };
    this.pc.onconnectionstatechange = () => {
      this.#changed();
    };
    this.pc.ondatachannel = (ev) => {
      if (this.#dc === undefined) {
        this.#adopt(ev.channel);
      }
    };
    this.pc.ontrack = (ev) => {
      const ids = (ev.transceiver.mid === null
        ? undefined
        : msidByMid(this.#remoteSdp).get(ev.transceiver.mid)) ?? {
        streamId: ev.streams[0]?.id ?? '-',
        trackId: ev.track.id,
      };
      if (this.#o.transforms !== undefined && ev.receiver !== undefined) {
        this.#o.transforms.receiver(ev.receiver, ev.track.kind);
      }
      const remote: RemoteTrack = { ...ids, kind: ev.track.kind, track: ev.track };
      this.#tracks.push(remote);
      for (const cb of this.#trackCbs) {
        cb(remote);
      }
    };
  }

  /** Forwarded tracks received so far, by msid ids; the callback also sees the earlier ones. */
  onTrack(cb: (t: RemoteTrack) => void): void {
    this.#trackCbs.push(cb);
    for (const t of this.#tracks) {
      cb(t);
    }
  }

  /** Every forwarded track received so far (latest last). */
  get remoteTracks(): readonly RemoteTrack[] {
    return this.#tracks;
  }

  async createOffer(opts: OfferOptions): Promise<string> {
    if (!this.#published) {
      this.#published = true;
      const stream = this.#o.stream;
      const tracks = stream?.getTracks() ?? [];
      const audio = tracks.find((t) => t.kind === 'audio');
      const video = tracks.find((t) => t.kind === 'video');
      if (opts.audio === true) {
        if (audio === undefined || stream === undefined) {
          throw new Error('no local audio track to publish');
        }
        this.#transformSender(
          this.pc.addTransceiver(audio, { direction: 'sendonly', streams: [stream] }),
          'audio',
        );
      }
      if (opts.video !== undefined && opts.video !== false) {
        if (video === undefined || stream === undefined) {
          throw new Error('no local video track to publish');
        }
        const simulcast = typeof opts.video === 'object' ? opts.video.simulcast : this.#o.simulcast !== false;
        const tr = this.pc.addTransceiver(video, {
          direction: 'sendonly',
          streams: [stream],
          ...(simulcast ? { sendEncodings: SIMULCAST_ENCODINGS.map((e) => ({ ...e })) } : {}),
        });
        this.#transformSender(tr, 'video');
      }
      if (opts.dataChannel !== undefined && opts.dataChannel !== false && this.#dc === undefined) {
        this.#adopt(this.pc.createDataChannel(opts.dataChannel === true ? 'datachannel' : opts.dataChannel));
      }
    }
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return withoutCandidates(this.pc.localDescription?.sdp ?? '');
  }

  /** The camera/microphone stream given at construction. */
  get localStream(): MediaStreamLike | undefined {
    return this.#o.stream;
  }

  /** The current local description's SDP ('' before the first offer). */
  get localSdp(): string {
    return this.pc.localDescription?.sdp ?? '';
  }

  /** Adds a send-only track of `stream` (a screen share); the returned transceiver removes it. */
  addSendTrack(track: MediaStreamTrackLike, stream: MediaStreamLike): unknown {
    const tr = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    this.#transformSender(tr, track.kind);
    return tr;
  }

  /** Stops a transceiver `addSendTrack` returned (its m-line becomes inactive at the next offer). */
  removeSendTrack(handle: unknown): void {
    const t = handle as { stop?: () => void; direction?: string } | undefined;
    if (typeof t?.stop === 'function') {
      t.stop();
    } else if (t !== undefined) {
      t.direction = 'inactive';
    }
  }

  /** A new offer for what changed (tracks added or stopped), set as the local description; no candidates. */
  async renegotiate(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return withoutCandidates(this.pc.localDescription?.sdp ?? '');
  }

  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    this.#remoteSdp = d.sdp;
    await this.pc.setRemoteDescription({ type: d.type, sdp: d.sdp });
    if (!this.#remoteSet) {
      this.#remoteSet = true;
      for (const c of this.#heldIce.splice(0)) {
        await this.#applyIce(c);
      }
    }
  }

  async createAnswer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return withoutCandidates(this.pc.localDescription?.sdp ?? '');
  }

  async addIceCandidate(c: RemoteCandidate): Promise<void> {
    if (!this.#remoteSet) {
      this.#heldIce.push(c);
      return;
    }
    await this.#applyIce(c);
  }

  async #applyIce(c: RemoteCandidate): Promise<void> {
    const init: { candidate: string; sdpMid?: string; sdpMLineIndex?: number; usernameFragment?: string } = {
      candidate: c.candidate,
    };
    if (c.sdpMid != null) {
      init.sdpMid = c.sdpMid;
    }
    if (c.sdpMLineIndex != null) {
      init.sdpMLineIndex = c.sdpMLineIndex;
    }
    if (c.candidate === '' && init.sdpMid === undefined && init.sdpMLineIndex === undefined) {
      init.sdpMLineIndex = 0;
    }
    if (c.usernameFragment != null) {
      init.usernameFragment = c.usernameFragment;
    }
    await this.pc.addIceCandidate(init);
  }

  onCandidate(cb: (c: LocalCandidate) => void): void {
    this.#candidateCbs.push(cb);
    for (const c of this.#candidates) {
      cb(c);
    }
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.#wait(
      'connected',
      timeoutMs,
      () => this.pc.connectionState === 'connected',
      () => {
        const s = this.#closed ? 'closed' : this.pc.connectionState;
        return s === 'failed' || s === 'closed' ? `connection ${s}` : undefined;
      },
    );
  }

  waitDataChannelOpen(timeoutMs: number): Promise<void> {
    return this.#wait(
      'data channel open',
      timeoutMs,
      () => this.#dc?.readyState === 'open',
      () => {
        const s = this.#closed ? 'closed' : this.pc.connectionState;
        if (s === 'failed' || s === 'closed') {
          return `connection ${s}`;
        }
        return this.#dc?.readyState === 'closed' ? 'data channel closed' : undefined;
      },
    );
  }

  /** The signalling channel's `readyState` (`absent` before there is one). */
  dataChannelState(): string {
    return this.#dc?.readyState ?? 'absent';
  }

  sendData(text: string): void {
    const dc = this.#dc;
    if (dc?.readyState !== 'open') {
      throw new Error(`data channel is ${dc?.readyState ?? 'absent'}`);
    }
    dc.send(text);
  }

  onData(cb: (text: string) => void): void {
    this.#dataCbs.push(cb);
    if (this.#dataCbs.length === 1) {
      for (const text of this.#data.splice(0)) {
        cb(text);
      }
    }
  }

  connectionState(): string {
    return this.#closed ? 'closed' : this.pc.connectionState;
  }

  /** The connection's `getStats()` entries as plain objects. */
  async stats(): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    (await this.pc.getStats()).forEach((r) => {
      out.push({ ...r });
    });
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#dc?.close();
    this.pc.close();
    if (this.#o.stopTracksOnClose !== false) {
      for (const t of this.#o.stream?.getTracks() ?? []) {
        t.stop();
      }
    }
    this.#changed();
  }

  #transformSender(transceiver: unknown, kind: string): void {
    const sender = (transceiver as { sender?: unknown } | undefined)?.sender;
    if (this.#o.transforms !== undefined && sender !== undefined) {
      this.#o.transforms.sender(sender, kind);
    }
  }

  #adopt(ch: DataChannelLike): void {
    this.#dc = ch;
    ch.binaryType = 'arraybuffer';
    ch.onopen = () => {
      this.#changed();
    };
    ch.onclose = () => {
      this.#changed();
    };
    ch.onmessage = (ev) => {
      const text = typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data as ArrayBuffer);
      if (this.#dataCbs.length === 0) {
        this.#data.push(text);
      }
      for (const cb of this.#dataCbs) {
        cb(text);
      }
    };
  }

  #wait(
    what: string,
    timeoutMs: number,
    done: () => boolean,
    failed: () => string | undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        done,
        failed,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`no ${what} within ${timeoutMs} ms (connection ${this.connectionState()})`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
      this.#changed();
    });
  }

  #changed(): void {
    for (const w of [...this.#waiters]) {
      const why = w.done() ? undefined : w.failed();
      if (w.done() || why !== undefined) {
        this.#waiters.delete(w);
        clearTimeout(w.timer);
        if (why === undefined) {
          w.resolve();
        } else {
          w.reject(new Error(why));
        }
      }
    }
  }
}

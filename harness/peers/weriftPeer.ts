/**
 * werift as a test client peer. Loopback only (werift-notes §5): `iceAdditionalHostAddresses: ["127.0.0.1"]`
 * with `iceInterfaceAddresses: {udp4: "127.0.0.1"}`, IPv6 and TCP off, no STUN/TURN. werift has no encoder:
 * an audio track sends Opus silence frames (50 pps once DTLS is up); a video track is a transceiver whose
 * m-line (and, with simulcast, `a=rid`/`a=simulcast` lines) is negotiated but which sends no RTP.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Socket } from 'node:dgram';
import {
  MediaStream,
  MediaStreamTrack,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
  useAudioLevelIndication,
  useOPUS,
  useSdesMid,
  useSdesRTPStreamId,
  useVP8,
  type RTCDataChannel,
  type RTCDtlsTransport,
  type RTCRtpSender,
  type RtcpPacket,
} from 'werift';
import '../../src/media/noDefaultStun.js'; // test peers stay on loopback: no default public STUN server
import {
  connectionFailure,
  dataChannelLabel,
  HeldCandidates,
  LOOPBACK,
  PeerEvents,
  SIMULCAST_LAYERS,
  simulcastWanted,
  trickleSdp,
  weriftIce,
} from './common.js';
import type { LocalCandidate, OfferOptions, RemoteCandidate, TestPeer } from './types.js';

/** One Opus frame of silence (TOC 0xf8: CELT FB 20 ms, mono, one frame; payload 0xff 0xfe). */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
const AUDIO_INTERVAL_MS = 20;

/** One RTP packet as a werift subscriber received it (decrypted), with the m-line it arrived on. */
export interface ReceivedRtp {
  mid: string | undefined;
  kind: string;
  ssrc: number;
  seq: number;
  ts: number;
  marker: boolean;
  pt: number;
  payload: Buffer;
  /** Header extensions as received: raw ids and bytes. */
  extensions: { id: number; payload: Buffer }[];
  at: number;
}

/**
 * How `startSyntheticSimulcast` sends a packet instead of werift's `dtlsTransport.sendRtp` (the bench's load
 * passes a cheaper one: werift's makes a cipher and several buffers per packet).
 */
export type SendRtp = (dtls: RTCDtlsTransport, payload: Buffer, header: RtpHeader) => void;

/** The shape of `startSyntheticVideo`'s stream. */
export interface SyntheticVideo {
  fps: number;
  packetsPerFrame: number;
  payloadBytes: number;
  keyframeIntervalMs: number;
  width: number;
  height: number;
}

/**
 * One synthetic VP8 packet: a payload descriptor (X=1, S=1 on the frame's first packet, I=1 + 15-bit picture
 * id), on the first packet a frame tag (keyframes with the start code and `width`×`height`), in the last 8
 * bytes the send time (process.hrtime.bigint(), comparable across processes) and in the 2 bytes before them
 * the stream's `width` (which layer a packet belongs to, on every packet).
 */
function syntheticVp8(
  size: number,
  index: number,
  pid: number,
  key: boolean,
  o: { width: number; height: number },
): { payload: Buffer; at: bigint } {
  const payload = Buffer.alloc(size);
  payload[0] = index === 0 ? 0x90 : 0x80;
  payload[1] = 0x80;
  payload[2] = 0x80 | ((pid >> 8) & 0x7f);
  payload[3] = pid & 0xff;
  if (index === 0) {
    // VP8 frame tag: bit 0 = 0 for a keyframe; show_frame. Keyframes: start code and size.
    payload[4] = key ? 0x10 : 0x11;
    if (key) {
      payload[7] = 0x9d;
      payload[8] = 0x01;
      payload[9] = 0x2a;
      payload.writeUInt16LE(o.width & 0x3fff, 10);
      payload.writeUInt16LE(o.height & 0x3fff, 12);
    }
  }
  payload.writeUInt16BE(o.width & 0xffff, size - 10);
  const at = process.hrtime.bigint();
  payload.writeBigUInt64BE(at, size - 8);
  return { payload, at };
}

export class WeriftPeer implements TestPeer {
  readonly kind = 'werift' as const;
  readonly #pc: RTCPeerConnection;
  readonly #events: PeerEvents;
  readonly #tracks: MediaStreamTrack[] = [];
  readonly #held = new HeldCandidates<RemoteCandidate>();
  #dc: RTCDataChannel | undefined;
  #audioTimer: NodeJS.Timeout | undefined;
  /** RFC 6464 level sent with each audio packet (−dBov, 0 = loudest, 127 = silence). */
  #audioLevel = 127;
  #audioSent = 0;
  readonly #rtpCbs: ((r: ReceivedRtp) => void)[] = [];
  #closing: Promise<void> | undefined;

  /**
   * `address`: the one IPv4 address to gather on (default 127.0.0.1); the bench's Janus load uses an address
   * of the namespace it created.
   */
  constructor(o: { address?: string } = {}) {
    const address = o.address ?? LOOPBACK;
    this.#events = new PeerEvents('werift peer', address);
    this.#pc = new RTCPeerConnection({
      ...weriftIce(address),
      bundlePolicy: 'max-bundle',
      // Fresh codec objects per PC: werift mutates them (werift-notes §2).
      codecs: { audio: [useOPUS()], video: [useVP8()] },
      headerExtensions: {
        audio: [useSdesMid(), useAudioLevelIndication()],
        video: [useSdesMid(), useSdesRTPStreamId()],
      },
    });
    this.#pc.onIceCandidate.subscribe((c) => {
      const local: LocalCandidate = { candidate: c?.candidate ?? '' };
      if (c?.sdpMid !== undefined) {
        local.sdpMid = c.sdpMid;
      }
      if (c?.sdpMLineIndex !== undefined) {
        local.sdpMLineIndex = c.sdpMLineIndex;
      }
      this.#events.candidate(local);
    });
    this.#pc.connectionStateChange.subscribe(() => {
      this.#events.changed();
    });
    this.#pc.onDataChannel.subscribe((dc) => {
      if (this.#dc === undefined) {
        this.#adopt(dc);
      }
    });
    this.#pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        if (this.#rtpCbs.length === 0) {
          return;
        }
        const tr = this.#pc.getTransceivers().find((x) => x.receiver.tracks.includes(track));
        const r: ReceivedRtp = {
          mid: tr?.mid ?? undefined,
          kind: track.kind,
          ssrc: rtp.header.ssrc,
          seq: rtp.header.sequenceNumber,
          ts: rtp.header.timestamp,
          marker: rtp.header.marker,
          pt: rtp.header.payloadType,
          payload: Buffer.from(rtp.payload),
          extensions: rtp.header.extensions.map((e) => ({ id: e.id, payload: Buffer.from(e.payload) })),
          at: Date.now(),
        };
        for (const cb of this.#rtpCbs) {
          cb(r);
        }
      });
    });
  }

  /**
   * Synthetic VP8 video on the peer's video transceiver (the bench's publisher): `fps` frames of
   * `packetsPerFrame` packets of `payloadBytes`, a VP8 payload descriptor with a 15-bit picture id, a
   * keyframe header (with `width`×`height`) every `keyframeIntervalMs` and after every PLI, and in the last 8
   * bytes of every packet its send time (process.hrtime.bigint(), comparable across processes). Returns a
   * counter of packets sent and a stop function.
   */
  startSyntheticVideo(
    o: SyntheticVideo & {
      /** Called with each packet's send time (the value written into it). */
      onSent?: (ns: bigint) => void;
    },
  ): { sent: () => number; stop: () => void } {
    const tr = this.#pc.getTransceivers().find((x) => x.kind === 'video');
    if (tr === undefined) {
      throw new Error('werift peer: no video transceiver');
    }
    const sender = tr.sender;
    let seq = 0;
    let ts = 0;
    let pid = 0;
    let sent = 0;
    let keyframeDue = true;
    let lastKeyframeAt = 0;
    sender.onPictureLossIndication.subscribe(() => {
      keyframeDue = true;
    });
    const size = Math.max(32, o.payloadBytes);
    const timer = setInterval(
      () => {
        if (this.#pc.connectionState !== 'connected') {
          return;
        }
        const now = Date.now();
        const key = keyframeDue || now - lastKeyframeAt >= o.keyframeIntervalMs;
        if (key) {
          keyframeDue = false;
          lastKeyframeAt = now;
        }
        for (let i = 0; i < o.packetsPerFrame; i++) {
          const { payload, at } = syntheticVp8(size, i, pid, key, o);
          o.onSent?.(at);
          const header = new RtpHeader({
            sequenceNumber: seq,
            timestamp: ts,
            marker: i === o.packetsPerFrame - 1,
          });
          seq = (seq + 1) & 0xffff;
          sent++;
          sender.sendRtp(new RtpPacket(header, payload)).catch(() => {
            // closing
          });
        }
        pid = (pid + 1) & 0x7fff;
        ts = (ts + Math.round(90000 / o.fps)) >>> 0;
      },
      Math.round(1000 / o.fps),
    );
    return {
      sent: () => sent,
      stop: () => {
        clearInterval(timer);
      },
    };
  }

  /**
   * Synthetic VP8 simulcast on the peer's video transceiver (negotiated with `video: { simulcast: true }`):
   * werift's sender cannot send simulcast, so each layer is written here with its own SSRC, sequence,
   * picture ids and the negotiated MID and RID header extensions, straight to the DTLS transport's SRTP. A
   * PLI for a layer's SSRC makes that layer's next frame a keyframe. Packets as in `startSyntheticVideo`; `send`
   * replaces werift's `sendRtp`.
   */
  startSyntheticSimulcast(
    layers: readonly (SyntheticVideo & { rid: string })[],
    onSent?: (rid: string, ns: bigint) => void,
    send?: SendRtp,
  ): { sent: () => Record<string, number>; stop: () => void } {
    const tr = this.#pc.getTransceivers().find((x) => x.kind === 'video');
    const pt = tr?.codecs[0]?.payloadType;
    if (tr === undefined || pt === undefined || tr.mid == null) {
      throw new Error('werift peer: no negotiated video transceiver');
    }
    const mid = Buffer.from(tr.mid);
    const extId = (uri: string) => tr.headerExtensions.find((e) => e.uri === uri)?.id;
    const midId = extId(useSdesMid().uri);
    const ridId = extId(useSdesRTPStreamId().uri);
    const dtls = tr.sender.dtlsTransport;
    const sent: Record<string, number> = {};
    const timers: NodeJS.Timeout[] = [];
    const keyframeDue = new Map<number, boolean>();
    const sub = dtls.onRtcp.subscribe((packet) => {
      if (packet.type === 206 && packet.feedback.count === 1) {
        const media = (packet.feedback as { mediaSsrc: number }).mediaSsrc;
        if (keyframeDue.has(media)) {
          keyframeDue.set(media, true);
        }
      }
    });
    for (const l of layers) {
      const ssrc = randomInt(1, 2 ** 32 - 1);
      keyframeDue.set(ssrc, true);
      sent[l.rid] = 0;
      let seq = randomInt(0, 65536);
      let ts = randomInt(0, 2 ** 32 - 1);
      let pid = randomInt(0, 32768);
      let lastKeyframeAt = 0;
      const extensions = [
        ...(midId !== undefined ? [{ id: midId, payload: mid }] : []),
        ...(ridId !== undefined ? [{ id: ridId, payload: Buffer.from(l.rid) }] : []),
      ];
      const size = Math.max(32, l.payloadBytes);
      timers.push(
        setInterval(
          () => {
            if (this.#pc.connectionState !== 'connected') {
              return;
            }
            const now = Date.now();
            const key = keyframeDue.get(ssrc) === true || now - lastKeyframeAt >= l.keyframeIntervalMs;
            if (key) {
              keyframeDue.set(ssrc, false);
              lastKeyframeAt = now;
            }
            for (let i = 0; i < l.packetsPerFrame; i++) {
              const { payload, at } = syntheticVp8(size, i, pid, key, l);
              onSent?.(l.rid, at);
              const header = new RtpHeader({
                ssrc,
                payloadType: pt,
                sequenceNumber: seq,
                timestamp: ts,
                marker: i === l.packetsPerFrame - 1,
                extensions,
              });
              seq = (seq + 1) & 0xffff;
              sent[l.rid]!++;
              if (send !== undefined) {
                send(dtls, payload, header);
              } else {
                dtls.sendRtp(payload, header).catch(() => {
                  // closing
                });
              }
            }
            pid = (pid + 1) & 0x7fff;
            ts = (ts + Math.round(90000 / l.fps)) >>> 0;
          },
          Math.round(1000 / l.fps),
        ),
      );
    }
    return {
      sent: () => ({ ...sent }),
      stop: () => {
        for (const t of timers) {
          clearInterval(t);
        }
        sub.unSubscribe();
      },
    };
  }

  /**
   * Sets SO_RCVBUF of the peer's UDP sockets (capped by the kernel at net.core.rmem_max): the bench's load
   * peers take the largest, so a scheduling stall on a busy machine does not drop datagrams at the client.
   * Returns how many sockets were set.
   */
  /**
   * For a load subscriber that reads its media below werift (bench/lib/cheapReceive.ts): the DTLS transports
   * (werift's, untyped) and the kind of each negotiated payload type.
   */
  rawReceive(): { dtlsTransports: readonly object[]; kinds: Map<number, 'audio' | 'video'> } {
    const kinds = new Map<number, 'audio' | 'video'>();
    for (const t of this.#pc.getTransceivers()) {
      const kind = t.kind;
      if (kind === 'audio' || kind === 'video') {
        for (const c of t.codecs) {
          kinds.set(c.payloadType, kind);
        }
      }
    }
    return { dtlsTransports: this.#pc.dtlsTransports, kinds };
  }

  setReceiveBufferSize(bytes: number): number {
    type Ice = { connection?: { protocols?: { transport?: { socket?: Socket } }[] } };
    const transports = (this.#pc as unknown as { iceTransports: Ice[] }).iceTransports;
    let n = 0;
    for (const t of transports) {
      for (const p of t.connection?.protocols ?? []) {
        try {
          p.transport?.socket?.setRecvBufferSize(bytes);
          n++;
        } catch {
          // a socket that is not bound (yet) or closed
        }
      }
    }
    return n;
  }

  /** Sends raw RTCP bytes (one complete packet) on the peer's (bundled) transport. */
  async sendRtcp(bytes: Uint8Array): Promise<void> {
    const dtls = this.#pc.getTransceivers()[0]?.receiver.dtlsTransport;
    if (dtls === undefined) {
      throw new Error('no transport to send RTCP on');
    }
    const packet = { serialize: () => Buffer.from(bytes) };
    await dtls.sendRtcp([packet as never]);
  }

  /** Every RTCP packet received from now on on the peer's (bundled) transport, as werift parses it. */
  onRtcp(cb: (p: RtcpPacket) => void): { unSubscribe: () => void } {
    const dtls = this.#pc.getTransceivers()[0]?.receiver.dtlsTransport;
    if (dtls === undefined) {
      throw new Error('no transport to receive RTCP on');
    }
    return dtls.onRtcp.subscribe(cb);
  }

  /** Audio packets sent so far. */
  get audioSent(): number {
    return this.#audioSent;
  }

  /** The audio level (−dBov 0–127; 0 = loudest) carried by the following audio packets. */
  setAudioLevel(dBov: number): void {
    this.#audioLevel = Math.max(0, Math.min(127, Math.round(dBov)));
  }

  /** Every RTP packet received from now on (decrypted; the SFU's forwarded media). */
  onRtp(cb: (r: ReceivedRtp) => void): void {
    this.#rtpCbs.push(cb);
  }

  async createOffer(opts: OfferOptions): Promise<string> {
    const stream = new MediaStream({ id: `werift-${randomUUID()}` });
    if (opts.audio === true) {
      const track = this.#track('audio', stream);
      const sender = this.#pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] }).sender;
      this.#startAudio(sender);
    }
    if (opts.video !== undefined && opts.video !== false) {
      const track = this.#track('video', stream);
      this.#pc.addTransceiver(track, {
        direction: 'sendonly',
        streams: [stream],
        ...(simulcastWanted(opts.video)
          ? { simulcast: SIMULCAST_LAYERS.map((l) => ({ rid: l.rid, direction: 'send' as const })) }
          : {}),
      });
    }
    const label = dataChannelLabel(opts.dataChannel);
    if (label !== undefined) {
      this.#adopt(this.#pc.createDataChannel(label));
    }
    // setLocalDescription waits for gathering, so the candidates have been emitted when it returns.
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    return trickleSdp(this.#pc.localDescription!.sdp);
  }

  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    await this.#pc.setRemoteDescription(d);
    await this.#held.release((c) => this.#apply(c));
  }

  async createAnswer(): Promise<string> {
    await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    return trickleSdp(this.#pc.localDescription!.sdp);
  }

  addIceCandidate(c: RemoteCandidate): Promise<void> {
    return this.#held.add(c, (x) => this.#apply(x));
  }

  async #apply(c: RemoteCandidate): Promise<void> {
    await this.#pc.addIceCandidate({
      candidate: c.candidate,
      ...(c.sdpMid == null ? {} : { sdpMid: c.sdpMid }),
      ...(c.sdpMLineIndex == null ? {} : { sdpMLineIndex: c.sdpMLineIndex }),
      ...(c.usernameFragment == null ? {} : { usernameFragment: c.usernameFragment }),
    });
  }

  onCandidate(cb: (c: LocalCandidate) => void): void {
    this.#events.onCandidate(cb);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.#events.waitUntil(
      'connected',
      timeoutMs,
      () => this.#pc.connectionState === 'connected',
      () => connectionFailure(this.#pc.connectionState),
    );
  }

  waitDataChannelOpen(timeoutMs: number): Promise<void> {
    return this.#events.waitUntil(
      'data channel open',
      timeoutMs,
      () => this.#dc?.readyState === 'open',
      () =>
        this.#dc?.readyState === 'closed'
          ? 'data channel closed'
          : connectionFailure(this.#pc.connectionState),
    );
  }

  sendData(text: string): void {
    if (this.#dc?.readyState !== 'open') {
      throw new Error(`werift peer: data channel is ${this.#dc?.readyState ?? 'absent'}`);
    }
    this.#dc.send(text);
  }

  onData(cb: (text: string) => void): void {
    this.#events.onData(cb);
  }

  connectionState(): string {
    return this.#pc.connectionState;
  }

  /** Stops the audio track's Opus frames (the connection stays up). */
  stopAudio(): void {
    clearInterval(this.#audioTimer);
    this.#audioTimer = undefined;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#audioTimer);
      this.#audioTimer = undefined;
      this.#events.shutdown();
      for (const track of this.#tracks) {
        track.stop();
      }
      await this.#pc.close();
    })();
    return this.#closing;
  }

  #track(kind: 'audio' | 'video', stream: MediaStream): MediaStreamTrack {
    const track = new MediaStreamTrack({ kind, id: `${kind}-${randomUUID()}` });
    stream.addTrack(track);
    this.#tracks.push(track);
    return track;
  }

  #adopt(dc: RTCDataChannel): void {
    this.#dc = dc;
    dc.stateChanged.subscribe(() => {
      this.#events.changed();
    });
    dc.onMessage.subscribe((msg) => {
      this.#events.data(typeof msg === 'string' ? msg : msg.toString('utf8'));
    });
    this.#events.changed();
  }

  /** Opus silence every 20 ms; werift's sender drops packets until DTLS is connected. */
  #startAudio(sender: RTCRtpSender): void {
    let seq = 0;
    let ts = 0;
    this.#audioTimer = setInterval(() => {
      if (this.#pc.connectionState !== 'connected') {
        return;
      }
      const levelId = this.#pc
        .getTransceivers()
        .find((t) => t.sender === sender)
        ?.headerExtensions.find((e) => e.uri === useAudioLevelIndication().uri)?.id;
      const header = new RtpHeader({
        sequenceNumber: seq,
        timestamp: ts,
        marker: seq === 0,
        ...(levelId !== undefined
          ? { extensions: [{ id: levelId, payload: Buffer.from([0x80 | this.#audioLevel]) }] }
          : {}),
      });
      seq = (seq + 1) & 0xffff;
      ts = (ts + 960) >>> 0;
      this.#audioSent++;
      sender.sendRtp(new RtpPacket(header, OPUS_SILENCE)).catch(() => {
        // closing: nothing to report
      });
    }, AUDIO_INTERVAL_MS);
  }
}

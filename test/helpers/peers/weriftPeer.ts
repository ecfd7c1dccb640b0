/**
 * werift as a test client peer. Loopback only (werift-notes §5): `iceAdditionalHostAddresses: ["127.0.0.1"]`
 * with `iceInterfaceAddresses: {udp4: "127.0.0.1"}`, IPv6 and TCP off, no STUN/TURN. werift has no encoder:
 * an audio track sends Opus silence frames (50 pps once DTLS is up); a video track is a transceiver whose
 * m-line (and, with simulcast, `a=rid`/`a=simulcast` lines) is negotiated but which sends no RTP.
 */
import { randomUUID } from 'node:crypto';
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
  type RTCRtpSender,
} from 'werift';
import {
  connectionFailure,
  dataChannelLabel,
  HeldCandidates,
  LOOPBACK,
  PeerEvents,
  SIMULCAST_LAYERS,
  simulcastWanted,
  trickleSdp,
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

export class WeriftPeer implements TestPeer {
  readonly kind = 'werift' as const;
  readonly #pc: RTCPeerConnection;
  readonly #events = new PeerEvents('werift peer');
  readonly #tracks: MediaStreamTrack[] = [];
  readonly #held = new HeldCandidates<RemoteCandidate>();
  #dc: RTCDataChannel | undefined;
  #audioTimer: NodeJS.Timeout | undefined;
  /** RFC 6464 level sent with each audio packet (−dBov, 0 = loudest, 127 = silence). */
  #audioLevel = 127;
  readonly #rtpCbs: ((r: ReceivedRtp) => void)[] = [];
  #closing: Promise<void> | undefined;

  constructor() {
    this.#pc = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: 'max-bundle',
      iceAdditionalHostAddresses: [LOOPBACK],
      iceInterfaceAddresses: { udp4: LOOPBACK },
      iceUseIpv6: false,
      iceUseTcp: false,
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

  /** Every RTP packet received from now on (decrypted; the SFU's forwarded media). */
  /** Sends raw RTCP bytes (one complete packet) on the peer's (bundled) transport. */
  async sendRtcp(bytes: Uint8Array): Promise<void> {
    const dtls = this.#pc.getTransceivers()[0]?.receiver.dtlsTransport;
    if (dtls === undefined) {
      throw new Error('no transport to send RTCP on');
    }
    const packet = { serialize: () => Buffer.from(bytes) };
    await dtls.sendRtcp([packet as never]);
  }

  /** The audio level (−dBov 0–127; 0 = loudest) carried by the following audio packets. */
  setAudioLevel(dBov: number): void {
    this.#audioLevel = Math.max(0, Math.min(127, Math.round(dBov)));
  }

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
      sender.sendRtp(new RtpPacket(header, OPUS_SILENCE)).catch(() => {
        // closing: nothing to report
      });
    }, AUDIO_INTERVAL_MS);
  }
}

/**
 * The media side of one link's peer connection (protocol.md §8.2–§8.6), given its two carrier transceivers:
 * the link's ingest (decrypted RTP of its transport → trunk SSRC routes → relayed tracks, relayedTracks.ts),
 * the trunk sends of local tracks (trunkSender.ts), RTCP dispatch (SR → relayed sender clocks; NACK, PLI/FIR
 * and report blocks → the trunk sends; REMB and report blocks → congestion control), NACKs toward the remote
 * focus on one timer, one periodic tick (relayed layer bookkeeping, coalesced keyframe requests, SRs,
 * congestion control) and the link's counters. Nothing here throws on remote input.
 */
import type { RTCDtlsTransport, RTCRtpTransceiver } from 'werift';
import { EXT_URI } from '../../rtp/headerExtensions.js';
import { RtpPacketView } from '../../rtp/packetView.js';
import { readRtcp, type RtcpFeedback } from '../../rtp/rtcpFeedback.js';
import { readRtcpBytes } from '../../rtp/rtcpRead.js';
import type { TimerHandle } from '../../util/clock.js';
import { Ticker, type TickerJob } from '../../util/ticker.js';
import { toError } from '../../util/errors.js';
import { tapDecryptedRtp } from '../decryptedRtpTap.js';
import { installUdpFastPath } from '../udpFastPath.js';
import { receiveWaits } from '../udpReceive.js';
import { tapSrtcp } from '../srtcpTap.js';
import { IngestDemux } from '../ingest.js';
import { MEDIA_TICK_MS, type MediaContext } from '../peerMedia.js';
import { sendRtcpBytes } from '../rtcpSend.js';
import { sendSrtp, type SrtpHeader } from '../srtpSend.js';
import type { TrackSource } from '../track.js';
import { LinkFeedback } from './linkFeedback.js';
import { RelayedTracks, relayedSources, type RelayHost } from './relayedTracks.js';
import { trackKey } from './remoteTrackCheck.js';
import { TrunkHeaderWriter } from './trunkHeader.js';
import type { TrunkOut } from './trunkOut.js';
import { TrunkQueue, type TrunkWire } from './trunkQueue.js';
import { TrunkSend, type TrunkSendHost } from './trunkSender.js';
import type {
  LinkCongestionControl,
  LinkPeerOptions,
  LinkRtcpSender,
  LinkStats,
  TrunkSendLayer,
} from './types.js';

/** Trunk SSRC routes of one link: 256 relayed streams of audio + 3 layers. */
export const LINK_MAX_ROUTES = 1024;
/** NACK timer granularity floor. */
const MIN_NACK_WAIT_MS = 2;

type Kind = 'audio' | 'video';

export class LinkMedia {
  readonly #ctx: MediaContext;
  readonly #carriers: Record<Kind, RTCRtpTransceiver>;
  readonly #maxLinkBps: number;
  readonly #keepLowestLayer: boolean;
  readonly #onLayers: (send: TrunkSend) => void;
  readonly relayed: RelayedTracks;
  readonly #sends = new Map<string, TrunkSend>();
  readonly #outs = new Map<number, { send: TrunkSend; out: TrunkOut }>();
  readonly #headers: Record<Kind, TrunkHeaderWriter> = {
    audio: new TrunkHeaderWriter(),
    video: new TrunkHeaderWriter(),
  };
  readonly rtcpSsrc: number;
  readonly #wire: TrunkWire;
  /** The trunk's packets (media, retransmissions) of one turn, sent together at its end. */
  readonly #queue: TrunkQueue;
  readonly #ccView = new RtpPacketView();
  #cc: LinkCongestionControl | undefined;
  #ccErrors = 0;
  #dtls: RTCDtlsTransport | undefined;
  #ingest: IngestDemux | undefined;
  #absIds: Record<Kind, number | undefined> = { audio: undefined, video: undefined };
  #tickJob: TickerJob | undefined;
  #nackTimer: TimerHandle | undefined;
  #nackAt: number | undefined;
  #closed = false;
  readonly counts = {
    rtpIn: 0,
    rtpOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    lastMediaAt: undefined as number | undefined,
  };
  readonly #rtcpSender: LinkRtcpSender;
  readonly #feedback: LinkFeedback;
  /** The remote focus's RTCP feedback went past its flood bound (called once; the link is hung up). */
  onFlood: (() => void) | undefined;

  constructor(
    ctx: MediaContext,
    carriers: Record<Kind, RTCRtpTransceiver>,
    opts: LinkPeerOptions,
    onLayers: (send: TrunkSend) => void,
    random: () => number = Math.random,
  ) {
    this.#ctx = ctx;
    this.#carriers = carriers;
    this.#maxLinkBps = opts.maxLinkBps;
    this.#keepLowestLayer = opts.keepLowestLayer ?? false;
    this.#onLayers = onLayers;
    this.rtcpSsrc = (Math.floor(random() * 0xffff_fffe) + 1) >>> 0;
    this.relayed = new RelayedTracks(this.#relayHost());
    this.#wire = {
      counters: ctx.counters,
      now: () => this.#ctx.clock.now(),
      transport: () => this.#connected(),
      header: (k) => this.#headers[k],
      sent: (bytes) => {
        this.counts.rtpOut++;
        this.counts.bytesOut += bytes;
      },
    };
    this.#queue = new TrunkQueue(this.#wire);
    const carrierVideo = carriers.video;
    this.#rtcpSender = {
      rtcpSsrc: this.rtcpSsrc,
      remoteSsrcs: () => this.relayed.ssrcs(),
      sendRtcp: (bytes) => {
        return this.#sendRtcp(bytes);
      },
      kindOf: (ssrc) => this.relayed.kindOf(ssrc),
      sendRtp: (header, payload) => this.#sendRtp(header, payload),
      get videoPayloadType() {
        return carrierVideo.codecs[0]?.payloadType;
      },
    };
    this.#feedback = new LinkFeedback(
      {
        outs: this.#outs,
        onSenderReport: (ssrc, ntpMs, rtpTs, now) => {
          this.relayed.onSenderReport(ssrc, ntpMs, rtpTs, now);
        },
        cc: (fn) => this.#ccCall(fn),
        counters: ctx.counters,
        onFlood: () => {
          this.onFlood?.();
        },
      },
      ctx.clock.now(),
    );
    this.#tickJob = Ticker.shared(ctx.clock, MEDIA_TICK_MS).add(
      (now) => {
        this.#tick(now);
      },
      (e) => {
        ctx.log.error({ err: toError(e) }, 'link: media tick failed');
      },
    );
  }

  /** After each negotiation: the link's transport (tapped once), its RTCP, the carriers' extension ids. */
  negotiated(): void {
    if (this.#closed) {
      return;
    }
    const idOf = (k: Kind, uri: string) => this.#carriers[k].headerExtensions.find((e) => e.uri === uri)?.id;
    for (const k of ['audio', 'video'] as const) {
      this.#absIds[k] = idOf(k, EXT_URI.absSendTime);
      this.#headers[k].setExtensionIds(this.#absIds[k], idOf(k, EXT_URI.audioLevel));
    }
    const dtls = this.#carriers.audio.receiver.dtlsTransport;
    if (dtls === this.#dtls) {
      return;
    }
    this.#dtls = dtls;
    const ingest = new IngestDemux(this.#ctx.counters, this.#ctx.log, LINK_MAX_ROUTES);
    this.#ingest = ingest;
    const tapped = tapDecryptedRtp(dtls, (dec) => {
      this.#onRtp(dec);
    });
    if (!tapped) {
      this.#ctx.log.error('link: cannot tap decrypted RTP on this werift version: nothing is received');
    }
    // SRTCP with the own ciphers, read from its bytes (srtcpTap.ts; werift's parse where its shape differs).
    // werift gets none of it: the link's receiver reports are trunk congestion control's (trunkCcReceive.ts).
    const read = (plain: Buffer): void => {
      readRtcpBytes(plain, 0, plain.length, (fb) => {
        this.#onFeedback(fb);
      });
    };
    if (!tapSrtcp(dtls, read)) {
      dtls.onRtcp.subscribe((p) => {
        this.#onFeedback(readRtcp(p));
      });
    }
    this.relayed.reroute();
  }

  /** The link's transport once negotiated (tests; congestion control). */
  get transport(): RTCDtlsTransport | undefined {
    return this.#dtls;
  }

  setCongestionControl(cc: LinkCongestionControl | undefined): void {
    this.#cc = cc;
  }

  /** Starts relaying a local track on the trunk (replacing a send of the same track). */
  sendTrack(
    source: TrackSource,
    streamId: string,
    trackId: string,
    trunk: { audioSsrc?: number; layers?: readonly TrunkSendLayer[] },
  ): TrunkSend | undefined {
    if (this.#closed) {
      return undefined;
    }
    if (relayedSources.has(source)) {
      this.#ctx.log.error({ streamId, trackId }, 'link: a relayed track is never sent onto another link');
      return undefined;
    }
    const key = trackKey(streamId, trackId);
    this.#sends.get(key)?.close();
    const send = new TrunkSend(source, streamId, trackId, trunk, this.#sendHost(), this.#ctx.clock.now());
    if (send.closed) {
      return send; // its source had already ended
    }
    this.#sends.set(key, send);
    for (const ssrc of send.ssrcs()) {
      const out = send.out(ssrc);
      if (out !== undefined) {
        this.#outs.set(ssrc, { send, out });
      }
    }
    return send;
  }

  /** The trunk sends now (for congestion control). */
  sends(): TrunkSend[] {
    return [...this.#sends.values()];
  }

  stats(): LinkStats {
    const c = this.counts;
    return {
      rtpIn: c.rtpIn,
      rtpOut: c.rtpOut,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      estimateBps: this.#ccCall((cc) => cc.estimateBps?.()),
      budgetBps: this.#ccCall((cc) => cc.budgetBps?.()) ?? this.#maxLinkBps,
      lastMediaAt: c.lastMediaAt,
    };
  }

  /** Sends the trunk packets queued in this turn now (else they go at its end; benchmarks, tests). */
  flushSends(): void {
    this.#queue.flush();
  }

  /** Closes the sends and the relayed tracks still here (adopted ones went with their new link). */
  close(): void {
    if (this.#closed) {
      return;
    }
    this.#queue.flush(); // what the sends accepted still goes
    this.#closed = true;
    this.#tickJob?.remove();
    this.#tickJob = undefined;
    this.#nackTimer?.cancel();
    for (const s of [...this.#sends.values()]) {
      s.close();
    }
    this.relayed.close();
  }

  #connected(): RTCDtlsTransport | undefined {
    const d = this.#dtls;
    return d !== undefined && d.state === 'connected' && !this.#closed ? d : undefined;
  }

  #sendRtp(header: SrtpHeader, payload: Buffer): boolean {
    this.#queue.flush(); // probe padding leaves after the media queued before it
    const d = this.#connected();
    if (d === undefined) {
      return false;
    }
    this.#ctx.counters.sent(sendSrtp(d, payload, header));
    this.counts.rtpOut++;
    this.counts.bytesOut += payload.length + header.serializeSize;
    return true;
  }

  #sendRtcp(bytes: Uint8Array): boolean {
    const d = this.#connected();
    if (d === undefined) {
      return false;
    }
    sendRtcpBytes(d, bytes);
    return true;
  }

  #relayHost(): RelayHost {
    return {
      ctx: this.#ctx,
      carrier: (k) => this.#carriers[k],
      ingest: () => this.#ingest,
      sendRtcp: (bytes) => {
        this.#sendRtcp(bytes);
      },
      rtcpSsrc: this.rtcpSsrc,
      keepLowestLayer: this.#keepLowestLayer,
      lossSeen: (now) => {
        this.#armNack(now);
      },
    };
  }

  #sendHost(): TrunkSendHost {
    return {
      ...this.#wire,
      pliMinIntervalMs: this.#ctx.pliMinIntervalMs,
      codecs: (k) => this.#carriers[k].codecs,
      queue: this.#queue,
      pausedChanged: (send) => {
        this.#onLayers(send);
      },
      admit: (send, rid) =>
        this.#ccCall((cc) => cc.admit?.(send.streamId, send.trackId, rid, send.source)) ?? true,
      ended: (send) => {
        const key = trackKey(send.streamId, send.trackId);
        if (this.#sends.get(key) === send) {
          this.#sends.delete(key);
        }
        for (const ssrc of send.ssrcs()) {
          if (this.#outs.get(ssrc)?.send === send) {
            this.#outs.delete(ssrc);
          }
        }
      },
    };
  }

  /** Every decrypted RTP packet of the link: counted, shown to congestion control, then routed. */
  #onRtp(dec: Buffer): void {
    if (this.#closed) {
      return;
    }
    const now = this.#ctx.clock.now();
    const c = this.counts;
    c.rtpIn++;
    c.bytesIn += dec.length;
    c.lastMediaAt = now;
    const cc = this.#cc;
    if (cc?.onRtp !== undefined && this.#ccView.reset(dec)) {
      const kindId = this.relayed.kindOf(this.#ccView.ssrc);
      const absId = kindId === undefined ? this.#absIds.video : this.#absIds[kindId];
      let padding = false;
      try {
        // Its arrival: the kernel's time when the add-on read it (a stall of this process is not queueing on
        // the trunk), else now.
        const waited = receiveWaits.current;
        const arrival = waited >= 0 ? now - waited / 1000 : now;
        padding = cc.onRtp(this.#ccView, absId, arrival) === true; // inline, not #ccCall: no closure per packet
      } catch (e) {
        this.#ccFailed(e);
      }
      if (padding) {
        return; // probe padding: measured, not routed
      }
    }
    this.#ingest?.receive(dec);
  }

  /** One RTCP packet from the remote focus (its liveness, then LinkFeedback). */
  #onFeedback(fb: RtcpFeedback): void {
    if (this.#closed) {
      return;
    }
    const now = this.#ctx.clock.now();
    this.counts.lastMediaAt = now;
    try {
      this.#feedback.on(fb, now);
    } catch (e) {
      this.#ctx.log.warn({ err: toError(e) }, 'link: RTCP handling failed');
    }
  }

  /** Calls congestion control; an error is logged once, then counted silently. */
  #ccCall<T>(fn: (cc: LinkCongestionControl) => T): T | undefined {
    const cc = this.#cc;
    if (cc === undefined) {
      return undefined;
    }
    try {
      return fn(cc);
    } catch (e) {
      this.#ccFailed(e);
      return undefined;
    }
  }

  #ccFailed(e: unknown): void {
    if (this.#ccErrors++ === 0) {
      this.#ctx.log.error({ err: toError(e) }, 'link: congestion control failed');
    }
  }

  #receiveErrors = 0;
  /** A socket's batched reading failed (given back to node:dgram) or a datagram's handling threw: logged once. */
  readonly #receiveError = (e: unknown): void => {
    if (this.#receiveErrors++ === 0) {
      this.#ctx.log.warn(
        { err: toError(e) },
        'link: receiving datagrams in batches failed (logged once per link)',
      );
    }
  };

  #tick(now: number): void {
    if (this.#dtls !== undefined) {
      installUdpFastPath(this.#dtls, this.#ctx.counters.onSrtpRejected, this.#receiveError); // until the pair is up
    }
    this.relayed.tick(now);
    for (const s of this.#sends.values()) {
      s.tick(now);
    }
    this.#ccCall((cc) => cc.tick?.(now, this.#rtcpSender));
  }

  /** Schedules the NACK flush for when the earliest missing packet is due (one timer per link). */
  #armNack(now: number, dueAt: number = now): void {
    if (this.#closed) {
      return;
    }
    const at = Math.max(dueAt, now + MIN_NACK_WAIT_MS);
    if (this.#nackTimer !== undefined && this.#nackAt !== undefined && this.#nackAt <= at) {
      return;
    }
    this.#nackTimer?.cancel();
    this.#nackAt = at;
    this.#nackTimer = this.#ctx.clock.setTimeout(() => {
      this.#nackTimer = undefined;
      this.#nackAt = undefined;
      if (this.#closed) {
        return;
      }
      const t = this.#ctx.clock.now();
      const next = this.relayed.flushNacks(t);
      if (next !== undefined) {
        this.#armNack(t, next);
      }
    }, at - now);
  }
}

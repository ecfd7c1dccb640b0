/**
 * The media side of one werift peer connection: the tracks its client publishes (one PublishedTrack per
 * receiving m-line, fed by its transport's ingest demux through receiveWiring.ts), the tracks forwarded to it
 * (DownTracks), RTCP dispatch (publisher SRs; subscriber PLI/FIR), REMB towards the publisher (protocol.md §7,
 * werift-notes pitfall 7) and one periodic tick (layer stalls, keyframe retries, SRs).
 */
import type { Logger } from 'pino';
import type { RTCPeerConnection, RTCRtpTransceiver } from 'werift';
import { BandwidthEstimator } from '../forwarding/bandwidthEstimator.js';
import { firPacket, pliPacket, rembPacket, unixMsFromNtp } from '../rtp/rtcpFeedback.js';
import { nackPacket, normaliseNackList } from '../rtp/rtcpNack.js';
import type { RemoteMediaTrack } from '../protocol/sdp.js';
import { signalledSsrcs } from '../protocol/sdpSsrc.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { toError } from '../util/errors.js';
import { DownTrack } from './downTrack.js';
import type { MediaCounters } from './mediaMetrics.js';
import { PublishedTrack } from './publishedTrack.js';
import { ReceiveWiring } from './receiveWiring.js';
import type { TrackSource } from './track.js';

export const MEDIA_TICK_MS = 100;
const REMB_INTERVAL_MS = 1000;

export interface MediaContext {
  clock: Clock;
  counters: MediaCounters;
  log: Logger;
  pliMinIntervalMs: number;
  publisherRembBps: number;
}

type Dtls = RTCRtpTransceiver['sender']['dtlsTransport'];

/** The werift receiver member used here (an instance property in werift 0.24.4). */
interface TappableReceiver {
  rtcpSsrc: number;
}

interface RtcpLike {
  type: number;
  ssrc?: number;
  senderInfo?: { ntpTimestamp: bigint; rtpTimestamp: number };
  reports?: { ssrc: number; fractionLost: number; lsr: number; dlsr: number }[];
  feedback?: {
    count: number;
    mediaSsrc?: number;
    mediaSourceSsrc?: number;
    fir?: { ssrc: number }[];
    lost?: unknown;
    bitrate?: bigint | number;
  };
}

/** A probe asks for the next layer's bitrate plus this margin. */
const PROBE_MARGIN = 1.1;

/** The most report blocks read from one RR/SR (the count field allows 31). */
const MAX_REPORT_BLOCKS = 31;
/** NACK timer granularity floor. */
const MIN_NACK_WAIT_MS = 2;

/** A pre-serialised RTCP packet in the shape werift's sendRtcp takes. */
function raw(bytes: Uint8Array): { serialize: () => Buffer } {
  return { serialize: () => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

export class PeerMedia {
  readonly #pc: RTCPeerConnection;
  readonly #ctx: MediaContext;
  readonly #published = new Map<string, { track: PublishedTrack; transceiver: RTCRtpTransceiver }>();
  readonly #down = new Map<number, DownTrack>();
  readonly #receive: ReceiveWiring;
  readonly #rtcpTransports = new WeakSet<object>();
  #timer: TimerHandle | undefined;
  #nackTimer: TimerHandle | undefined;
  #nackAt: number | undefined;
  #lastRembAt = 0;
  /** The subscriber side: bandwidth estimate of this connection, shared by its forwarded tracks. */
  readonly #bwe = new BandwidthEstimator();
  #bweChanges = 0;
  #probeTrack: DownTrack | undefined;
  #firSeq = 0;
  #closed = false;

  constructor(pc: RTCPeerConnection, ctx: MediaContext) {
    this.#pc = pc;
    this.#ctx = ctx;
    this.#receive = new ReceiveWiring(ctx.counters, ctx.log);
    this.#schedule();
  }

  /** The published track of a receiving m-line, by mid. */
  published(mid: string): PublishedTrack | undefined {
    return this.#published.get(mid)?.track;
  }

  publishedTracks(): PublishedTrack[] {
    return [...this.#published.values()].map((p) => p.track);
  }

  downTracks(): DownTrack[] {
    return [...this.#down.values()];
  }

  /**
   * After a remote description was applied: a PublishedTrack for every m-line the client sends on, its
   * receiver tapped; RTCP listeners on every transport. Tracks whose m-line stopped sending are closed.
   */
  sync(remote: readonly RemoteMediaTrack[]): void {
    if (this.#closed) {
      return;
    }
    const ssrcs = signalledSsrcs(this.#pc.remoteDescription?.sdp ?? '');
    const sending = new Map<string, RemoteMediaTrack>();
    for (const r of remote) {
      if (r.sending && r.mid !== undefined) {
        sending.set(r.mid, r);
      }
    }
    for (const tr of this.#pc.getTransceivers()) {
      this.#listenRtcp(tr.sender.dtlsTransport);
      const mid = tr.mid;
      if (mid === null) {
        continue;
      }
      const r = sending.get(mid);
      const existing = this.#published.get(mid);
      if (r === undefined) {
        if (existing !== undefined) {
          existing.track.close();
          this.#published.delete(mid);
          this.#receive.unbind(tr, existing.track);
        }
        continue;
      }
      const restrictions = new Map(Object.entries(r.ridSizes));
      if (existing !== undefined) {
        existing.track.updateRids(r.rids, restrictions);
        this.#receive.bind(tr, existing.track, r.rids, ssrcs.get(mid) ?? []);
        continue;
      }
      const track = new PublishedTrack({
        kind: r.kind,
        mid,
        rids: r.rids,
        restrictions,
        clock: this.#ctx.clock,
        counters: this.#ctx.counters,
        log: this.#ctx.log,
        pliMinIntervalMs: this.#ctx.pliMinIntervalMs,
        codecs: () => tr.codecs,
        extensions: () => tr.headerExtensions,
        requestKeyframe: (ssrc) => {
          this.#sendKeyframeRequest(tr, ssrc);
        },
        onLoss: () => {
          this.#armNack(this.#ctx.clock.now());
        },
      });
      this.#published.set(mid, { track, transceiver: tr });
      this.#receive.bind(tr, track, r.rids, ssrcs.get(mid) ?? []);
    }
  }

  /**
   * Routes an SSRC that no m-line signals (a link's trunk SSRC, protocol.md §8.2) to the published track of
   * m-line `mid`, as its layer `rid`. False when there is no such track.
   */
  announce(ssrc: number, mid: string, rid?: string): boolean {
    const p = this.#published.get(mid);
    if (p === undefined) {
      return false;
    }
    this.#receive.ingest(p.transceiver.receiver.dtlsTransport).announce(ssrc, p.track, rid);
    return true;
  }

  /** Starts forwarding `track` on one of this peer's sendonly transceivers. */
  forward(transceiver: RTCRtpTransceiver, track: TrackSource, width: number, height: number): DownTrack {
    const existing = this.#down.get(transceiver.sender.ssrc);
    existing?.close();
    const dt = new DownTrack({
      track,
      transceiver,
      counters: this.#ctx.counters,
      pliMinIntervalMs: this.#ctx.pliMinIntervalMs,
      now: this.#ctx.clock.now(),
      width,
      height,
    });
    this.#down.set(transceiver.sender.ssrc, dt);
    this.#listenRtcp(transceiver.sender.dtlsTransport);
    return dt;
  }

  /** Stops a forwarded track (unsubscribe, or its publisher left). */
  stopForwarding(dt: DownTrack): void {
    dt.close();
    if (this.#down.get(dt.ssrc) === dt) {
      this.#down.delete(dt.ssrc);
    }
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#timer?.cancel();
    this.#nackTimer?.cancel();
    for (const dt of this.#down.values()) {
      dt.close();
    }
    this.#down.clear();
    for (const { track } of this.#published.values()) {
      track.close();
    }
    this.#published.clear();
    this.#receive.clear();
  }

  #schedule(): void {
    this.#timer = this.#ctx.clock.setTimeout(() => {
      if (this.#closed) {
        return;
      }
      try {
        this.#tick(this.#ctx.clock.now());
      } catch (e) {
        this.#ctx.log.error({ err: toError(e) }, 'media tick failed');
      }
      this.#schedule();
    }, MEDIA_TICK_MS);
  }

  #tick(now: number): void {
    for (const { track } of this.#published.values()) {
      track.tick(now);
    }
    for (const dt of this.#down.values()) {
      dt.tick(now);
    }
    this.#allocate(now);
    if (now - this.#lastRembAt >= REMB_INTERVAL_MS) {
      this.#lastRembAt = now;
      this.#sendRemb();
    }
  }

  /** Estimated bandwidth of this subscriber connection (bit/s; Infinity = no limit seen). */
  get bandwidthEstimateBps(): number {
    return this.#bwe.estimateBps;
  }

  /**
   * Shares the bandwidth estimate among the forwarded video tracks (evenly, after audio), which caps their
   * layer choice; runs padding probes when a cap holds a track below the layer it asked for.
   */
  #allocate(now: number): void {
    const down = [...this.#down.values()].filter((d) => !d.closed);
    if (down.length === 0) {
      return;
    }
    let sendBps = 0;
    let audioBps = 0;
    const video: DownTrack[] = [];
    for (const d of down) {
      const bps = d.rateBytesPerS * 8;
      sendBps += bps;
      if (d.track.kind === 'video') {
        video.push(d);
      } else {
        audioBps += bps;
      }
    }
    this.#bwe.setSendRate(sendBps);
    this.#bwe.tick(now);
    const est = this.#bwe.estimateBps;
    if (this.#bwe.changes !== this.#bweChanges) {
      this.#bweChanges = this.#bwe.changes;
      if (Number.isFinite(est)) {
        this.#ctx.counters.observeEstimate(est);
      }
    }
    const cap = Number.isFinite(est) ? Math.max(1, est - audioBps) / Math.max(1, video.length) : est;
    for (const d of video) {
      d.setMaxBitrate(cap, now);
    }
    const probing = this.#bwe.probing;
    if (probing !== undefined) {
      if (this.#bwe.probeActive(now) && this.#probeTrack !== undefined && !this.#probeTrack.closed) {
        const extraBps = Math.max(0, probing.targetBps - sendBps);
        this.#probeTrack.addProbeBytes((extraBps / 8) * (MEDIA_TICK_MS / 1000));
      }
      return;
    }
    for (const d of video) {
      const next = d.heldBackLayerBitrate();
      if (next === undefined) {
        continue;
      }
      const target = sendBps - d.rateBytesPerS * 8 + next * PROBE_MARGIN;
      if (this.#bwe.mayProbe(target, now)) {
        this.#bwe.startProbe(target, now);
        this.#probeTrack = d;
        this.#ctx.counters.probes++;
      }
      return;
    }
  }

  /** REMB at `media.publisher_remb_bps` naming every video layer SSRC of this publisher, per transport. */
  #sendRemb(): void {
    const byTransport = new Map<Dtls, { sender: number; ssrcs: number[] }>();
    for (const { track, transceiver } of this.#published.values()) {
      const ssrcs = track.kind === 'video' ? track.ssrcs() : [];
      const dtls = transceiver.receiver.dtlsTransport;
      if (ssrcs.length === 0 || dtls.state !== 'connected') {
        continue;
      }
      const entry = byTransport.get(dtls) ?? {
        sender: (transceiver.receiver as unknown as TappableReceiver).rtcpSsrc,
        ssrcs: [],
      };
      entry.ssrcs.push(...ssrcs);
      byTransport.set(dtls, entry);
    }
    for (const [dtls, e] of byTransport) {
      const pkt = raw(rembPacket(e.sender, this.#ctx.publisherRembBps, e.ssrcs));
      void dtls.sendRtcp([pkt as never]).catch(() => {
        // closing
      });
    }
  }

  /** Schedules the NACK flush for when the earliest missing packet is due (one timer per peer). */
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
      this.#flushNacks();
    }, at - now);
  }

  #flushNacks(): void {
    if (this.#closed) {
      return;
    }
    const now = this.#ctx.clock.now();
    let next: number | undefined;
    for (const { track, transceiver } of this.#published.values()) {
      const dtls = transceiver.receiver.dtlsTransport;
      const sender = (transceiver.receiver as unknown as TappableReceiver).rtcpSsrc;
      const at = track.flushNacks(now, (ssrc, seqs) => {
        if (dtls.state !== 'connected') {
          return;
        }
        void dtls.sendRtcp([raw(nackPacket(sender, ssrc, seqs)) as never]).catch(() => {
          // closing
        });
      });
      if (at !== undefined && (next === undefined || at < next)) {
        next = at;
      }
    }
    if (next !== undefined) {
      this.#armNack(now, next);
    }
  }

  /** PLI where the publisher negotiated `nack pli` (or nothing), else FIR where it negotiated `ccm fir`. */
  #sendKeyframeRequest(tr: RTCRtpTransceiver, ssrc: number): void {
    const dtls = tr.receiver.dtlsTransport;
    if (dtls.state !== 'connected') {
      return;
    }
    const sender = (tr.receiver as unknown as TappableReceiver).rtcpSsrc;
    const fb = tr.codecs[0]?.rtcpFeedback ?? [];
    const pli = fb.some((f) => f.type === 'nack' && f.parameter === 'pli');
    const fir = fb.some((f) => f.type === 'ccm' && f.parameter === 'fir');
    const bytes = !pli && fir ? firPacket(sender, ssrc, this.#firSeq++ & 0xff) : pliPacket(sender, ssrc);
    void dtls.sendRtcp([raw(bytes) as never]).catch(() => {
      // closing
    });
  }

  #listenRtcp(dtls: Dtls | undefined): void {
    if (dtls === undefined || this.#rtcpTransports.has(dtls)) {
      return;
    }
    this.#rtcpTransports.add(dtls);
    dtls.onRtcp.subscribe((p) => {
      try {
        this.#onRtcp(p);
      } catch (e) {
        this.#ctx.log.warn({ err: toError(e) }, 'RTCP handling failed');
      }
    });
  }

  #onRtcp(packet: unknown): void {
    const p = packet as RtcpLike;
    if (this.#closed) {
      return;
    }
    const now = this.#ctx.clock.now();
    if ((p.type === 200 || p.type === 201) && Array.isArray(p.reports)) {
      let loss: number | undefined;
      for (const b of p.reports.slice(0, MAX_REPORT_BLOCKS)) {
        const dt = this.#down.get(b.ssrc);
        if (dt !== undefined) {
          dt.onReceiverReport(b, now);
          loss = Math.max(loss ?? 0, dt.lossFraction);
        }
      }
      if (loss !== undefined) {
        this.#bwe.onLoss(loss, now);
      }
    }
    if (p.type === 206 && p.feedback?.count === 15 && p.feedback.bitrate !== undefined) {
      if (this.#down.size > 0) {
        this.#bwe.onRemb(Number(p.feedback.bitrate), now);
      }
      return;
    }
    if (p.type === 205 && p.feedback?.count === 1) {
      const dt = this.#down.get(p.feedback.mediaSourceSsrc ?? -1);
      const seqs = normaliseNackList(p.feedback.lost);
      this.#ctx.counters.nackReceived += seqs.length;
      if (dt !== undefined) {
        dt.onNack(seqs, now);
      } else {
        this.#ctx.counters.retransmits.missing += seqs.length;
      }
      return;
    }
    if (p.type === 200 && p.ssrc !== undefined && p.senderInfo !== undefined) {
      const ntpMs = unixMsFromNtp(p.senderInfo.ntpTimestamp);
      for (const { track } of this.#published.values()) {
        if (track.onSenderReport(p.ssrc, ntpMs, p.senderInfo.rtpTimestamp, now)) {
          break;
        }
      }
      return;
    }
    if (p.type === 206 && p.feedback !== undefined) {
      const fb = p.feedback;
      if (fb.count === 1 && fb.mediaSsrc !== undefined) {
        this.#down.get(fb.mediaSsrc)?.onSubscriberKeyframeRequest();
      } else if (fb.count === 4 && Array.isArray(fb.fir)) {
        for (const e of fb.fir.slice(0, 32)) {
          this.#down.get(e.ssrc)?.onSubscriberKeyframeRequest();
        }
      }
    }
  }
}

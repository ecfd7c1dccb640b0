/**
 * The media side of one werift peer connection: the tracks its client publishes (one PublishedTrack per
 * receiving m-line, fed by its transport's ingest demux through receiveWiring.ts), the tracks forwarded to it
 * (DownTracks), RTCP dispatch over the typed feedback union (rtp/rtcpFeedback.ts `readRtcp`: publisher SRs;
 * subscriber reports, NACK, PLI/FIR, REMB), the subscriber's bandwidth (media/subscriberBandwidth.ts), REMB,
 * NACK and keyframe requests towards the publisher (protocol.md §7, werift-notes pitfall 7) and one periodic
 * tick (layer stalls, keyframe retries, SRs, allocation). werift's receive-side NACK generator is switched off
 * on every receiver (pitfall 3: it floods simulcast publishers).
 */
import type { Logger } from 'pino';
import type { RTCPeerConnection, RTCRtpTransceiver } from 'werift';
import type { Forwarder } from '../forwarding/forwarder.js';
import { firPacket, pliPacket, readRtcp, type ReportBlock, type RtcpFeedback } from '../rtp/rtcpFeedback.js';
import { readRtcpBytes } from '../rtp/rtcpRead.js';
import { nackPacket } from '../rtp/rtcpNack.js';
import type { RemoteMediaTrack } from '../protocol/sdp.js';
import { signalledSsrcs } from '../protocol/sdpSsrc.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { Ticker, type TickerJob } from '../util/ticker.js';
import { tapSrtcp } from './srtcpTap.js';
import { toError } from '../util/errors.js';
import { DownTrack } from './downTrack.js';
import { FeedbackBudget, KEYFRAME_REQUEST_UNITS } from './feedbackBudget.js';
import type { MediaCounters } from './mediaMetrics.js';
import { PublishedTrack } from './publishedTrack.js';
import type { PublisherRemb } from './publisherRemb.js';
import { sendPublisherRtcp } from './publisherRtcp.js';
import { installUdpFastPath } from './udpFastPath.js';
import { ReceiveWiring } from './receiveWiring.js';
import { sendRtcpBytes } from './rtcpSend.js';
import { SubscriberBandwidth } from './subscriberBandwidth.js';
import type { TrackSource } from './track.js';

export const MEDIA_TICK_MS = 100;
/** How often a publisher gets the SFU's receiver report and REMB (publisherRtcp.ts). */
const PUBLISHER_RTCP_INTERVAL_MS = 1000;

export interface MediaContext {
  clock: Clock;
  counters: MediaCounters;
  log: Logger;
  pliMinIntervalMs: number;
  /** The REMB to each publisher transport (`media.publisher_remb_bps`, `media.publisher_remb_from_demand`). */
  publisherRemb: PublisherRemb;
  /** `media.skip_unwatched_layers`. */
  skipUnwatched: boolean;
}

type Dtls = RTCRtpTransceiver['sender']['dtlsTransport'];

/** NACK timer granularity floor. */
const MIN_NACK_WAIT_MS = 2;

export class PeerMedia {
  readonly #pc: RTCPeerConnection;
  readonly #ctx: MediaContext;
  readonly #published = new Map<string, { track: PublishedTrack; transceiver: RTCRtpTransceiver }>();
  readonly #down = new Map<number, DownTrack>();
  /** By SSRC: the numbering of the last stream stopped there (a reused m-line's next stream continues it). */
  readonly #stopped = new Map<number, Forwarder>();
  readonly #receive: ReceiveWiring;
  /** The peer's DTLS transports (one with BUNDLE), their RTCP read by the SFU. */
  readonly #transports = new Set<Dtls>();
  #tickJob: TickerJob | undefined;
  #nackTimer: TimerHandle | undefined;
  #nackAt: number | undefined;
  #lastPublisherRtcpAt = 0;
  /** The subscriber side: bandwidth estimate of this connection, shared by its forwarded tracks. */
  readonly #bandwidth: SubscriberBandwidth;
  #firSeq = 0;
  #closed = false;
  /** What this peer's feedback (NACKs, PLIs, FIRs) may make the SFU do. */
  readonly #feedback: FeedbackBudget;
  /** The peer's feedback went past the flood bound (called once; the peer hangs the session up). */
  onFlood: (() => void) | undefined;

  constructor(pc: RTCPeerConnection, ctx: MediaContext) {
    this.#pc = pc;
    this.#ctx = ctx;
    this.#feedback = new FeedbackBudget(ctx.clock.now());
    this.#bandwidth = new SubscriberBandwidth(ctx.counters, MEDIA_TICK_MS);
    this.#receive = new ReceiveWiring(ctx.counters, ctx.log);
    // One shared timer for every peer's tick (util/ticker.ts): a timer each woke the process per peer.
    this.#tickJob = Ticker.shared(ctx.clock, MEDIA_TICK_MS).add(
      (now) => {
        this.#tick(now);
      },
      (e) => {
        ctx.log.error({ err: toError(e) }, 'media tick failed');
      },
    );
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
        receiverReports: true,
        skipUnwatched: this.#ctx.skipUnwatched,
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
    const ssrc = transceiver.sender.ssrc;
    const existing = this.#down.get(ssrc);
    existing?.close();
    const continueFrom = existing?.forwarder ?? this.#stopped.get(ssrc);
    this.#stopped.delete(ssrc);
    const dt = new DownTrack({
      continueFrom,
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
      this.#stopped.set(dt.ssrc, dt.forwarder);
    }
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#tickJob?.remove();
    this.#tickJob = undefined;
    this.#nackTimer?.cancel();
    for (const dt of this.#down.values()) {
      dt.close();
    }
    this.#down.clear();
    this.#stopped.clear();
    for (const { track } of this.#published.values()) {
      track.close();
    }
    this.#published.clear();
    this.#receive.clear();
    this.#transports.clear();
  }

  #receiveErrors = 0;
  /** A socket's batched reading failed (given back to node:dgram) or a datagram's handling threw: logged once. */
  readonly #receiveError = (e: unknown): void => {
    if (this.#receiveErrors++ === 0) {
      this.#ctx.log.warn({ err: toError(e) }, 'receiving datagrams in batches failed (logged once per peer)');
    }
  };

  #tick(now: number): void {
    for (const dtls of this.#transports) {
      installUdpFastPath(dtls, this.#ctx.counters.onSrtpRejected, this.#receiveError); // until the pair is up
    }
    for (const { track } of this.#published.values()) {
      track.tick(now);
    }
    for (const dt of this.#down.values()) {
      dt.tick(now);
    }
    this.#bandwidth.allocate(this.#down, now);
    if (now - this.#lastPublisherRtcpAt >= PUBLISHER_RTCP_INTERVAL_MS) {
      this.#lastPublisherRtcpAt = now;
      sendPublisherRtcp(this.#published.values(), now, this.#ctx.publisherRemb);
    }
  }

  /** Estimated bandwidth of this subscriber connection (bit/s; Infinity = no limit seen). */
  get bandwidthEstimateBps(): number {
    return this.#bandwidth.estimateBps;
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
      const sender = transceiver.receiver.rtcpSsrc;
      const at = track.flushNacks(now, (ssrc, seqs) => {
        if (dtls.state !== 'connected') {
          return;
        }
        sendRtcpBytes(dtls, nackPacket(sender, ssrc, seqs));
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
    const sender = tr.receiver.rtcpSsrc;
    const fb = tr.codecs[0]?.rtcpFeedback ?? [];
    const pli = fb.some((f) => f.type === 'nack' && f.parameter === 'pli');
    const fir = fb.some((f) => f.type === 'ccm' && f.parameter === 'fir');
    const bytes = !pli && fir ? firPacket(sender, ssrc, this.#firSeq++ & 0xff) : pliPacket(sender, ssrc);
    sendRtcpBytes(dtls, bytes);
  }

  #listenRtcp(dtls: Dtls | undefined): void {
    if (dtls === undefined || this.#transports.has(dtls)) {
      return;
    }
    this.#transports.add(dtls);
    // SRTCP both ways with the own ciphers, what arrives read from its bytes here (srtcpTap.ts, rtcpRead.ts);
    // werift gets none of it (its receivers no longer report: publisherRtcp.ts does).
    if (tapSrtcp(dtls, this.#readRtcp)) {
      return;
    }
    dtls.onRtcp.subscribe((p) => {
      this.#onFeedback(readRtcp(p)); // werift's shape is not the one tapped: its parsed packets
    });
  }

  readonly #readRtcp = (plain: Buffer): void => {
    readRtcpBytes(plain, 0, plain.length, this.#onFeedback);
  };

  readonly #onFeedback = (fb: RtcpFeedback): void => {
    try {
      this.#onRtcp(fb);
    } catch (e) {
      this.#ctx.log.warn({ err: toError(e) }, 'RTCP handling failed');
    }
  };

  /** One RTCP packet from this peer, as the typed feedback union (rtp/rtcpFeedback.ts). */
  #onRtcp(fb: RtcpFeedback): void {
    if (this.#closed) {
      return;
    }
    const now = this.#ctx.clock.now();
    switch (fb.kind) {
      case 'sr':
        this.#onReportBlocks(fb.reports, now);
        for (const { track } of this.#published.values()) {
          if (track.onSenderReport(fb.ssrc, fb.ntpMs, fb.rtpTs, now, fb.lsr)) {
            break;
          }
        }
        return;
      case 'rr':
        this.#onReportBlocks(fb.reports, now);
        return;
      case 'remb':
        if (this.#down.size > 0) {
          this.#bandwidth.onRemb(fb.bitrateBps, now);
        }
        return;
      case 'nack': {
        if (!this.#withinBudget(fb.seqs.length, now)) {
          return;
        }
        const dt = fb.mediaSsrc === undefined ? undefined : this.#down.get(fb.mediaSsrc);
        this.#ctx.counters.nackReceived += fb.seqs.length;
        if (dt !== undefined) {
          dt.onNack(fb.seqs, now);
        } else {
          this.#ctx.counters.retransmits.missing += fb.seqs.length;
        }
        return;
      }
      case 'pli':
        if (this.#withinBudget(KEYFRAME_REQUEST_UNITS, now)) {
          this.#down.get(fb.mediaSsrc)?.onSubscriberKeyframeRequest();
        }
        return;
      case 'fir':
        if (!this.#withinBudget(KEYFRAME_REQUEST_UNITS, now)) {
          return;
        }
        for (const ssrc of fb.ssrcs) {
          this.#down.get(ssrc)?.onSubscriberKeyframeRequest();
        }
        return;
      case 'unknown':
        return; // transport-cc, SDES, BYE, ... or unreadable: nothing to act on
    }
  }

  /**
   * Whether subscriber feedback costing `units` is acted on (feedbackBudget.ts); over the budget it is ignored and
   * counted, and past the flood bound the peer is reported once (`onFlood`: the conference hangs it up).
   */
  #withinBudget(units: number, now: number): boolean {
    return this.#feedback.admit(units, now, this.#ctx.counters, this.#flooded);
  }

  readonly #flooded = (): void => {
    this.onFlood?.();
  };

  /** Report blocks about our forwarded streams: their RTT and loss, and the worst loss to the estimator. */
  #onReportBlocks(reports: readonly ReportBlock[], now: number): void {
    let loss: number | undefined;
    for (const b of reports) {
      const dt = this.#down.get(b.ssrc);
      if (dt !== undefined) {
        dt.onReceiverReport(b, now);
        loss = Math.max(loss ?? 0, dt.lossFraction);
      }
    }
    if (loss !== undefined) {
      this.#bandwidth.onLoss(loss, now);
    }
  }
}

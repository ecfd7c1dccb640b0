/**
 * One forwarded track towards one subscriber (its sendonly transceiver): the pure Forwarder decides per
 * packet, then the packet is built in memory of its own (pitfall 1: the publisher's bytes are shared, never
 * written) — for video its retransmission slot, else a shared scratch (sentPackets.ts): the header written in
 * place from the stream's laid-out extension block (rtp/forwardedHeaderWriter.ts; the stable SSRC, the
 * subscriber's payload type and extension ids — pitfall 2 — and the munged seq/ts), the payload copied behind
 * it with VP8's picture id / TL0PICIDX rewritten; encrypted into the send slab and queued on the socket by the
 * send path kept from packet to packet (srtpSendPath.ts). Nothing is allocated per packet. Loss recovery
 * downstream, the subscriber's reports and this stream's SRs: media/downstreamRtcp.ts.
 */
import type { RTCRtpTransceiver } from 'werift';
import {
  heldBackBitrate,
  layerIfAllFlowed,
  layerUnderCap,
  type LayerWant,
} from '../forwarding/allocation.js';
import { Forwarder, forwardScratch } from '../forwarding/forwarder.js';
import { addProbeBacklog, backlogAfterPadding, paddingPacketsDue } from '../forwarding/probePolicy.js';
import { alignTimestamp, forwardedSenderReport } from '../forwarding/rtpClock.js';
import { FORWARDED_HEADER_MAX, type ForwardedFields } from '../rtp/forwardedHeader.js';
import { ForwardedHeaderWriter } from '../rtp/forwardedHeaderWriter.js';
import { planExtensions, type ExtensionPlan, type NegotiatedExtension } from '../rtp/headerExtensions.js';
import type { ReportBlock } from '../rtp/rtcpFeedback.js';
import type { MediaCounters } from './mediaMetrics.js';
import { DownstreamRtcp } from './downstreamRtcp.js';
import type { SourcePacket, TrackCodec, TrackSink, TrackSource } from './track.js';
import { nextTransportSeq, sendPaddingPackets } from './forwardedSend.js';
import { SrtpSendPath } from './srtpSendPath.js';
import { PayloadTypes } from './payloadTypes.js';

export interface DownTrackOptions {
  track: TrackSource;
  transceiver: RTCRtpTransceiver;
  counters: MediaCounters;
  pliMinIntervalMs: number;
  now: number;
  width: number;
  height: number;
  /**
   * The forwarder of the stream last sent on this transceiver's SSRC (an m-line reused for another track):
   * this stream goes on from its numbering (Forwarder.restart). Ignored for another clock rate.
   */
  continueFrom?: Forwarder | undefined;
}

export interface DownTrackStats {
  packets: number;
  bytes: number;
  currentLayer: number | undefined;
  targetLayer: number | undefined;
}

export class DownTrack implements TrackSink {
  readonly track: TrackSource;
  readonly transceiver: RTCRtpTransceiver;
  readonly #counters: MediaCounters;
  readonly #pliMinIntervalMs: number;
  readonly #fwd: Forwarder;
  /** The forwarding decision, refilled per packet (no object per forwarded packet). */
  readonly #decision = forwardScratch();
  readonly #clockRate: number;
  #width: number;
  #height: number;
  #planSrc: readonly NegotiatedExtension[] | undefined;
  #planMid: string | null | undefined;
  #plan: ExtensionPlan = {};
  /** The subscriber payload type of each publisher codec. */
  readonly #payloadTypes = new PayloadTypes();
  #ready = false;
  #closed = false;
  #packets = 0;
  #bytes = 0;
  #lastKeyframeRequestAt = Number.NEGATIVE_INFINITY;
  readonly #rtcp: DownstreamRtcp;
  /** The bandwidth cap from the subscriber's estimate (bit/s; Infinity = none). */
  #maxBitrateBps = Number.POSITIVE_INFINITY;
  #probeBytes = 0;
  #paddingSent = 0;
  /** The fixed-header fields of the packet being built (one object, overwritten per packet). */
  readonly #fields: ForwardedFields;
  readonly #sendPath = new SrtpSendPath();
  readonly #header = new ForwardedHeaderWriter();
  /** Called when the published track ends (the conference prunes the subscription). */
  onEnded: (() => void) | undefined;

  constructor(o: DownTrackOptions) {
    this.track = o.track;
    this.transceiver = o.transceiver;
    this.#counters = o.counters;
    this.#pliMinIntervalMs = o.pliMinIntervalMs;
    this.#clockRate = o.track.clockRate;
    const prior = o.continueFrom;
    if (prior !== undefined && prior.clockRate === this.#clockRate) {
      prior.restart();
      this.#fwd = prior;
    } else {
      this.#fwd = new Forwarder({ clockRate: this.#clockRate, keyframeGated: o.track.kind === 'video' });
    }
    this.#width = o.width;
    this.#height = o.height;
    this.#rtcp = new DownstreamRtcp(o.track.kind === 'video', o.counters, o.now);
    this.#fields = {
      ssrc: 0,
      payloadType: 0,
      sequenceNumber: 0,
      timestamp: 0,
      marker: false,
      padding: false,
      nowMs: 0,
      transportSeq: -1,
      audioLevel: undefined,
    };
    o.track.addSink(this);
    this.#reselect(o.now);
  }

  get ssrc(): number {
    return this.transceiver.sender.ssrc;
  }

  /** This stream's numbering (a later stream on the same SSRC continues it). */
  get forwarder(): Forwarder {
    return this.#fwd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  stats(): DownTrackStats {
    return {
      packets: this.#packets,
      bytes: this.#bytes,
      currentLayer: this.#fwd.current,
      targetLayer: this.#fwd.target,
    };
  }

  wantsLayer(layerId: number): boolean {
    return !this.#closed && (this.#fwd.current === layerId || this.#fwd.target === layerId);
  }

  usedLayers(): { current: number | undefined; target: number | undefined } {
    return { current: this.#fwd.current, target: this.#fwd.target };
  }

  wantedLayer(capped = true): number | undefined {
    if (this.#closed || this.track.kind !== 'video') {
      return undefined;
    }
    const view = this.track.selectable();
    const cap = capped ? this.#maxBitrateBps : Number.POSITIVE_INFINITY;
    const idx = layerIfAllFlowed(view.layers, this.#want(), cap, view.sizesPending === true);
    return idx === undefined ? undefined : view.ids[idx];
  }

  /** The share of the subscriber's bandwidth estimate this track may use (bit/s; Infinity = no cap). */
  setMaxBitrate(bps: number, now: number): void {
    const v = Number.isFinite(bps) && bps > 0 ? bps : Number.POSITIVE_INFINITY;
    if (v !== this.#maxBitrateBps) {
      this.#maxBitrateBps = v;
      this.#reselect(now);
    }
  }

  get maxBitrateBps(): number {
    return this.#maxBitrateBps;
  }

  /**
   * When the cap holds this track below the layer its requested size wants: the bitrate of the next layer
   * up (what a probe must show fits). Undefined when nothing is held back or the rate is not measured yet.
   */
  heldBackLayerBitrate(): number | undefined {
    if (this.track.kind !== 'video' || !Number.isFinite(this.#maxBitrateBps)) {
      return undefined;
    }
    return heldBackBitrate(this.track.selectable().layers, this.#want(), this.#maxBitrateBps);
  }

  /** Probe padding to send after the next frames (bytes; the subscriber's peer spreads a probe over ticks). */
  addProbeBytes(bytes: number): void {
    if (this.track.kind === 'video') {
      this.#probeBytes = addProbeBacklog(this.#probeBytes, bytes);
    }
  }

  /** Padding-only packets sent as probes so far. */
  get paddingSent(): number {
    return this.#paddingSent;
  }

  /** A resize (or the first size): re-picks the layer; never renegotiates. */
  setRequested(width: number, height: number, now: number): void {
    this.#width = width;
    this.#height = height;
    this.#reselect(now);
  }

  /** The subscriber asked for a keyframe (PLI/FIR): one throttled PLI to the layer being forwarded. */
  onSubscriberKeyframeRequest(): void {
    const current = this.#fwd.current;
    if (current !== undefined) {
      this.track.requestKeyframe(current, 'subscriber');
    }
  }

  /** Round-trip time to the subscriber from its receiver reports (undefined before one). */
  get rttMs(): number | undefined {
    return this.#rtcp.rttMs;
  }

  /** The subscriber's last reported loss fraction for this stream (0–1). */
  get lossFraction(): number {
    return this.#rtcp.lossFraction;
  }

  /** What this stream sends, bytes per second (last 0.5 s window). */
  get rateBytesPerS(): number {
    return this.#rtcp.rateBytesPerS;
  }

  /**
   * A subscriber NACK for this stream's sequence numbers (already bounded and 16-bit): each answered with
   * the packet first sent, unless unknown, older than the buffer, resent within an RTT, or over budget.
   */
  onNack(seqs: readonly number[], now: number): void {
    if (this.#closed) {
      this.#counters.retransmits.missing += seqs.length;
      return;
    }
    this.#rtcp.onNack(seqs, now, this.transceiver.sender.dtlsTransport);
  }

  /** A report block about this stream from the subscriber (RR or SR): loss fraction and RTT. */
  onReceiverReport(block: ReportBlock, now: number): void {
    this.#rtcp.onReport(block, now);
  }

  onLayersChanged(now: number): void {
    this.#reselect(now);
  }

  onTrackClosed(): void {
    this.#closed = true;
    this.onEnded?.();
  }

  onPacket(sp: SourcePacket, now: number): void {
    if (this.#closed) {
      return;
    }
    const dtls = this.transceiver.sender.dtlsTransport;
    const ready = this.#isReady();
    if (!ready) {
      this.#counters.drop('not_ready');
      return;
    }
    if (!this.#ready) {
      // Just negotiated: ask for the keyframe the first packet needs.
      this.#ready = true;
      this.#requestIfWaiting(now, true);
    }
    const pt = this.#payloadType(sp.codec);
    if (pt === undefined) {
      this.#counters.drop('unknown_stream');
      return;
    }
    const current = this.#fwd.current;
    let aligned: number | undefined;
    if (current !== undefined && sp.layer !== current && sp.fwd.keyframe) {
      const from = this.track.senderClock(sp.layer);
      const to = this.track.senderClock(current);
      if (from !== undefined && to !== undefined) {
        aligned = alignTimestamp(sp.fwd.ts, from, to, this.#clockRate);
      }
    }
    const d = this.#fwd.decideInto(sp.fwd, now, aligned, this.#decision);
    if (!d.forward) {
      this.#counters.drop(d.reason);
      return;
    }
    if (d.switched) {
      const dir =
        d.from === undefined
          ? 'start'
          : this.track.rankOf(sp.layer) > this.track.rankOf(d.from)
            ? 'up'
            : 'down';
      this.#counters.switches[dir]++;
    }
    // Built in memory of its own (for video the retransmission slot of d.seq): the header written in place,
    // the publisher's payload (shared, never written) copied behind it and the codec's rewrite (VP8: picture id
    // / TL0PICIDX) applied there; encrypted from there into the datagram.
    const plan = this.#extensionPlan();
    const n = sp.payload.length;
    const p = this.#rtcp.packetFor(d.seq, FORWARDED_HEADER_MAX + n, now);
    const f = this.#fields;
    f.ssrc = this.ssrc;
    f.payloadType = pt;
    f.sequenceNumber = d.seq;
    f.timestamp = d.ts;
    f.marker = d.marker;
    f.padding = false;
    f.nowMs = now;
    f.transportSeq = nextTransportSeq(plan, dtls);
    f.audioLevel = sp.audioLevel;
    const h = this.#header.write(p.buf, p.off, plan, f);
    p.buf.set(sp.payload, p.off + h); // TypedArray#set: a builtin memcpy (Buffer#copy checks its arguments in JS)
    sp.codec.handler.rewrite(p.buf, p.off + h, sp.facts, d);
    p.headerLength = h;
    p.length = h + n;
    this.#packets = (this.#packets + 1) >>> 0;
    this.#bytes = (this.#bytes + n) >>> 0;
    this.#counters.packetOut(this.track.kind, n);
    this.#rtcp.sent(d.seq, now, p);
    this.#counters.sent(this.#sendPath.send(dtls, p));
    if (d.marker && this.#probeBytes > 0) {
      this.#sendPadding(pt, plan, now);
    }
  }

  /** Periodic (the subscriber's peer ticks it): keyframe retries while waiting, and this stream's SR. */
  tick(now: number): void {
    this.#rtcp.tick(now);
    if (this.#closed || !this.#isReady()) {
      return;
    }
    this.#requestIfWaiting(now, false);
    if (this.#fwd.started && this.#rtcp.takeSenderReportSlot(now, this.#packets)) {
      this.#sendSenderReport(now);
    }
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#rtcp.clear();
    this.track.removeSink(this);
  }

  /**
   * Probe padding right after a frame's last packet (never inside a frame, where a receiver's frame
   * assembler would see a gap): padding-only packets on this stream's SSRC with sequence numbers reserved
   * in the forwarder, the last frame's timestamp and fresh abs-send-time, so a receive-side estimator counts
   * them. Not kept for retransmission.
   */
  #sendPadding(pt: number, plan: ExtensionPlan, now: number): void {
    const n = paddingPacketsDue(this.#probeBytes);
    const slot = this.#fwd.padding(n);
    if (slot === undefined) {
      return;
    }
    this.#probeBytes = backlogAfterPadding(this.#probeBytes, n);
    const f = this.#fields;
    f.ssrc = this.ssrc;
    f.payloadType = pt;
    f.nowMs = now;
    sendPaddingPackets(this.transceiver.sender.dtlsTransport, plan, f, slot.seq, slot.ts, n, this.#counters);
    this.#rtcp.sentPadding(slot.seq, n, now);
    this.#paddingSent += n;
  }

  #isReady(): boolean {
    const t = this.transceiver;
    const dir = t.currentDirection;
    return (
      t.sender.dtlsTransport.state === 'connected' &&
      (dir === 'sendonly' || dir === 'sendrecv') &&
      (t.direction === 'sendonly' || t.direction === 'sendrecv')
    );
  }

  #reselect(now: number): void {
    if (this.#closed || this.track.kind !== 'video') {
      return;
    }
    const view = this.track.selectable();
    const idx = layerUnderCap(view.layers, this.#want(), this.#maxBitrateBps, view.sizesPending === true);
    const target = idx === undefined ? undefined : view.ids[idx];
    if (target !== this.#fwd.target) {
      this.#fwd.setTarget(target);
    }
    this.#requestIfWaiting(now, true);
  }

  #want(): LayerWant {
    return { width: this.#width, height: this.#height, muted: this.track.muted };
  }

  #requestIfWaiting(now: number, fresh: boolean): void {
    const target = this.#fwd.target;
    if (!this.#fwd.waitingForKeyframe || target === undefined || !this.#isReady()) {
      return;
    }
    if (!fresh && now - this.#lastKeyframeRequestAt < this.#pliMinIntervalMs) {
      return;
    }
    this.#lastKeyframeRequestAt = now;
    const reason = fresh ? (this.#fwd.current === undefined ? 'start' : 'switch') : 'retry';
    this.track.requestKeyframe(target, reason);
  }

  /** The subscriber's payload type for a publisher codec: the codec handler picks once per codec list. */
  #payloadType(codec: TrackCodec): number | undefined {
    return this.#payloadTypes.of(codec, this.transceiver.codecs);
  }

  #extensionPlan(): ExtensionPlan {
    const src = this.transceiver.headerExtensions as readonly NegotiatedExtension[];
    const mid = this.transceiver.mid;
    if (src !== this.#planSrc || mid !== this.#planMid) {
      this.#planSrc = src;
      this.#planMid = mid;
      this.#plan = planExtensions(src, mid ?? undefined);
    }
    return this.#plan;
  }

  #sendSenderReport(now: number): void {
    const current = this.#fwd.current;
    const source = current === undefined ? undefined : this.track.senderClock(current);
    const sr = forwardedSenderReport(
      {
        clockRate: this.#clockRate,
        lastOutTs: this.#fwd.lastOutTs,
        lastOutAt: this.#fwd.lastOutAt,
        tsOffset: this.#fwd.tsOffset,
        ...(source !== undefined ? { sourceSr: source } : {}),
      },
      now,
    );
    const counts = { packets: this.#packets, bytes: this.#bytes };
    this.#rtcp.sendSenderReport(this.transceiver.sender.dtlsTransport, this.ssrc, sr, counts, now);
  }
}

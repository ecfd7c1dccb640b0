/**
 * One forwarded track towards one subscriber (its sendonly transceiver): the pure Forwarder decides per
 * packet, then the packet is applied on a COPY (werift-notes pitfall 1): a new header — written straight
 * to bytes (rtp/rtpHeader.ts), no werift RtpHeader object — with the subscription's stable SSRC, the
 * subscriber's payload type and extension ids (pitfall 2), the munged seq/ts, and — for VP8 — a copied
 * payload with the picture id / TL0PICIDX rewritten. Encrypted with the transport's SRTP context and sent on
 * its UDP socket in one call (media/srtpSend.ts: werift's sender cache, offsets, SR loop and promise chain
 * are bypassed); the SFU sends this stream's RTCP SRs itself.
 *
 * Loss recovery downstream: every packet sent is kept (header + payload objects, never mutated afterwards) in
 * a RetransmitBuffer of ≥ 1 s; a subscriber NACK is answered with exactly those bytes, at most once per RTT
 * per packet, and within a byte budget equal to the stream's own rate, so a NACK storm can at most double
 * what this stream sends. The RTT comes from the subscriber's receiver reports on our SRs.
 */
import { RtcpSenderInfo, RtcpSrPacket, type RTCRtpTransceiver } from 'werift';
import { Forwarder } from '../forwarding/forwarder.js';
import { RetransmitBuffer } from '../forwarding/retransmitBuffer.js';
import { alignTimestamp, forwardedSenderReport } from '../forwarding/rtpClock.js';
import {
  forwardedExtensions,
  planExtensions,
  type ExtensionPlan,
  type NegotiatedExtension,
} from '../rtp/headerExtensions.js';
import { ntpFromUnixMs } from '../rtp/rtcpFeedback.js';
import { WireRtpHeader } from '../rtp/rtpHeader.js';
import { selectLayer } from '../simulcast/selectLayer.js';
import type { MediaCounters } from './mediaMetrics.js';
import type { NegotiatedCodec } from './codec/handler.js';
import type { SourcePacket, TrackCodec, TrackSink, TrackSource } from './track.js';
import { sendSrtp } from './srtpSend.js';

const SR_INTERVAL_MS = 1000;
/**
 * Retransmission buffer: 512 packets (≥ 1 s up to ≈ 4.7 Mbit/s of 1,150-byte packets, ≈ 1.9 s of a 720p
 * stream) and at most 1.5 s old. It is most of a subscriber's memory (bench `memory`: 1,024 slots cost
 * ≈ 1.2 MB per forwarded video track).
 */
const RTX_BUFFER_PACKETS = 512;
const RTX_BUFFER_MS = 1500;
/**
 * The retransmission budget refills at 90 % of the stream's rate, with bursts of 0.25 s of it, so a NACK
 * storm can never make the SFU send more than twice the stream; a resent packet is charged with its RTP,
 * extension and SRTP overhead (40 bytes).
 */
const RTX_BUDGET_SHARE = 0.9;
const RTX_BURST_S = 0.25;
const RTX_PACKET_OVERHEAD = 40;
/** Before the stream's rate is known, and as a floor: 64 kbit/s. */
const RTX_MIN_RATE_BYTES = 8000;
const RATE_WINDOW_MS = 500;
const DEFAULT_RTT_MS = 20;
/** Probe padding: 255-byte padding-only packets, at most this many after one frame. */
const PADDING_BYTES = 255;
const MAX_PADDING_PER_FRAME = 40;
/** Probe bytes not sent within this many frames are forgotten (no catch-up bursts). */
const MAX_PROBE_BACKLOG_BYTES = PADDING_BYTES * MAX_PADDING_PER_FRAME * 2;

interface SentPacket {
  header: WireRtpHeader;
  payload: Buffer;
}

/** The transport-wide sequence number of the next packet sent on `dtls`, when transport-cc is negotiated. */
function nextTransportSeq(
  plan: ExtensionPlan,
  dtls: { transportSequenceNumber: number },
): number | undefined {
  if (plan.transportCcId === undefined) {
    return undefined;
  }
  dtls.transportSequenceNumber = (dtls.transportSequenceNumber + 1) & 0xffff;
  return dtls.transportSequenceNumber;
}

export interface ReceiverReportBlock {
  fractionLost: number;
  lsr: number;
  dlsr: number;
}

export interface DownTrackOptions {
  track: TrackSource;
  transceiver: RTCRtpTransceiver;
  counters: MediaCounters;
  pliMinIntervalMs: number;
  now: number;
  width: number;
  height: number;
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
  readonly #clockRate: number;
  #width: number;
  #height: number;
  #planSrc: readonly NegotiatedExtension[] | undefined;
  #planMid: string | null | undefined;
  #plan: ExtensionPlan = {};
  #ptSrc: readonly NegotiatedCodec[] | undefined;
  /** The subscriber payload type of each publisher codec (-1: the subscriber has no such codec). */
  #ptByCodec = new Map<TrackCodec, number>();
  #ready = false;
  #closed = false;
  #packets = 0;
  #bytes = 0;
  #lastSrAt = 0;
  #lastKeyframeRequestAt = Number.NEGATIVE_INFINITY;
  readonly #sent: RetransmitBuffer<SentPacket> | undefined;
  /** Our recent SRs: LSR (middle 32 bits of their NTP time) → when sent, for RTT from receiver reports. */
  readonly #srSent: { lsr: number; at: number }[] = [];
  #rttMs: number | undefined;
  #lossFraction = 0;
  #rateBytesPerS = 0;
  #rateWindowStart = 0;
  #rateWindowBytes = 0;
  #rtxTokens = RTX_MIN_RATE_BYTES * RTX_BURST_S;
  #rtxRefilledAt = 0;
  /** The bandwidth cap from the subscriber's estimate (bit/s; Infinity = none). */
  #maxBitrateBps = Number.POSITIVE_INFINITY;
  #probeBytes = 0;
  #paddingSent = 0;
  /** Called when the published track ends (the conference prunes the subscription). */
  onEnded: (() => void) | undefined;

  constructor(o: DownTrackOptions) {
    this.track = o.track;
    this.transceiver = o.transceiver;
    this.#counters = o.counters;
    this.#pliMinIntervalMs = o.pliMinIntervalMs;
    this.#clockRate = o.track.clockRate;
    this.#fwd = new Forwarder({ clockRate: this.#clockRate, keyframeGated: o.track.kind === 'video' });
    this.#width = o.width;
    this.#height = o.height;
    this.#rateWindowStart = o.now;
    this.#rtxRefilledAt = o.now;
    this.#sent =
      o.track.kind === 'video' ? new RetransmitBuffer(RTX_BUFFER_PACKETS, RTX_BUFFER_MS) : undefined;
    o.track.addSink(this);
    this.#reselect(o.now);
  }

  get ssrc(): number {
    return this.transceiver.sender.ssrc;
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
    const view = this.track.selectable();
    const want = { width: this.#width, height: this.#height, muted: this.track.muted };
    const uncapped = selectLayer(view.layers, want);
    const capped = selectLayer(view.layers, { ...want, maxBitrateBps: this.#maxBitrateBps });
    if (uncapped === undefined || capped === undefined || capped >= uncapped) {
      return undefined;
    }
    for (let i = capped + 1; i <= uncapped; i++) {
      const l = view.layers[i];
      if (l?.active === true && l.bitrateBps !== undefined) {
        return l.bitrateBps;
      }
    }
    return undefined;
  }

  /** Probe padding to send after the next frames (bytes; the subscriber's peer spreads a probe over ticks). */
  addProbeBytes(bytes: number): void {
    if (Number.isFinite(bytes) && bytes > 0 && this.track.kind === 'video') {
      this.#probeBytes = Math.min(MAX_PROBE_BACKLOG_BYTES, this.#probeBytes + bytes);
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
    return this.#rttMs;
  }

  /** The subscriber's last reported loss fraction for this stream (0–1). */
  get lossFraction(): number {
    return this.#lossFraction;
  }

  /** What this stream sends, bytes per second (last 0.5 s window). */
  get rateBytesPerS(): number {
    return this.#rateBytesPerS;
  }

  /**
   * A subscriber NACK for this stream's sequence numbers (already bounded and 16-bit): each answered with
   * the packet first sent, unless unknown, older than the buffer, resent within an RTT, or over budget.
   */
  onNack(seqs: readonly number[], now: number): void {
    const buf = this.#sent;
    const counters = this.#counters;
    if (buf === undefined || this.#closed) {
      counters.retransmits.missing += seqs.length;
      return;
    }
    this.#refillRtx(now);
    const dtls = this.transceiver.sender.dtlsTransport;
    const minResendMs = Math.max(5, 0.8 * (this.#rttMs ?? DEFAULT_RTT_MS));
    for (const seq of seqs) {
      const verdict = buf.check(seq, now, minResendMs);
      if (verdict !== 'send') {
        counters.retransmits[verdict]++;
        continue;
      }
      const p = buf.get(seq);
      if (p === undefined) {
        counters.retransmits.missing++;
        continue;
      }
      const size = p.payload.length + RTX_PACKET_OVERHEAD;
      if (this.#rtxTokens < size) {
        counters.retransmits.rate_limited++;
        continue;
      }
      this.#rtxTokens -= size;
      buf.markResent(seq, now);
      counters.retransmits.sent++;
      counters.sends[sendSrtp(dtls, p.payload, p.header)]++;
    }
  }

  /** A report block about this stream from the subscriber (RR or SR): loss fraction and RTT. */
  onReceiverReport(block: ReceiverReportBlock, now: number): void {
    this.#lossFraction = Math.max(0, Math.min(255, block.fractionLost | 0)) / 256;
    if (block.lsr === 0) {
      return;
    }
    const sr = this.#srSent.find((x) => x.lsr === block.lsr >>> 0);
    if (sr === undefined) {
      return;
    }
    const rtt = now - sr.at - (block.dlsr >>> 0) / 65.536;
    if (rtt >= 0 && rtt < 10_000) {
      this.#rttMs = this.#rttMs === undefined ? rtt : this.#rttMs * 0.75 + rtt * 0.25;
    }
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
    const d = this.#fwd.decide(sp.fwd, now, aligned);
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
    // The codec's rewrite (VP8: picture id / TL0PICIDX) works on a copy: the publisher's payload is shared.
    const payload = sp.codec.handler.rewrite(sp.payload, sp.facts, d);
    const plan = this.#extensionPlan();
    const header = new WireRtpHeader({
      ssrc: this.ssrc,
      payloadType: pt,
      sequenceNumber: d.seq,
      timestamp: d.ts,
      marker: d.marker,
      extensions: forwardedExtensions(plan, now, nextTransportSeq(plan, dtls), sp.audioLevel),
    });
    this.#packets = (this.#packets + 1) >>> 0;
    this.#bytes = (this.#bytes + payload.length) >>> 0;
    this.#rateWindowBytes += payload.length + 12;
    this.#counters.packetOut(this.track.kind, payload.length);
    // Kept as is for retransmission: neither the header nor the payload is written after this point (the
    // publisher's payload, when not rewritten, is a per-packet buffer nobody mutates).
    this.#sent?.put(d.seq, now, { header, payload });
    this.#counters.sends[sendSrtp(dtls, payload, header)]++;
    if (d.marker && this.#probeBytes > 0) {
      this.#sendPadding(pt, plan, now);
    }
  }

  /** Periodic (the subscriber's peer ticks it): keyframe retries while waiting, and this stream's SR. */
  tick(now: number): void {
    if (now - this.#rateWindowStart >= RATE_WINDOW_MS) {
      this.#rateBytesPerS = (this.#rateWindowBytes * 1000) / (now - this.#rateWindowStart);
      this.#rateWindowBytes = 0;
      this.#rateWindowStart = now;
    }
    if (this.#closed || !this.#isReady()) {
      return;
    }
    this.#requestIfWaiting(now, false);
    if (this.#fwd.started && now - this.#lastSrAt >= SR_INTERVAL_MS) {
      this.#lastSrAt = now;
      this.#sendSenderReport(now);
    }
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#sent?.clear();
    this.track.removeSink(this);
  }

  /**
   * Probe padding right after a frame's last packet (never inside a frame, where a receiver's frame
   * assembler would see a gap): padding-only packets on this stream's SSRC with sequence numbers reserved
   * in the forwarder, the last frame's timestamp and fresh abs-send-time, so a receive-side estimator counts
   * them. Not kept for retransmission.
   */
  #sendPadding(pt: number, plan: ExtensionPlan, now: number): void {
    const n = Math.min(MAX_PADDING_PER_FRAME, Math.ceil(this.#probeBytes / PADDING_BYTES));
    const slot = this.#fwd.padding(n);
    if (slot === undefined) {
      return;
    }
    this.#probeBytes = Math.max(0, this.#probeBytes - n * PADDING_BYTES);
    const dtls = this.transceiver.sender.dtlsTransport;
    const payload = Buffer.alloc(PADDING_BYTES);
    payload[PADDING_BYTES - 1] = PADDING_BYTES;
    for (let i = 0; i < n; i++) {
      const header = new WireRtpHeader({
        ssrc: this.ssrc,
        payloadType: pt,
        sequenceNumber: (slot.seq + i) & 0xffff,
        timestamp: slot.ts,
        marker: false,
        padding: true,
        extensions: forwardedExtensions(plan, now, nextTransportSeq(plan, dtls), undefined),
      });
      this.#paddingSent++;
      this.#counters.sends[sendSrtp(dtls, payload, header)]++;
    }
  }

  #refillRtx(now: number): void {
    const rate = Math.max(RTX_MIN_RATE_BYTES, this.#rateBytesPerS * RTX_BUDGET_SHARE);
    const elapsed = Math.max(0, now - this.#rtxRefilledAt) / 1000;
    this.#rtxRefilledAt = Math.max(this.#rtxRefilledAt, now);
    this.#rtxTokens = Math.min(rate * RTX_BURST_S, this.#rtxTokens + rate * elapsed);
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
    const idx = selectLayer(view.layers, {
      width: this.#width,
      height: this.#height,
      muted: this.track.muted,
      ...(Number.isFinite(this.#maxBitrateBps) ? { maxBitrateBps: this.#maxBitrateBps } : {}),
    });
    const target = idx === undefined ? undefined : view.ids[idx];
    if (target !== this.#fwd.target) {
      this.#fwd.setTarget(target);
    }
    this.#requestIfWaiting(now, true);
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
    const src = this.transceiver.codecs as readonly NegotiatedCodec[];
    if (src !== this.#ptSrc) {
      this.#ptSrc = src;
      this.#ptByCodec = new Map();
    }
    let pt = this.#ptByCodec.get(codec);
    if (pt === undefined) {
      pt = codec.handler.pick(codec, src)?.payloadType ?? -1;
      this.#ptByCodec.set(codec, pt);
    }
    return pt < 0 ? undefined : pt;
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
    const ntp = ntpFromUnixMs(sr.ntpMs);
    this.#srSent.push({ lsr: Number((ntp >> 16n) & 0xffffffffn), at: now });
    if (this.#srSent.length > 4) {
      this.#srSent.shift();
    }
    const packet = new RtcpSrPacket({
      ssrc: this.ssrc,
      senderInfo: new RtcpSenderInfo({
        ntpTimestamp: ntp,
        rtpTimestamp: sr.rtpTs,
        packetCount: this.#packets,
        octetCount: this.#bytes,
      }),
    });
    void this.transceiver.sender.dtlsTransport.sendRtcp([packet]).catch(() => {
      // the transport is closing
    });
  }
}

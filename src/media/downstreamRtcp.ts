/**
 * The RTCP side of one forwarded stream (a DownTrack's): loss recovery downstream and the stream's reports.
 * Every video packet sent is kept (its plaintext bytes in a preallocated ring, sentPackets.ts, never written
 * afterwards) and a subscriber NACK is answered with exactly those bytes, encrypted again, under the rules of forwarding/retransmitPolicy.ts (at most once per
 * RTT per packet, within a budget of 90 % of the stream's own rate, so a NACK storm can at most double what
 * the stream sends). The subscriber's report blocks give the loss fraction and — on our SRs, one a second,
 * written here — the RTT.
 */
import type { RTCDtlsTransport } from 'werift';
import { lossFraction, resendWindowMs, Retransmitter, RttEstimator } from '../forwarding/retransmitPolicy.js';
import { SendRate } from '../forwarding/sendRate.js';
import { UpstreamGaps } from '../forwarding/upstreamGaps.js';
import { lsrFromNtp, ntpFromUnixMs, senderReportPacket, type ReportBlock } from '../rtp/rtcpFeedback.js';
import type { MediaCounters } from './mediaMetrics.js';
import { sendRtcpBytes } from './rtcpSend.js';
import { scratchPacket, SentPacketRing, type SentPacket } from './sentPackets.js';
import { sendSrtpPacket } from './srtpSend.js';

const SR_INTERVAL_MS = 1000;
/** RTP header bytes counted into the send rate per packet. */
const RTP_HEADER_BYTES = 12;

const payloadBytes = (p: SentPacket): number => p.payloadLength;

export class DownstreamRtcp {
  readonly #counters: MediaCounters;
  /** Sent video packets (audio is not retransmitted). */
  readonly #rtx: Retransmitter<SentPacket> | undefined;
  /** Where video packets are built and kept (slot `seq & (capacity - 1)`, the retransmitter's). */
  readonly #ring: SentPacketRing | undefined;
  readonly #rtt = new RttEstimator();
  readonly #rate: SendRate;
  /** Numbers missing in what was sent (lost before this focus): not the subscriber's loss. */
  readonly #upstream = new UpstreamGaps();
  #lossFraction = 0;
  #lastSrAt = 0;
  /** Packets sent when the last SR and the one before it went out (-1: none yet). */
  #packetsAtLastSr = -1;
  #packetsAtSrBefore = -1;

  constructor(video: boolean, counters: MediaCounters, now: number) {
    this.#counters = counters;
    this.#rate = new SendRate(now);
    this.#rtx = video ? new Retransmitter(payloadBytes, now) : undefined;
    this.#ring = this.#rtx === undefined ? undefined : new SentPacketRing(this.#rtx.capacity);
  }

  /** Round-trip time to the subscriber from its receiver reports (undefined before one). */
  get rttMs(): number | undefined {
    return this.#rtt.rttMs;
  }

  /** The subscriber's last reported loss fraction for this stream (0–1). */
  get lossFraction(): number {
    return this.#lossFraction;
  }

  /** What this stream sends, bytes per second (last 0.5 s window). */
  get rateBytesPerS(): number {
    return this.#rate.bytesPerS;
  }

  /**
   * Memory to build the packet with output sequence number `seq` in, with room for `size` bytes: for video its
   * slot in the retransmission ring (what the slot held is forgotten; the ring grows first when that was still
   * inside the retransmission age), else the shared scratch.
   */
  packetFor(seq: number, size: number, now: number): SentPacket {
    const ring = this.#ring;
    if (ring === undefined) {
      return scratchPacket(size);
    }
    if (this.#rtx?.makeRoom(seq, now) === true) {
      ring.grow(); // the retransmitter grew: its slots and the ring's stay the same
    }
    return ring.slot(seq, size);
  }

  /** The packet built in `packetFor(seq)` goes out now (video: kept as is for retransmission). */
  sent(seq: number, now: number, p: SentPacket): void {
    this.#rate.add(p.payloadLength + RTP_HEADER_BYTES);
    this.#upstream.onSent(seq, now);
    if (this.#ring !== undefined) {
      this.#rtx?.remember(seq, now, p);
    }
  }

  /** Padding packets `seq`..`seq + n − 1` went out (not kept; their numbers are no gap). */
  sentPadding(seq: number, n: number, now: number): void {
    for (let i = 0; i < n; i++) {
      this.#upstream.onSent((seq + i) & 0xffff, now);
    }
  }

  /** Closes the send-rate window when due. */
  tick(now: number): void {
    this.#rate.tick(now);
  }

  /** A subscriber NACK (sequence numbers already bounded and 16-bit): resends what the rules allow. */
  onNack(seqs: readonly number[], now: number, dtls: RTCDtlsTransport): void {
    const rtx = this.#rtx;
    const counters = this.#counters;
    if (rtx === undefined) {
      counters.retransmits.missing += seqs.length;
      return;
    }
    rtx.refill(now, this.#rate.bytesPerS);
    const windowMs = resendWindowMs(this.#rtt.rttMs);
    for (const seq of seqs) {
      const p = rtx.answer(seq, now, windowMs);
      if (typeof p === 'string') {
        counters.retransmits[p]++;
        continue;
      }
      if (this.#ring?.get(seq) !== p) {
        counters.retransmits.missing++; // its slot was built for a packet that never went out
        continue;
      }
      counters.retransmits.sent++;
      counters.sends[sendSrtpPacket(dtls, p)]++;
    }
  }

  /** A report block about this stream from the subscriber (RR or SR): loss fraction (its path's) and RTT. */
  onReport(block: ReportBlock, now: number): void {
    this.#lossFraction = lossFraction(this.#upstream.downstreamFraction(block.fractionLost, now));
    this.#rtt.onReport(block.lsr, block.dlsr, now);
  }

  /**
   * Whether this stream's SR is due (then it counts as sent now): a second after the last one, and only while
   * sending — RFC 3550 §6.4.1: an SR if packets went out since the report before the last. A paused stream
   * sends two more and then none (at idle they were most of the SFU's timer work: 2 a second per subscriber).
   */
  takeSenderReportSlot(now: number, packetsSent: number): boolean {
    if (now - this.#lastSrAt < SR_INTERVAL_MS || packetsSent === this.#packetsAtSrBefore) {
      return false;
    }
    this.#packetsAtSrBefore = this.#packetsAtLastSr;
    this.#packetsAtLastSr = packetsSent;
    this.#lastSrAt = now;
    return true;
  }

  /** Sends this stream's SR (remembered for the RTT of the reports that will echo it). */
  sendSenderReport(
    dtls: RTCDtlsTransport,
    ssrc: number,
    sr: { ntpMs: number; rtpTs: number },
    counts: { packets: number; bytes: number },
    now: number,
  ): void {
    const ntp = ntpFromUnixMs(sr.ntpMs);
    this.#rtt.onSenderReportSent(lsrFromNtp(ntp), now);
    sendRtcpBytes(dtls, senderReportPacket(ssrc, ntp, sr.rtpTs, counts.packets, counts.bytes));
  }

  clear(): void {
    this.#rtx?.clear();
    this.#ring?.clear();
  }
}

/**
 * The RTCP side of one forwarded stream (a DownTrack's): loss recovery downstream and the stream's reports.
 * Every video packet sent is kept (its plaintext bytes in a preallocated ring, sentPackets.ts, never written
 * afterwards) and a subscriber NACK is answered with exactly those bytes, encrypted again, under the rules of forwarding/retransmitPolicy.ts (at most once per
 * RTT per packet, within a budget of 90 % of the stream's own rate, so a NACK storm can at most double what
 * the stream sends). The subscriber's report blocks give the loss fraction and — on our SRs, one a second,
 * written here — the RTT.
 */
import type { RTCDtlsTransport } from 'werift';
import { lossFraction, resendWindowMs, RttEstimator } from '../forwarding/retransmitPolicy.js';
import { SendRate } from '../forwarding/sendRate.js';
import { UpstreamGaps } from '../forwarding/upstreamGaps.js';
import { lsrFromNtp, ntpFromUnixMs, senderReportPacket, type ReportBlock } from '../rtp/rtcpFeedback.js';
import type { MediaCounters } from './mediaMetrics.js';
import { sendRtcpBytes } from './rtcpSend.js';
import { scratchPacket, type SentPacket } from './sentPackets.js';
import { SentStore } from './sentStore.js';
import { sendSrtpPacket } from './srtpSend.js';

const SR_INTERVAL_MS = 1000;
/** RTP header bytes counted into the send rate per packet. */
const RTP_HEADER_BYTES = 12;

export class DownstreamRtcp {
  readonly #counters: MediaCounters;
  /** Where video packets are built and kept (audio is not retransmitted). */
  readonly #store: SentStore | undefined;
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
    this.#store = video ? new SentStore(now) : undefined;
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
    return this.#store === undefined ? scratchPacket(size) : this.#store.slot(seq, size, now);
  }

  /** The packet built in `packetFor(seq)` goes out now (video: kept as is for retransmission). */
  sent(seq: number, now: number, p: SentPacket): void {
    this.#rate.add(p.payloadLength + RTP_HEADER_BYTES);
    this.#upstream.onSent(seq, now);
    this.#store?.remember(seq, now, p);
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
    const store = this.#store;
    const counters = this.#counters;
    if (store === undefined) {
      counters.retransmits.missing += seqs.length;
      return;
    }
    store.refill(now, this.#rate.bytesPerS);
    const windowMs = resendWindowMs(this.#rtt.rttMs);
    for (const seq of seqs) {
      const p = store.answer(seq, now, windowMs); // `missing` also when its slot was built again, never sent
      if (typeof p === 'string') {
        counters.retransmits[p]++;
        continue;
      }
      counters.retransmits.sent++;
      counters.sent(sendSrtpPacket(dtls, p));
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
    this.#store?.clear();
  }
}

/**
 * The downstream retransmission rules (README "Loss recovery and bandwidth"), pure: time is passed in.
 *
 * - Every video packet sent to a subscriber is kept (a {@link RetransmitBuffer} of 512 packets, 1.5 s) and a
 *   NACK is answered with exactly the packet first sent, unless it is unknown, too old, already resent within
 *   the de-duplication window (0.8 × RTT, at least 5 ms: "at most once per RTT per packet"), or over budget.
 * - The budget is a token bucket refilled at 90 % of the stream's own send rate (at least 64 kbit/s) with
 *   bursts of 0.25 s of it; a resent packet costs its payload plus 40 bytes of RTP, extension and SRTP
 *   overhead. A subscriber that NACKs everything makes the SFU send it at most twice the stream.
 * - The RTT comes from the subscriber's receiver reports on our SRs (LSR/DLSR, RFC 3550 §6.4.1), smoothed
 *   ¾ old + ¼ new; 20 ms until the first one.
 * - At most MAX_NACK_SEQS (512, rtp/rtcpNack.ts) sequence numbers are taken from one NACK packet: applied
 *   where the NACK is read (rtp/rtcpFeedback.ts `readRtcp`).
 */
import { RetransmitBuffer, type ResendVerdict } from './retransmitBuffer.js';

/** ≥ 1 s up to ≈ 4.7 Mbit/s of 1,150-byte packets, ≈ 1.9 s of a 720p stream (bench `memory`: ≈ 1.2 MB). */
export const RTX_BUFFER_PACKETS = 512;
/**
 * Where a stream's buffer starts (≈ 1 s of a 360p layer): it doubles up to RTX_BUFFER_PACKETS only when the
 * stream sends more than it holds for RTX_BUFFER_MS. A 512-slot buffer (and its 0.9 MB of packet memory) for
 * every video subscription was most of a meeting focus's memory: 16 people, 240 subscriptions, 220 MB.
 */
export const RTX_BUFFER_INITIAL_PACKETS = 64;
export const RTX_BUFFER_MS = 1500;
export const RTX_BUDGET_SHARE = 0.9;
export const RTX_BURST_S = 0.25;
export const RTX_PACKET_OVERHEAD = 40;
/** Before the stream's rate is known, and as a floor: 64 kbit/s. */
export const RTX_MIN_RATE_BYTES = 8000;
export const DEFAULT_RTT_MS = 20;
const MIN_RESEND_MS = 5;
const RESEND_RTT_SHARE = 0.8;
/** RTT samples outside [0, this) are discarded. */
const MAX_RTT_MS = 10_000;
/** SRs remembered for matching receiver reports' LSR. */
const SR_LOG = 4;

/** The de-duplication window: a packet is resent at most once within it. */
export function resendWindowMs(rttMs: number | undefined): number {
  return Math.max(MIN_RESEND_MS, RESEND_RTT_SHARE * (rttMs ?? DEFAULT_RTT_MS));
}

/** Why a NACKed sequence number was not answered (the names of the `retransmits` counter). */
export type RetransmitRefusal = Exclude<ResendVerdict, 'send'> | 'rate_limited';

/** The retransmission byte budget of one stream. */
export class RetransmitBudget {
  #tokens = RTX_MIN_RATE_BYTES * RTX_BURST_S;
  #refilledAt: number;

  constructor(now: number) {
    this.#refilledAt = now;
  }

  get tokens(): number {
    return this.#tokens;
  }

  /** Adds what accrued since the last refill at 90 % of `streamBytesPerS`; time never runs backwards. */
  refill(now: number, streamBytesPerS: number): void {
    const rate = Math.max(RTX_MIN_RATE_BYTES, streamBytesPerS * RTX_BUDGET_SHARE);
    const elapsed = Math.max(0, now - this.#refilledAt) / 1000;
    this.#refilledAt = Math.max(this.#refilledAt, now);
    this.#tokens = Math.min(rate * RTX_BURST_S, this.#tokens + rate * elapsed);
  }

  /** Charges a resend of `payloadBytes` (plus overhead); false (nothing charged) when it does not fit. */
  take(payloadBytes: number): boolean {
    const size = payloadBytes + RTX_PACKET_OVERHEAD;
    if (this.#tokens < size) {
      return false;
    }
    this.#tokens -= size;
    return true;
  }
}

/** A retransmission buffer's size: where it starts, the most it grows to (packets), and the age it keeps. */
export interface RetransmitSizes {
  readonly initialPackets: number;
  readonly maxPackets: number;
  readonly maxAgeMs: number;
}

/** A subscriber stream's (above). */
export const DOWNSTREAM_RTX_SIZES: RetransmitSizes = {
  initialPackets: RTX_BUFFER_INITIAL_PACKETS,
  maxPackets: RTX_BUFFER_PACKETS,
  maxAgeMs: RTX_BUFFER_MS,
};

/** The sent packets of one stream and the rules for answering its NACKs. */
export class Retransmitter<T extends object> {
  readonly #buf: RetransmitBuffer<T>;
  readonly #budget: RetransmitBudget;
  readonly #payloadBytes: (item: T) => number;
  readonly #maxPackets: number;

  /** `payloadBytes` says what a stored packet costs to resend (without overhead). */
  constructor(payloadBytes: (item: T) => number, now: number, sizes: RetransmitSizes = DOWNSTREAM_RTX_SIZES) {
    this.#buf = new RetransmitBuffer<T>(sizes.initialPackets, sizes.maxAgeMs);
    this.#maxPackets = sizes.maxPackets;
    this.#budget = new RetransmitBudget(now);
    this.#payloadBytes = payloadBytes;
  }

  /**
   * Before keeping `seq` (sent at `now`): when its slot still holds a packet inside the age kept and the buffer
   * is below its most packets, the buffer doubles (every packet kept) and this says true — whoever indexes
   * memory by the same slots grows with it.
   */
  makeRoom(seq: number, now: number): boolean {
    if (this.#buf.capacity >= this.#maxPackets || !this.#buf.evictsYoung(seq, now)) {
      return false;
    }
    this.#buf.grow();
    return true;
  }

  get budgetBytes(): number {
    return this.#budget.tokens;
  }

  /** Packets kept (a power of two: the buffer's slot of `seq` is `seq & (capacity - 1)`). */
  get capacity(): number {
    return this.#buf.capacity;
  }

  /** Keeps the packet sent with output sequence number `seq` (it must not be mutated afterwards). */
  remember(seq: number, now: number, item: T): void {
    this.#buf.put(seq, now, item);
  }

  /** Once per received NACK packet, before {@link answer}: refills the budget. */
  refill(now: number, streamBytesPerS: number): void {
    this.#budget.refill(now, streamBytesPerS);
  }

  /**
   * One NACKed sequence number: the packet to resend now (already charged and marked resent), or why not.
   * `windowMs` is {@link resendWindowMs} of the current RTT.
   */
  answer(seq: number, now: number, windowMs: number): T | RetransmitRefusal {
    const verdict = this.#buf.check(seq, now, windowMs);
    if (verdict !== 'send') {
      return verdict;
    }
    const item = this.#buf.get(seq);
    if (item === undefined) {
      return 'missing';
    }
    if (!this.#budget.take(this.#payloadBytes(item))) {
      return 'rate_limited';
    }
    this.#buf.markResent(seq, now);
    return item;
  }

  clear(): void {
    this.#buf.clear();
  }
}

/** A reception report's 8-bit fraction lost as 0–1 (out-of-range values clamped). */
export function lossFraction(fractionLost: number): number {
  return Math.max(0, Math.min(255, fractionLost | 0)) / 256;
}

/** Round-trip time to a subscriber from its report blocks on our sender reports. */
export class RttEstimator {
  /** Our recent SRs: LSR (middle 32 bits of their NTP time) → when sent. */
  readonly #sent: { lsr: number; at: number }[] = [];
  #rttMs: number | undefined;

  /** Undefined before the first report that echoed one of our SRs. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** We sent an SR whose NTP time has these middle 32 bits. */
  onSenderReportSent(lsr: number, at: number): void {
    this.#sent.push({ lsr: lsr >>> 0, at });
    if (this.#sent.length > SR_LOG) {
      this.#sent.shift();
    }
  }

  /** A report block's LSR and DLSR (1/65536 s): RTT = now − sent − DLSR, when it names a recent SR. */
  onReport(lsr: number, dlsr: number, now: number): void {
    if (lsr === 0) {
      return;
    }
    const sr = this.#sent.find((x) => x.lsr === lsr >>> 0);
    if (sr === undefined) {
      return;
    }
    const rtt = now - sr.at - (dlsr >>> 0) / 65.536;
    if (rtt >= 0 && rtt < MAX_RTT_MS) {
      this.#rttMs = this.#rttMs === undefined ? rtt : this.#rttMs * 0.75 + rtt * 0.25;
    }
  }
}

/**
 * What a receiver reports about one RTP stream (RFC 3550 §6.4.1, appendix A.1, A.3 and A.8), pure and
 * allocation-free per packet: the extended highest sequence number, the cumulative and interval loss, the
 * interarrival jitter and the last sender report seen (LSR/DLSR).
 *
 * - Sequence numbers (A.1, without probation: a stream is accepted from its first packet): a packet within
 *   `MAX_DROPOUT` (3000) ahead of the highest advances it, counting a wrap as a new cycle; a packet further
 *   ahead (but not within `MAX_MISORDER` (100) behind) is a jump: ignored, unless the next one follows it, which
 *   restarts the statistics there (the sender restarted its sequence). Duplicates and late packets count as
 *   received (so a repaired loss is not a loss), never move the highest.
 * - Jitter (A.8): from the RTP timestamp and the arrival time in the stream's clock rate, smoothed by 1/16;
 *   only packets that advance the highest sequence number count (a retransmission arrives late by design).
 * - Loss: cumulative = expected − received (clamped to the 24-bit signed field); the fraction over the
 *   interval since the previous `report` (0 when nothing was lost or more arrived than expected). After
 *   `skipGap()` (the path was down: an outage, not congestion) the sequence numbers the next advancing packet
 *   skips are left out of the interval (expected and lost alike); the cumulative count keeps them.
 * - After `skipPause()` (the caller judged the stream paused by its sender, which forwards another source's
 *   numbers verbatim: a trunk layer the sending focus paused, protocol.md §8.5) the numbers the next advancing
 *   packet skips were never sent: they leave expected and lost, interval and cumulative alike. Counted as
 *   loss they read as a loss burst of nearly 100 % at every resume.
 * - Time: `arrivalMs` and `now` in the receiver's clock (ms); a clock running backwards counts as no time.
 */

const SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MAX_LOST = 0x7fffff;
const MIN_LOST = -0x800000;

/** One reception report block to write (RFC 3550 §6.4.1), every field already in its wire range. */
export interface ReceptionReport {
  readonly ssrc: number;
  /** 0–255 (8-bit fixed point). */
  readonly fractionLost: number;
  /** Signed, clamped to 24 bits. */
  readonly cumulativeLost: number;
  /** Cycles × 65536 + highest sequence number, 32-bit unsigned. */
  readonly extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units, 32-bit unsigned. */
  readonly jitter: number;
  /** Middle 32 bits of the last SR's NTP time (0: none). */
  readonly lsr: number;
  /** Delay since that SR in 1/65536 s (0: none). */
  readonly dlsr: number;
  /** Packets expected and lost in the interval this report closes (for the estimator; not on the wire). */
  readonly expectedInterval: number;
  readonly lostInterval: number;
}

export class ReceptionStats {
  readonly ssrc: number;
  readonly #ticksPerMs: number;
  #started = false;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #badSeq = SEQ_MOD + 1;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #jitter = 0;
  #haveTransit = false;
  #lastTs = 0;
  #lastArrival = 0;
  #lsr = 0;
  #srAt = Number.NaN;
  #skipGap = false;
  #skipPause = false;
  /** Sequence numbers skipped across pauses since the (re)start: never sent, not expected. */
  #unsent = 0;

  /** `clockRate`: the stream's RTP clock (Hz), 90000 for video, 48000 for Opus. */
  constructor(ssrc: number, clockRate: number) {
    this.ssrc = ssrc >>> 0;
    this.#ticksPerMs = Number.isFinite(clockRate) && clockRate > 0 ? clockRate / 1000 : 90;
  }

  /** When the last packet that advanced the highest sequence number arrived (ms; NaN before any). */
  get lastArrivalMs(): number {
    return this.#started ? this.#lastArrival : Number.NaN;
  }

  /** Whether any packet was accepted (a report is written only then). */
  get started(): boolean {
    return this.#started;
  }

  /** Packets counted as received since the (re)start. */
  get received(): number {
    return this.#received;
  }

  /** The current jitter in timestamp units. */
  get jitter(): number {
    return this.#jitter;
  }

  /** One received packet: its 16-bit sequence number, 32-bit timestamp and arrival time (ms). */
  onPacket(seq: number, ts: number, arrivalMs: number): void {
    if (!Number.isInteger(seq) || seq < 0 || seq >= SEQ_MOD || !Number.isFinite(arrivalMs)) {
      return;
    }
    if (!this.#started) {
      this.#restart(seq);
      this.#received = 1;
      this.#started = true;
      this.#jitterFrom(ts, arrivalMs, false);
      return;
    }
    const udelta = (seq - this.#maxSeq) & (SEQ_MOD - 1);
    if (udelta !== 0 && udelta < MAX_DROPOUT) {
      if (seq < this.#maxSeq) {
        this.#cycles += SEQ_MOD;
      }
      this.#maxSeq = seq;
      this.#received++;
      if (this.#skipPause) {
        this.#skipPause = false;
        this.#skipGap = false; // not lost to an outage either: not sent at all
        this.#unsent += udelta - 1;
      } else if (this.#skipGap) {
        this.#skipGap = false;
        this.#expectedPrior += udelta - 1;
      }
      this.#jitterFrom(ts, arrivalMs, true);
      return;
    }
    if (udelta !== 0 && udelta <= SEQ_MOD - MAX_MISORDER) {
      if (seq !== this.#badSeq) {
        this.#badSeq = (seq + 1) & (SEQ_MOD - 1);
        return;
      }
      // Two packets in sequence after a jump: the sender restarted its numbering.
      this.#restart(seq);
      this.#received = 1;
      this.#jitterFrom(ts, arrivalMs, false);
      return;
    }
    this.#received++; // a duplicate or a late (reordered, retransmitted) packet
  }

  /**
   * The path was down (no packet of the link for a while): the sequence numbers the next advancing packet skips
   * were lost to the outage, and the next interval's fraction leaves them out (the cumulative loss keeps them).
   */
  skipGap(): void {
    this.#skipGap = this.#started;
  }

  /** The sender paused this stream: the numbers the next advancing packet skips were not sent (header). */
  skipPause(): void {
    this.#skipPause = this.#started;
  }

  /** A sender report for this stream arrived: `lsr` the middle 32 bits of its NTP time. */
  onSenderReport(lsr: number, now: number): void {
    if (!Number.isFinite(lsr) || !Number.isFinite(now)) {
      return;
    }
    this.#lsr = lsr >>> 0;
    this.#srAt = now;
  }

  /** The block for a receiver report at `now`, closing the loss interval; undefined before any packet. */
  report(now: number): ReceptionReport | undefined {
    if (!this.#started) {
      return undefined;
    }
    const extended = this.#cycles + this.#maxSeq;
    const expected = extended - this.#baseSeq + 1 - this.#unsent;
    const lost = Math.max(MIN_LOST, Math.min(MAX_LOST, expected - this.#received));
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const lostInterval = Math.max(0, expectedInterval - receivedInterval);
    const fractionLost =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    let dlsr = 0;
    if (this.#lsr !== 0 && !Number.isNaN(this.#srAt)) {
      dlsr = Math.min(0xffffffff, Math.floor(Math.max(0, now - this.#srAt) * 65.536));
    }
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost: lost,
      extendedHighestSeq: extended >>> 0,
      jitter: Math.min(0xffffffff, Math.floor(this.#jitter)),
      lsr: this.#lsr,
      dlsr,
      expectedInterval: Math.max(0, expectedInterval),
      lostInterval,
    };
  }

  #restart(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#cycles = 0;
    this.#badSeq = SEQ_MOD + 1;
    this.#received = 0;
    this.#expectedPrior = 0;
    this.#receivedPrior = 0;
    this.#haveTransit = false;
    this.#skipGap = false;
    this.#skipPause = false;
    this.#unsent = 0;
  }

  #jitterFrom(ts: number, arrivalMs: number, count: boolean): void {
    if (count && this.#haveTransit) {
      const elapsedMs = Math.max(0, arrivalMs - this.#lastArrival);
      const tsDelta = ((ts >>> 0) - this.#lastTs) | 0; // signed 32-bit difference: wraps are invisible
      const d = Math.abs(elapsedMs * this.#ticksPerMs - tsDelta);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#haveTransit = true;
    this.#lastTs = ts >>> 0;
    this.#lastArrival = arrivalMs;
  }
}

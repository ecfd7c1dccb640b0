/**
 * Loss before this focus, seen from what it sends (protocol.md §8.5). A stream this focus sends keeps the gaps
 * of what it received: the trunk carries the publisher's sequence numbers verbatim (§8.2), and a forwarded
 * stream's munging keeps a gap as a gap (the subscriber may NACK it). So a packet the publisher → this focus
 * hop lost and never repaired is missing downstream too, and the receiver's reports count it as lost on the
 * path after this focus. Counted as such, a publisher on a lossy uplink made congestion control cut the trunk
 * for every remote subscriber, and each subscriber's estimate (media/link/trunkSender.ts,
 * media/downstreamRtcp.ts). Per sent stream this counts the numbers skipped in what was sent (a later packet
 * filling a gap takes it back: repaired upstream) over about the last second, and takes that share off the
 * fraction lost a report gives.
 * - A gap across a pause of the layer (`restart`) or wider than MAX_GAP is not loss (a layer resumed, a
 *   publisher's encoder restarted).
 * - Two buckets of WINDOW_MS: the share is over the current and the last one (a report covers the interval
 *   before it, 200–500 ms on a link).
 * Pure: time is passed in, nothing is allocated per packet.
 */
import { seqDiff } from '../rtp/seq.js';

/** A wider jump of the sequence numbers sent is not counted as loss. */
export const MAX_GAP = 100;
/** Bucket length (ms). */
export const WINDOW_MS = 500;

export class UpstreamGaps {
  #highest = -1;
  #bucketAt = 0;
  #sent = 0;
  #gaps = 0;
  #prevSent = 0;
  #prevGaps = 0;

  /** The next packet sent starts the count afresh (a layer resumed after a pause). */
  restart(): void {
    this.#highest = -1;
  }

  /** Packet `seq` went out on the trunk at `now`. */
  onSent(seq: number, now: number): void {
    this.#roll(now);
    this.#sent++;
    if (this.#highest < 0) {
      this.#highest = seq;
      return;
    }
    const d = seqDiff(seq, this.#highest, 16);
    if (d > 0) {
      if (d > 1 && d <= MAX_GAP) {
        this.#gaps += d - 1;
      }
      this.#highest = seq;
    } else if (d < 0 && d >= -MAX_GAP) {
      // a number from inside a gap: repaired before the trunk (a retransmission answered on the trunk is not
      // sent through here)
      if (this.#gaps > 0) {
        this.#gaps--;
      } else if (this.#prevGaps > 0) {
        this.#prevGaps--;
      }
    }
  }

  /** The share of numbers skipped upstream over about the last second (0–1). */
  share(now: number): number {
    this.#roll(now);
    const gaps = this.#gaps + this.#prevGaps;
    const total = gaps + this.#sent + this.#prevSent;
    return total === 0 ? 0 : gaps / total;
  }

  /** A report's 8-bit fraction lost with the upstream share taken off (what the path after this focus lost). */
  downstreamFraction(fractionLost: number, now: number): number {
    return Math.max(0, fractionLost - Math.round(this.share(now) * 256));
  }

  #roll(now: number): void {
    if (now - this.#bucketAt < WINDOW_MS) {
      return;
    }
    const idle = now - this.#bucketAt >= 2 * WINDOW_MS;
    this.#prevSent = idle ? 0 : this.#sent;
    this.#prevGaps = idle ? 0 : this.#gaps;
    this.#sent = 0;
    this.#gaps = 0;
    this.#bucketAt = now;
  }
}

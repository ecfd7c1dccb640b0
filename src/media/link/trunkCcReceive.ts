/**
 * The receive side of trunk congestion control for one link (protocol.md §8.5): every trunk RTP packet the
 * link receives feeds the capacity estimate (forwarding/trunkEstimator.ts: abs-send-time delay gradient only;
 * the loss rule is the sending focus's, which can tell loss before the trunk from the trunk's) and, for the
 * trunk SSRCs the remote focus announced, the reception statistics of its receiver-report block
 * (rtp/receptionStats.ts). The link's tick asks `tick(now)` for the RTCP to send on the link.
 *
 * - Per packet: no allocation — the abs-send-time is read in place from the RtpPacketView by the link's
 *   extension id (absent or not 3 bytes: the packet counts bytes only), the statistics are a map lookup.
 *   Packets of SSRCs not announced count toward the rate (they are on the wire) but get no block.
 * - Output (bytes for one SRTCP send, RR first as RFC 3550 §6.1 wants): receiver-report blocks at most every
 *   `reportIntervalMs` (500 ms) and never closer than `minReportMs` (200 ms), each closing a loss interval,
 *   and a REMB naming
 *   the trunk SSRCs whenever the estimator says one is due (first at once, then every 500 ms, a ≥ 3 % rise
 *   not within 200 ms, a ≥ 3 % drop at once). A REMB due between blocks goes behind an empty RR.
 * - An outage is not congestion: after `OUTAGE_GAP_MS` (1 s) without any trunk packet (the path was down, e.g.
 *   while the link was suspended and ICE-restarted, protocol.md §8.7), the sequence numbers each trunk SSRC
 *   skips across the gap are left out of the next loss interval (rtp/receptionStats.ts `skipGap`), so the
 *   sender's loss rule (which reads the fraction in these blocks) does not cut the rate to the
 *   few packets that arrived since — which would pause the relayed video for many seconds after the path is
 *   back. The cumulative loss in the blocks still counts them.
 * - A paused layer is not loss: a trunk SSRC silent for `PAUSE_GAP_MS` (250 ms) *of trunk time* was paused by
 *   the sender (§8.5), and the publisher's numbers it skips when it resumes were never sent; they are left out
 *   of the blocks altogether (receptionStats.ts `skipPause`). Trunk time advances with the trunk's packets, a
 *   gap between two of them counting at most `LIVE_STEP_MS` (100 ms): so a blackout of the whole trunk (no
 *   packet at all: loss, or an outage as above) adds little of it, while a layer silent as audio and the
 *   other layers go on adds it all — also when a stall of either focus delayed the trunk as a whole.
 *   Counted, every resume of a paused layer read as a loss burst of nearly 100 % and the loss rules cut the
 *   trunk to half of what flowed (measured: 2.6 → 1.4 → 0.66 Mbit/s in 1 s at the 20/20 cascade point, the
 *   far side left with no video).
 * - `estimateBps`: the estimate at the last tick, undefined before the first trunk packet.
 */
import type { HostStalls } from '../hostStall.js';
import { TrunkEstimator, type TrunkEstimatorOptions } from '../../forwarding/trunkEstimator.js';
import type { RtpPacketView } from '../../rtp/packetView.js';
import { ReceptionStats, type ReceptionReport } from '../../rtp/receptionStats.js';
import { receiverReportPackets } from '../../rtp/receiverReport.js';
import { rembPacket } from '../../rtp/rtcpFeedback.js';

export interface TrunkReceiveCcOptions {
  /** The SSRC this focus's RTCP on the link is sent from. */
  readonly senderSsrc: number;
  /** The link's abs-send-time extension id (undefined: not negotiated: no delay signal, the sender's loss rule alone bounds the rate). */
  readonly absSendTimeId?: number;
  /** Longest time between receiver reports (default 500 ms). */
  readonly reportIntervalMs?: number;
  /** Shortest time between report blocks (default 200 ms). */
  readonly minReportMs?: number;
  readonly estimator?: Partial<TrunkEstimatorOptions>;
  /** This process's event-loop stalls (media/hostStall.ts): overuse right after one is not congestion. */
  readonly hostStalls?: HostStalls;
}

/** A trunk SSRC the remote focus announced, with its RTP clock rate (90000 video, 48000 Opus). */
export interface TrunkSsrc {
  readonly ssrc: number;
  readonly clockRate: number;
}

const MAX_TRUNK_SSRCS = 1024;
/** No trunk packet for this long: the path was down (an outage), not congested. */
export const OUTAGE_GAP_MS = 1000;
/**
 * Silence of one trunk SSRC after which the numbers it skips were not sent (its layer was paused, §8.5; the
 * trunk carries the publisher's numbers verbatim): a flowing layer has a frame every ≤ 100 ms.
 */
export const PAUSE_GAP_MS = 250;
/** The most one gap between trunk packets adds to trunk time. */
export const LIVE_STEP_MS = 100;

export class TrunkReceiveCc {
  readonly #senderSsrc: number;
  readonly #reportIntervalMs: number;
  readonly #minReportMs: number;
  readonly #estimator: TrunkEstimator;
  readonly #hostStalls: HostStalls | undefined;
  #absId: number | undefined;
  readonly #stats = new Map<number, ReceptionStats>();
  #seenPacket = false;
  #lastArrivalMs = Number.NaN;
  /** Trunk time (ms): real time while trunk packets arrive, each gap between two counting ≤ LIVE_STEP_MS. */
  #liveMs = 0;
  /** Per announced trunk SSRC: trunk time at its last packet (NaN before one; a box made with its stats). */
  readonly #liveAt = new Map<number, { at: number }>();
  #lastBlocksAt = Number.NEGATIVE_INFINITY;
  #estimate: number | undefined;

  constructor(options: TrunkReceiveCcOptions) {
    this.#senderSsrc = options.senderSsrc >>> 0;
    this.#reportIntervalMs = options.reportIntervalMs ?? 500;
    this.#minReportMs = Math.min(options.minReportMs ?? 200, this.#reportIntervalMs);
    this.#estimator = new TrunkEstimator(options.estimator);
    this.#hostStalls = options.hostStalls;
    this.setAbsSendTimeId(options.absSendTimeId);
  }

  /** The estimate at the last tick (bit/s), undefined before the first trunk packet. */
  get estimateBps(): number | undefined {
    return this.#estimate;
  }

  /** The received trunk rate (bit/s) over the last 0.5 s window. */
  get receivedBps(): number {
    return this.#estimator.receivedBps;
  }

  /** The delay detector's verdict now (for logs and tests). */
  get usage(): 'normal' | 'overuse' | 'underuse' {
    return this.#estimator.usage;
  }

  /** The link's abs-send-time extension id changed (renegotiation); invalid ids switch it off. */
  setAbsSendTimeId(id: number | undefined): void {
    this.#absId = id !== undefined && Number.isInteger(id) && id >= 1 && id <= 255 ? id : undefined;
  }

  /** Round-trip time on the link (ms), when the link knows it: tunes the additive increase. */
  setRtt(ms: number): void {
    this.#estimator.setRtt(ms);
  }

  /**
   * The trunk SSRCs announced now (the whole set): new ones start statistics, kept ones keep theirs, missing
   * ones are forgotten. At most 1024 are tracked.
   */
  setSsrcs(list: readonly TrunkSsrc[]): void {
    const keep = new Set<number>();
    for (const s of list) {
      const ssrc = s.ssrc >>> 0;
      if (keep.size >= MAX_TRUNK_SSRCS) {
        break;
      }
      keep.add(ssrc);
      if (!this.#stats.has(ssrc)) {
        this.#stats.set(ssrc, new ReceptionStats(ssrc, s.clockRate));
        this.#liveAt.set(ssrc, { at: Number.NaN });
      }
    }
    for (const ssrc of [...this.#stats.keys()]) {
      if (!keep.has(ssrc)) {
        this.#stats.delete(ssrc);
        this.#liveAt.delete(ssrc);
      }
    }
  }

  /** Whether `ssrc` is an announced trunk SSRC. */
  knows(ssrc: number): boolean {
    return this.#stats.has(ssrc >>> 0);
  }

  /**
   * One trunk RTP packet as received (decrypted), at `arrivalMs` (the link's clock: the kernel's arrival time
   * where the add-on read it, linkMedia.ts).
   */
  onRtp(view: RtpPacketView, arrivalMs: number): void {
    if (!view.valid) {
      return;
    }
    let abs = -1;
    if (this.#absId !== undefined) {
      const at = view.extension(this.#absId);
      if (at >= 0 && view.foundLength === 3) {
        const b = view.buffer;
        abs = ((b[at] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at + 2] as number);
      }
    }
    this.#seenPacket = true;
    const trunkGap = arrivalMs - this.#lastArrivalMs;
    if (trunkGap > 0) {
      this.#liveMs += Math.min(trunkGap, LIVE_STEP_MS);
    }
    if (trunkGap >= OUTAGE_GAP_MS) {
      for (const s of this.#stats.values()) {
        s.skipGap();
      }
    }
    if (!(arrivalMs < this.#lastArrivalMs)) {
      this.#lastArrivalMs = arrivalMs;
    }
    this.#estimator.onPacket(abs, arrivalMs, view.length);
    const stats = this.#stats.get(view.ssrc);
    if (stats !== undefined) {
      const ssrc = view.ssrc;
      const live = this.#liveAt.get(ssrc);
      if (live !== undefined && this.#liveMs - live.at >= PAUSE_GAP_MS) {
        stats.skipPause(); // silent while the trunk flowed: the sender paused this layer
      }
      if (live !== undefined) {
        live.at = this.#liveMs;
      }
      stats.onPacket(view.seq, view.ts, arrivalMs);
    }
  }

  /** A sender report arrived for a trunk SSRC: `lsr` the middle 32 bits of its NTP time (rtcpFeedback.ts). */
  onSenderReport(ssrc: number, lsr: number, now: number): void {
    this.#stats.get(ssrc >>> 0)?.onSenderReport(lsr, now);
  }

  /** The RTCP to send on the link now (RR blocks and/or REMB), or undefined when nothing is due. */
  tick(now: number): Uint8Array | undefined {
    if (!this.#seenPacket) {
      return undefined;
    }
    if (this.#hostStalls !== undefined) {
      this.#estimator.onHostStall(this.#hostStalls.poll(now));
    }
    const since = now - this.#lastBlocksAt;
    let blocks: ReceptionReport[] | undefined;
    if (since >= this.#reportIntervalMs || since < 0) {
      blocks = this.#closeInterval(now);
    }
    const remb = this.#estimator.rembDue(now);
    if (remb !== undefined && blocks === undefined && since >= this.#minReportMs) {
      blocks = this.#closeInterval(now);
    }
    this.#estimate = this.#estimator.estimate(now);
    if (blocks === undefined && remb === undefined) {
      return undefined;
    }
    const rr = receiverReportPackets(this.#senderSsrc, blocks ?? []);
    if (remb === undefined) {
      return blocks !== undefined && blocks.length > 0 ? rr : undefined;
    }
    const ssrcs: number[] = [];
    for (const s of this.#stats.values()) {
      if (s.started) {
        ssrcs.push(s.ssrc);
      }
    }
    const rembBytes = rembPacket(this.#senderSsrc, remb, ssrcs);
    const out = new Uint8Array(rr.length + rembBytes.length);
    out.set(rr, 0);
    out.set(rembBytes, rr.length);
    return out;
  }

  /** Report blocks for every started SSRC (each closes its loss interval). */
  #closeInterval(now: number): ReceptionReport[] {
    this.#lastBlocksAt = now;
    const blocks: ReceptionReport[] = [];
    for (const s of this.#stats.values()) {
      const r = s.report(now);
      if (r !== undefined) {
        blocks.push(r);
      }
    }
    return blocks;
  }
}

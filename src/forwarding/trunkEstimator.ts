/**
 * The receiving focus's estimate of a trunk's capacity (protocol.md §8.5), pure: the delay-gradient detector
 * (delayGradient.ts) and its AIMD rate control (aimdRate.ts), plus when to send it as REMB. Fed per packet
 * (`onPacket`: abs-send-time, arrival ms, size: field updates only) and asked `estimate(now)` /
 * `rembDue(now)` on the link's tick.
 *
 * - Received rate: bytes over a sliding 0.5 s (the last ten complete 50 ms buckets of a ring of eleven, no
 *   allocation per packet). A decrease
 *   scales from the higher of that and the last 0.2 s: when the rate steps up into a bottleneck, overuse is
 *   found within a few hundred ms, while the 0.5 s window still holds much of the rate from before the step
 *   (cutting to 0.85 × that would collapse the estimate far under the capacity).
 * - Delay only, no loss rule (GCC's split: delay-based at the receiver, loss-based at the sender). The trunk
 *   carries the publisher's sequence numbers verbatim (§8.2), so a number lost before the trunk (publisher →
 *   sending focus, never repaired) is missing here exactly like one the trunk lost; only the sending focus
 *   knows which numbers it never had. Its loss rule (media/link/trunkCcSend.ts) reads the fraction lost of this
 *   focus's receiver reports less that share (upstreamGaps.ts). A loss bound here as well cut the
 *   trunk of every remote subscriber of a publisher on a lossy uplink (measured: 15 % loss before the trunk
 *   paused f within a second, test/integration/cascade/upstreamLoss.test.ts).
 * - Host stalls are not congestion. Where the add-on reads the link's socket, arrival times are the kernel's
 *   (media/udpReceive.ts) and this process's stall is not in them; otherwise they are taken when this process
 *   reads a packet, so an event loop that stalled (a burst of joins, a GC pause, the host descheduling the
 *   process) shows as queueing delay on a path that has none. On a shared host a stall here also tends to come
 *   with delays of the processes on the path (the sender, a relay), so in both cases the host's stalls are
 *   reported with `onHostStall(at)`; they are learnt after the packets read behind the stall, so an overuse
 *   verdict does not cut at once: it is latched and acted on at the next `estimate(now)` (the link's tick),
 *   where an overuse within `hostStallHoldMs` (1 s, about a trendline window) of a stall holds the estimate
 *   instead (counted in `stallHolds`). The sender's loss rule still applies.
 * - REMB cadence (chosen here; §8.5 says every 200–500 ms): the first estimate at once; then every
 *   `rembIntervalMs` (500 ms); earlier, but not within `rembMinIntervalMs` (200 ms) of the last, when the
 *   estimate rose by ≥ 3 %; and **at once** when it fell by ≥ 3 % below the last one sent — a drop is
 *   congestion news the sender needs now (libwebrtc's receive side does the same), so this is the one case
 *   that may come sooner than 200 ms.
 */
import { AimdRate, type AimdOptions } from './aimdRate.js';
import { DelayGradient, type BandwidthUsage, type DelayGradientOptions } from './delayGradient.js';
const BUCKET_MS = 50;
const BUCKETS = 11;
const RATE_MS = BUCKET_MS * (BUCKETS - 1);
/** The recent span a decrease may scale from. */
const RECENT_MS = 200;

export interface TrunkEstimatorOptions {
  delay: Partial<DelayGradientOptions>;
  aimd: Partial<AimdOptions>;
  rembIntervalMs: number;
  rembMinIntervalMs: number;
  /** Relative change that counts (3 %). */
  rembChange: number;
  /** How long after a host stall an overuse verdict holds instead of cutting. */
  hostStallHoldMs: number;
}

export const DEFAULT_TRUNK_ESTIMATOR_OPTIONS: TrunkEstimatorOptions = {
  delay: {},
  aimd: {},
  rembIntervalMs: 500,
  rembMinIntervalMs: 200,
  rembChange: 0.03,
  hostStallHoldMs: 1000,
};

export class TrunkEstimator {
  readonly #o: TrunkEstimatorOptions;
  readonly #delay: DelayGradient;
  readonly #aimd: AimdRate;
  /** Received bytes per 50 ms bucket (ring by bucket number), since the first packet. */
  readonly #bucketBytes = new Float64Array(BUCKETS);
  readonly #bucketId = new Float64Array(BUCKETS).fill(-1);
  #firstAt = Number.NaN;
  #lastAt = Number.NaN;
  #usage: BandwidthUsage = 'normal';
  #groups = 0;
  #lastRembAt = Number.NaN;
  #lastRembBps = 0;
  /** A group completed with an overuse verdict since the last `estimate`. */
  #overuseLatched = false;
  #lastStallAt = Number.NEGATIVE_INFINITY;
  #stallHolds = 0;

  constructor(options: Partial<TrunkEstimatorOptions> = {}) {
    this.#o = { ...DEFAULT_TRUNK_ESTIMATOR_OPTIONS, ...options };
    this.#delay = new DelayGradient(this.#o.delay);
    this.#aimd = new AimdRate(this.#o.aimd);
  }

  get usage(): BandwidthUsage {
    return this.#usage;
  }

  /** Received media, bit/s, over the last complete window (0 before one). */
  get receivedBps(): number {
    return Number.isNaN(this.#lastAt) ? 0 : this.#rate(this.#lastAt, RATE_MS, false);
  }

  get delay(): DelayGradient {
    return this.#delay;
  }

  setRtt(ms: number): void {
    this.#aimd.setRtt(ms);
  }

  /** Overuse verdicts the host's stalls turned into holds. */
  get stallHolds(): number {
    return this.#stallHolds;
  }

  /** This process's event loop stalled at `atMs` (its end, or when it was noticed). */
  onHostStall(atMs: number): void {
    if (Number.isFinite(atMs) && atMs > this.#lastStallAt) {
      this.#lastStallAt = atMs;
    }
  }

  /** One trunk RTP packet. Invalid sizes count nothing; invalid abs-send-times only count bytes. */
  onPacket(absSendTime: number, arrivalMs: number, sizeBytes: number): void {
    if (!Number.isFinite(arrivalMs)) {
      return;
    }
    if (Number.isNaN(this.#firstAt)) {
      this.#firstAt = arrivalMs;
    }
    this.#advance(arrivalMs);
    if (Number.isFinite(sizeBytes) && sizeBytes > 0 && sizeBytes < 65_536) {
      const id = Math.floor(arrivalMs / BUCKET_MS);
      const i = ((id % BUCKETS) + BUCKETS) % BUCKETS;
      if (this.#bucketId[i] !== id) {
        this.#bucketId[i] = id;
        this.#bucketBytes[i] = 0;
      }
      this.#bucketBytes[i] = (this.#bucketBytes[i] ?? 0) + sizeBytes;
    }
    this.#usage = this.#delay.onPacket(absSendTime, arrivalMs);
    const groups = this.#delay.groups;
    if (groups !== this.#groups) {
      // A group completed (or the detector restarted): the verdict may have changed. Overuse waits for the
      // tick (a host stall is learnt late); the rest moves the rate now.
      this.#groups = groups;
      if (this.#usage === 'overuse') {
        this.#overuseLatched = true;
      } else if (!this.#overuseLatched) {
        this.#aimd.update(this.#usage, this.#rateFor(arrivalMs, this.#usage), arrivalMs);
      }
    }
  }

  /** The estimate (bit/s) at `now`: the delay-based rate advanced to `now`. */
  estimate(now: number): number {
    this.#advance(now);
    let usage = this.#overuseLatched ? 'overuse' : this.#usage;
    this.#overuseLatched = false;
    if (usage === 'overuse' && now - this.#lastStallAt <= this.#o.hostStallHoldMs) {
      usage = 'underuse'; // the AIMD's hold: neither cut nor raise
      this.#stallHolds++;
    }
    return this.#aimd.update(usage, this.#rateFor(now, usage), now);
  }

  /** The estimate to send as REMB now (and recorded as sent), or undefined when none is due. */
  rembDue(now: number): number | undefined {
    const bps = this.estimate(now);
    const since = now - this.#lastRembAt;
    const last = this.#lastRembBps;
    const due =
      Number.isNaN(this.#lastRembAt) ||
      bps <= last * (1 - this.#o.rembChange) ||
      since >= this.#o.rembIntervalMs ||
      since < 0 ||
      (since >= this.#o.rembMinIntervalMs && bps >= last * (1 + this.#o.rembChange));
    if (!due) {
      return undefined;
    }
    this.#lastRembAt = now;
    this.#lastRembBps = bps;
    return bps;
  }

  #advance(now: number): void {
    if (Number.isFinite(now) && (Number.isNaN(this.#lastAt) || now > this.#lastAt)) {
      this.#lastAt = now;
    }
  }

  /**
   * Bit/s over the last `spanMs` of buckets before `now`'s (complete ones: no fencepost bias), or — `current`
   * — up to `now` including the bucket being filled. Counted from the first packet, over at least a bucket.
   */
  #rate(now: number, spanMs: number, current: boolean): number {
    if (Number.isNaN(this.#firstAt)) {
      return 0;
    }
    const nowId = Math.floor(now / BUCKET_MS);
    const n = Math.min(BUCKETS - 1, Math.max(1, Math.round(spanMs / BUCKET_MS)));
    const newest = current ? nowId : nowId - 1;
    const oldest = newest - n + 1;
    let bytes = 0;
    for (let k = 0; k < BUCKETS; k++) {
      const id = this.#bucketId[k] ?? -1;
      if (id >= oldest && id <= newest) {
        bytes += this.#bucketBytes[k] ?? 0;
      }
    }
    const end = current ? now : (newest + 1) * BUCKET_MS;
    const covered = Math.max(BUCKET_MS, end - Math.max(oldest * BUCKET_MS, this.#firstAt));
    return (bytes * 8000) / covered;
  }

  /** The received rate the AIMD works from: on overuse, the last 0.2 s when higher (a step up counts). */
  #rateFor(now: number, usage: BandwidthUsage): number {
    const r = this.#rate(now, RATE_MS, false);
    return usage === 'overuse' ? Math.max(r, this.#rate(now, RECENT_MS, true)) : r;
  }
}

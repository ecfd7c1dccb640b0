/**
 * The budget of one sender's messages (a client session's data channel, a link's; protocol.md §5.1, §8.8): a
 * token bucket at `ratePerSecond` with bursts of two seconds' worth; messages over it are refused, and a
 * sender whose refused messages pile up past FLOOD_FACTOR × the rate (a tenth of the rate forgiven each
 * second, floodBound.ts) is a flood, said once; from then on nothing it sends is admitted. A refusal is to be
 * answered at most once a second (`refused_reply`), so a flood is not echoed back message for message. Pure:
 * time is passed in, nothing is allocated per call.
 */
import { FloodBound } from './floodBound.js';
import { TokenBucket } from './rateLimiter.js';

/** The flood bound: this many seconds' worth of messages at the rate, refused and not yet forgiven. */
export const FLOOD_FACTOR = 10;
/** The share of the rate forgiven per second. */
const FORGIVE_SHARE = 0.1;
/** Refusals are answered at most once per this long. */
const REPLY_INTERVAL_MS = 1000;

/**
 * `ok`: admitted; `refused`: over the rate, no answer due; `refused_reply`: over the rate, answer it (≤ 1 a
 * second); `flood`: over the rate and the flood bound just passed (once: end the sender); `closed`: the bound
 * was passed earlier, nothing is admitted.
 */
export type Admission = 'ok' | 'refused' | 'refused_reply' | 'flood' | 'closed';

export class MessageBudget {
  readonly #bucket: TokenBucket;
  readonly #flood: FloodBound;
  #lastReplyAt = Number.NEGATIVE_INFINITY;

  constructor(ratePerSecond: number, now: number) {
    this.#bucket = new TokenBucket(ratePerSecond, Math.max(1, ratePerSecond * 2), now);
    this.#flood = new FloodBound(FLOOD_FACTOR * ratePerSecond, FORGIVE_SHARE * ratePerSecond, now);
  }

  /** One message at `now`. */
  admit(now: number): Admission {
    if (this.#bucket.take(now)) {
      return this.#flood.over ? 'closed' : 'ok';
    }
    if (this.#flood.refuse(now)) {
      return 'flood';
    }
    if (this.#flood.over) {
      return 'closed';
    }
    if (now - this.#lastReplyAt >= REPLY_INTERVAL_MS) {
      this.#lastReplyAt = now;
      return 'refused_reply';
    }
    return 'refused';
  }

  /** The flood bound was passed (it stays passed). */
  get flooded(): boolean {
    return this.#flood.over;
  }
}

/**
 * What one subscriber's RTCP feedback may make the SFU do (issue "Reliability": floods; protocol.md §7): NACKed
 * sequence numbers and keyframe requests, counted in units — one per NACKed sequence number (at most 512 per
 * NACK packet, rtcpNack.ts), KEYFRAME_REQUEST_UNITS per PLI or FIR — within UNITS_PER_SECOND per peer, bursts of
 * twice that. Feedback over the budget is ignored (counted); once the ignored units pile up past
 * FLOOD_SECONDS × the rate (a tenth of the rate forgiven each second) the peer is reported, once, and hung up.
 * A real client NACKing every packet of 20 lost 720p streams stays far inside. Pure: time is passed in.
 */
import { FloodBound } from '../util/floodBound.js';
import type { MediaCounters } from './mediaMetrics.js';

export const UNITS_PER_SECOND = 20_000;
export const KEYFRAME_REQUEST_UNITS = 50;
const BURST_SECONDS = 2;
const FLOOD_SECONDS = 10;
const FORGIVE_SHARE = 0.1;

export type FeedbackVerdict = 'ok' | 'ignored' | 'flood';

export class FeedbackBudget {
  #tokens = UNITS_PER_SECOND * BURST_SECONDS;
  #at: number;
  readonly #flood: FloodBound;

  constructor(now: number) {
    this.#at = now;
    this.#flood = new FloodBound(FLOOD_SECONDS * UNITS_PER_SECOND, FORGIVE_SHARE * UNITS_PER_SECOND, now);
  }

  /** Feedback costing `units` at `now`: act on it, ignore it, or ignore it and hang the peer up (once). */
  take(units: number, now: number): FeedbackVerdict {
    const elapsed = Math.max(0, now - this.#at);
    this.#at = Math.max(this.#at, now);
    this.#tokens = Math.min(
      UNITS_PER_SECOND * BURST_SECONDS,
      this.#tokens + (elapsed * UNITS_PER_SECOND) / 1000,
    );
    if (this.#tokens >= units) {
      this.#tokens -= units;
      return 'ok';
    }
    return this.#flood.refuse(now, units) ? 'flood' : 'ignored';
  }

  /**
   * `take`, acted on as both a subscriber and a link do: true to act on the feedback; otherwise its units are
   * counted in `counters.feedbackIgnored`, and the first time past the flood bound `onFlood` is called.
   */
  admit(
    units: number,
    now: number,
    counters: Pick<MediaCounters, 'feedbackIgnored'>,
    onFlood: () => void,
  ): boolean {
    const v = this.take(units, now);
    if (v === 'ok') {
      return true;
    }
    counters.feedbackIgnored += units;
    if (v === 'flood') {
      onFlood();
    }
    return false;
  }
}

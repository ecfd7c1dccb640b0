/**
 * A publisher track's keyframe requests (PLI, or FIR where only that is negotiated) per layer SSRC, through a
 * PliCoalescer (forwarding/pliCoalescer.ts): at most one per SSRC per `media.pli_min_interval_ms`; a request
 * inside the interval is sent when it ends (`tick`, counted as `deferred`) unless a keyframe came first. Counted
 * by reason; a failed send is logged, never thrown.
 */
import type { Logger } from 'pino';
import { PliCoalescer } from '../forwarding/pliCoalescer.js';
import { toError } from '../util/errors.js';
import type { KeyframeReason, MediaCounters } from './mediaMetrics.js';

export interface KeyframeRequestDeps {
  pliMinIntervalMs: number;
  counters: MediaCounters;
  log: Logger;
  mid: string;
  /** Sends one keyframe request for a publisher SSRC. */
  send: (ssrc: number) => void;
}

export class KeyframeRequests {
  readonly #d: KeyframeRequestDeps;
  readonly #pli: PliCoalescer;
  readonly #due: number[] = [];

  constructor(deps: KeyframeRequestDeps) {
    this.#d = deps;
    this.#pli = new PliCoalescer(deps.pliMinIntervalMs);
  }

  request(ssrc: number, reason: KeyframeReason, now: number): void {
    if (this.#pli.request(ssrc, now)) {
      this.#send(ssrc, reason);
    }
  }

  /** A keyframe of `ssrc` arrived: it answers the requests waiting for it. */
  onKeyframe(ssrc: number, now: number): void {
    this.#pli.onKeyframe(ssrc, now);
  }

  /** Sends the waiting requests that came due, for the SSRCs `known` still accepts. */
  tick(now: number, known: (ssrc: number) => boolean): void {
    this.#due.length = 0;
    for (const ssrc of this.#pli.due(now, this.#due)) {
      if (known(ssrc)) {
        this.#send(ssrc, 'deferred');
      }
    }
  }

  #send(ssrc: number, reason: KeyframeReason): void {
    this.#d.counters.keyframeRequests[reason]++;
    try {
      this.#d.send(ssrc);
    } catch (e) {
      this.#d.log.warn({ err: toError(e), mid: this.#d.mid }, 'keyframe request failed');
    }
  }
}

/**
 * The RTCP a link receives from the remote focus, as typed feedback (rtp/rtcpFeedback.ts, read from its bytes by
 * rtp/rtcpRead.ts), to what acts on it (protocol.md §8.5, §8.6): SRs about relayed streams to their publisher
 * clocks and to congestion control; report blocks about this focus's trunk SSRCs to their sends' RTT and to
 * congestion control; REMB to the send budget; NACKs to the trunk send's retransmissions; PLI/FIR to its per-hop
 * keyframe coalescing; the fraction lost congestion control hears is the trunk's own (forwarding/upstreamGaps.ts). NACKs, PLIs and FIRs take from the link's feedback budget (media/feedbackBudget.ts, the
 * same as a client's): over it they are ignored and counted; past the flood bound `onFlood` is called once and
 * the conference hangs the link up (§8.8).
 */
import type { ReportBlock, RtcpFeedback } from '../../rtp/rtcpFeedback.js';
import { FeedbackBudget, KEYFRAME_REQUEST_UNITS } from '../feedbackBudget.js';
import type { MediaCounters } from '../mediaMetrics.js';
import type { TrunkOut } from './trunkOut.js';
import type { TrunkSend } from './trunkSender.js';
import type { LinkCongestionControl } from './types.js';

export interface LinkFeedbackTargets {
  /** This focus's trunk SSRCs on the link: the send and the out stream of each. */
  readonly outs: ReadonlyMap<number, { send: TrunkSend; out: TrunkOut }>;
  /** An SR from the remote focus about a stream it relays here. */
  onSenderReport(ssrc: number, ntpMs: number, rtpTs: number, now: number): void;
  /** Calls congestion control (errors handled there). */
  cc<T>(fn: (cc: LinkCongestionControl) => T): T | undefined;
  readonly counters: MediaCounters;
  /** The feedback went past the flood bound (once). */
  onFlood(): void;
}

export class LinkFeedback {
  readonly #t: LinkFeedbackTargets;
  readonly #budget: FeedbackBudget;

  constructor(targets: LinkFeedbackTargets, now: number) {
    this.#t = targets;
    this.#budget = new FeedbackBudget(now);
  }

  on(fb: RtcpFeedback, now: number): void {
    const t = this.#t;
    switch (fb.kind) {
      case 'sr': {
        t.onSenderReport(fb.ssrc, fb.ntpMs, fb.rtpTs, now);
        const { ssrc, lsr } = fb;
        t.cc((cc) => cc.onSenderReport?.(ssrc, lsr, now));
        this.#onReports(fb.reports, now);
        return;
      }
      case 'rr':
        this.#onReports(fb.reports, now);
        return;
      case 'remb': {
        const bps = fb.bitrateBps;
        t.cc((cc) => cc.onRemb?.(bps, now));
        return;
      }
      case 'nack': {
        if (!this.#withinBudget(fb.seqs.length, now)) {
          return;
        }
        const o = fb.mediaSsrc === undefined ? undefined : t.outs.get(fb.mediaSsrc);
        t.counters.nackReceived += fb.seqs.length;
        if (o === undefined) {
          t.counters.retransmits.missing += fb.seqs.length;
          return;
        }
        o.send.onNack(o.out, fb.seqs, now);
        return;
      }
      case 'pli': {
        if (this.#withinBudget(KEYFRAME_REQUEST_UNITS, now)) {
          const o = t.outs.get(fb.mediaSsrc);
          o?.send.onKeyframeRequest(o.out, now);
        }
        return;
      }
      case 'fir':
        if (!this.#withinBudget(KEYFRAME_REQUEST_UNITS, now)) {
          return;
        }
        for (const ssrc of fb.ssrcs) {
          const o = t.outs.get(ssrc);
          o?.send.onKeyframeRequest(o.out, now);
        }
        return;
      case 'unknown':
        return;
    }
  }

  #withinBudget(units: number, now: number): boolean {
    return this.#budget.admit(units, now, this.#t.counters, this.#flooded);
  }

  readonly #flooded = (): void => {
    this.#t.onFlood();
  };

  /** Report blocks: to the trunk sends, then to congestion control with loss before the trunk taken off. */
  #onReports(reports: readonly ReportBlock[], now: number): void {
    if (reports.length === 0) {
      return;
    }
    const trunk = reports.map((b) => {
      const o = this.#t.outs.get(b.ssrc);
      if (o === undefined) {
        return b;
      }
      const fractionLost = o.send.onReport(o.out, b, now);
      return fractionLost === b.fractionLost ? b : { ...b, fractionLost };
    });
    this.#t.cc((cc) => cc.onReports?.(trunk, now));
  }
}

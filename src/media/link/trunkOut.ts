/**
 * One trunk SSRC this focus sends on a link (one layer of a local track, protocol.md §8.2, §8.6): whether it is
 * sent now, what it sent (for its SRs), and a retransmission buffer of ≥ 1 s answering the receiving focus's
 * NACKs with the packets as first sent (same sequence number, timestamp, payload; a fresh abs-send-time) under
 * the downstream rules (forwarding/retransmitPolicy.ts: at most once per RTT per packet, within a budget of 90 %
 * of the stream's own rate, so a NACK flood can at most double what the layer sends). The records of the
 * buffer are reused slot by slot: nothing is allocated per packet once the ring has filled.
 */
import { RetransmitBuffer } from '../../forwarding/retransmitBuffer.js';
import {
  RetransmitBudget,
  resendWindowMs,
  RttEstimator,
  type RetransmitRefusal,
} from '../../forwarding/retransmitPolicy.js';
import { SendRate } from '../../forwarding/sendRate.js';
import { UpstreamGaps } from '../../forwarding/upstreamGaps.js';

/** Video: ≥ 1 s up to ≈ 1,000 packets/s (≈ 9 Mbit/s of full packets); audio: ≈ 2.5 s of 20 ms frames. */
export const TRUNK_RTX_PACKETS = { video: 1024, audio: 128 } as const;
export const TRUNK_RTX_MS = 1500;
/** RTP header bytes counted into the send rate per packet. */
const RTP_HEADER_BYTES = 12;

/** A packet as sent on the trunk (a reused slot). */
export interface SentRecord {
  pt: number;
  ts: number;
  marker: boolean;
  padding: boolean;
  /** What followed the publisher's header (its payload and padding): never written by anyone. */
  payload: Buffer;
  audioLevel: Uint8Array | undefined;
}

export class TrunkOut {
  readonly layerId: number;
  readonly rid: string;
  readonly ssrc: number;
  /** Sent now (demanded and not paused). */
  on = false;
  packets = 0;
  bytes = 0;
  lastSrAt = Number.NEGATIVE_INFINITY;
  readonly rtt = new RttEstimator();
  /** Numbers skipped in what was sent: loss before the trunk, taken off the reports' fraction lost. */
  readonly upstream = new UpstreamGaps();
  readonly #buf: RetransmitBuffer<SentRecord>;
  readonly #slots: (SentRecord | undefined)[];
  readonly #mask: number;
  readonly #budget: RetransmitBudget;
  readonly #rate: SendRate;

  constructor(layerId: number, rid: string, ssrc: number, kind: 'audio' | 'video', now: number) {
    this.layerId = layerId;
    this.rid = rid;
    this.ssrc = ssrc >>> 0;
    this.#buf = new RetransmitBuffer<SentRecord>(TRUNK_RTX_PACKETS[kind], TRUNK_RTX_MS);
    this.#slots = new Array<SentRecord | undefined>(this.#buf.capacity);
    this.#mask = this.#buf.capacity - 1;
    this.#budget = new RetransmitBudget(now);
    this.#rate = new SendRate(now);
  }

  /** What this trunk SSRC sends, bytes per second (last 0.5 s window; congestion control reads it). */
  get bytesPerS(): number {
    return this.#rate.bytesPerS;
  }

  /** A packet went out with sequence number `seq`: counted and kept for retransmission. */
  sent(
    seq: number,
    now: number,
    pt: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    payload: Buffer,
    audioLevel: Uint8Array | undefined,
  ): void {
    this.packets = (this.packets + 1) >>> 0;
    this.bytes = (this.bytes + payload.length) >>> 0;
    this.upstream.onSent(seq, now);
    this.#rate.add(payload.length + RTP_HEADER_BYTES);
    const i = seq & this.#mask;
    let r = this.#slots[i];
    if (r === undefined) {
      r = { pt, ts, marker, padding, payload, audioLevel };
      this.#slots[i] = r;
    } else {
      r.pt = pt;
      r.ts = ts;
      r.marker = marker;
      r.padding = padding;
      r.payload = payload;
      r.audioLevel = audioLevel;
    }
    this.#buf.put(seq, now, r);
  }

  /** Once per received NACK packet, before `answer`: refills the budget. */
  refill(now: number): void {
    this.#budget.refill(now, this.#rate.bytesPerS);
  }

  /** One NACKed sequence number: the record to resend now (charged and marked), or why not. */
  answer(seq: number, now: number): SentRecord | RetransmitRefusal {
    const verdict = this.#buf.check(seq, now, resendWindowMs(this.rtt.rttMs));
    if (verdict !== 'send') {
      return verdict;
    }
    const r = this.#buf.get(seq);
    if (r === undefined) {
      return 'missing';
    }
    if (!this.#budget.take(r.payload.length)) {
      return 'rate_limited';
    }
    this.#buf.markResent(seq, now);
    return r;
  }

  tick(now: number): void {
    this.#rate.tick(now);
  }

  clear(): void {
    this.#buf.clear();
    this.#slots.fill(undefined);
  }
}

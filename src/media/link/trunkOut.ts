/**
 * One trunk SSRC this focus sends on a link (one layer of a local track, protocol.md §8.2, §8.6): whether it is
 * sent now, what it sent (for its SRs), and a retransmission buffer of ≥ 1 s answering the receiving focus's
 * NACKs with the packets as first sent (same sequence number, timestamp, payload; a fresh abs-send-time) under
 * the downstream rules (forwarding/retransmitPolicy.ts: at most once per RTT per packet, within a budget of 90 %
 * of the stream's own rate, so a NACK flood can at most double what the layer sends). The records of the
 * buffer are reused slot by slot, each over its part of a chunk of memory (64 slots a chunk) the payload and audio
 * level are copied into: the publisher's received datagram is not kept for the 1.5 s of the buffer (kept, each
 * survived the young generation's collections and went to the old one, for the whole-heap GC to find), nothing
 * is allocated per packet once the ring has filled, and while it fills one buffer per 64 packets (a buffer per
 * slot was 1,024 ArrayBuffers per video SSRC for the GC to track, each time a track starts on the trunk).
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
  /** What followed the publisher's header (its payload and padding), as sent: a copy, never written after. */
  readonly payload: Buffer;
  readonly audioLevel: Uint8Array | undefined;
}

/** A slot's memory: a publisher's payload of an Ethernet-MTU packet (a larger one gets memory of its own). */
const SLOT_BYTES = 1536;
/** Slots per chunk of memory (one allocation, one ArrayBuffer for the GC to track, per 64 packets). */
const CHUNK_SLOTS = 64;

/** One slot of the ring: the record, over its part of a chunk. */
class SentSlot implements SentRecord {
  pt = 0;
  ts = 0;
  marker = false;
  padding = false;
  #store: Buffer;
  #length = 0;
  #level = new Uint8Array(4);
  #levelLength = -1;

  constructor(store: Buffer) {
    this.#store = store;
  }

  /** A view of the copy (made on a resend only). */
  get payload(): Buffer {
    return this.#store.subarray(0, this.#length);
  }

  get audioLevel(): Uint8Array | undefined {
    return this.#levelLength < 0 ? undefined : this.#level.subarray(0, this.#levelLength);
  }

  fill(
    pt: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    payload: Buffer,
    level: Uint8Array | undefined,
  ): void {
    this.pt = pt;
    this.ts = ts;
    this.marker = marker;
    this.padding = padding;
    if (payload.length > this.#store.length) {
      this.#store = Buffer.allocUnsafeSlow(payload.length); // rare: larger than an MTU
    }
    this.#store.set(payload); // TypedArray#set: a builtin memcpy (Buffer#copy goes through JS argument checks)
    this.#length = payload.length;
    if (level === undefined) {
      this.#levelLength = -1;
    } else {
      if (level.length > this.#level.length) {
        this.#level = new Uint8Array(level.length);
      }
      this.#level.set(level);
      this.#levelLength = level.length;
    }
  }
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
  readonly #slots: (SentSlot | undefined)[];
  readonly #chunks: (Buffer | undefined)[] = [];
  readonly #mask: number;
  readonly #budget: RetransmitBudget;
  readonly #rate: SendRate;

  constructor(layerId: number, rid: string, ssrc: number, kind: 'audio' | 'video', now: number) {
    this.layerId = layerId;
    this.rid = rid;
    this.ssrc = ssrc >>> 0;
    this.#buf = new RetransmitBuffer<SentRecord>(TRUNK_RTX_PACKETS[kind], TRUNK_RTX_MS);
    this.#slots = new Array<SentSlot | undefined>(this.#buf.capacity);
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
      const c = Math.floor(i / CHUNK_SLOTS);
      let chunk = this.#chunks[c];
      if (chunk === undefined) {
        chunk = Buffer.allocUnsafeSlow(CHUNK_SLOTS * SLOT_BYTES);
        this.#chunks[c] = chunk;
      }
      const off = (i % CHUNK_SLOTS) * SLOT_BYTES;
      r = new SentSlot(chunk.subarray(off, off + SLOT_BYTES));
      this.#slots[i] = r;
    }
    r.fill(pt, ts, marker, padding, payload, audioLevel);
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
    this.#chunks.length = 0;
  }
}

/**
 * One trunk SSRC this focus sends on a link (one layer of a local track, protocol.md §8.2, §8.6): whether it is
 * sent now, what it sent (for its SRs), and a retransmission buffer of ≥ 1 s answering the receiving focus's
 * NACKs with the packets as first sent (same sequence number, timestamp, payload; a fresh abs-send-time) under
 * the downstream rules (forwarding/retransmitPolicy.ts: at most once per RTT per packet, within a budget of 90 %
 * of the stream's own rate, so a NACK flood can at most double what the layer sends).
 *
 * The packets are kept as a local subscription's are (media/sentStore.ts): in the slots of a ring that starts
 * at 64 packets and doubles, every packet kept, only while the layer sends more than it holds for 1.5 s (up to
 * TRUNK_RTX_PACKETS), each slot over its part of a chunk of memory handed out in order of first use. A slot
 * holds the packet as it goes out — its trunk header and a copy of the payload — and is what the send path
 * encrypts from (trunkQueue.ts): one copy of the payload per packet, as on the local path. The publisher's
 * datagram is not kept for the 1.5 s of the buffer (kept, each survived the young generation's collections for
 * the whole-heap GC to find), and nothing is allocated per packet once the ring has its size.
 * A ring of its full size from the start was 1.5 MB of packet memory per video trunk SSRC, most of it never
 * used by a 360p layer's ≈ 90 packets a second.
 */
import {
  resendWindowMs,
  RttEstimator,
  type RetransmitRefusal,
  type RetransmitSizes,
} from '../../forwarding/retransmitPolicy.js';
import { SendRate } from '../../forwarding/sendRate.js';
import { UpstreamGaps } from '../../forwarding/upstreamGaps.js';
import type { SentPacket } from '../sentPackets.js';
import { SentStore } from '../sentStore.js';
import { MAX_TRUNK_HEADER, type TrunkHeaderWriter } from './trunkHeader.js';

/** The most packets kept — video: ≥ 1 s up to ≈ 1,000 packets/s (≈ 9 Mbit/s of full packets); audio: ≈ 2.5 s. */
export const TRUNK_RTX_PACKETS = { video: 1024, audio: 128 } as const;
export const TRUNK_RTX_MS = 1500;
/** Where a trunk SSRC's buffer starts (≈ 0.7 s of a 360p layer, 1.3 s of audio). */
export const TRUNK_RTX_INITIAL_PACKETS = 64;
/** RTP header bytes counted into the send rate per packet. */
const RTP_HEADER_BYTES = 12;

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
  /** The packets kept for retransmission. */
  readonly #store: SentStore;
  readonly #rate: SendRate;

  constructor(layerId: number, rid: string, ssrc: number, kind: 'audio' | 'video', now: number) {
    this.layerId = layerId;
    this.rid = rid;
    this.ssrc = ssrc >>> 0;
    const sizes: RetransmitSizes = {
      initialPackets: TRUNK_RTX_INITIAL_PACKETS,
      maxPackets: TRUNK_RTX_PACKETS[kind],
      maxAgeMs: TRUNK_RTX_MS,
    };
    this.#store = new SentStore(now, sizes);
    this.#rate = new SendRate(now);
  }

  /** What this trunk SSRC sends, bytes per second (last 0.5 s window; congestion control reads it). */
  get bytesPerS(): number {
    return this.#rate.bytesPerS;
  }

  /** Packets the retransmission buffer holds now (it grows with the layer's rate). */
  get capacity(): number {
    return this.#store.capacity;
  }

  /** Packet memory allocated for the buffer (bytes). */
  get allocatedBytes(): number {
    return this.#store.allocatedBytes;
  }

  /**
   * Packet `seq` of this trunk SSRC as it goes out: built in its retransmission slot — the header (`header`:
   * the link's writer for this kind; abs-send-time `now`, set again when it leaves) and the publisher's payload
   * (with its padding when `padding`) copied behind it — counted and kept. The slot is the packet to encrypt
   * from (valid until the ring reuses it: ≥ 64 packets of this SSRC later, or `clear`).
   */
  build(
    header: TrunkHeaderWriter,
    pt: number,
    seq: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    payload: Buffer,
    audioLevel: Uint8Array | undefined,
    now: number,
  ): SentPacket {
    const n = payload.length;
    this.packets = (this.packets + 1) >>> 0;
    this.bytes = (this.bytes + n) >>> 0;
    this.upstream.onSent(seq, now);
    this.#rate.add(n + RTP_HEADER_BYTES);
    const p = this.#store.slot(seq, MAX_TRUNK_HEADER + n, now);
    const b = p.buf;
    const o = p.off;
    const h = header.writeInto(b, o, this.ssrc, pt, seq, ts, marker, padding, now, audioLevel);
    b.set(payload, o + h); // TypedArray#set: a builtin memcpy (Buffer#copy goes through JS argument checks)
    p.headerLength = h;
    p.length = h + n;
    this.#store.remember(seq, now, p);
    return p;
  }

  /** Once per received NACK packet, before `answer`: refills the budget. */
  refill(now: number): void {
    this.#store.refill(now, this.#rate.bytesPerS);
  }

  /**
   * One NACKed sequence number: the packet to resend now (charged and marked) — its slot, as first built (its
   * abs-send-time set again when it leaves) — or why not.
   */
  answer(seq: number, now: number): SentPacket | RetransmitRefusal {
    return this.#store.answer(seq, now, resendWindowMs(this.rtt.rttMs));
  }

  tick(now: number): void {
    this.#rate.tick(now);
  }

  /** Forgets every packet and lets the memory go (the send ended). */
  clear(): void {
    this.#store.release();
  }
}

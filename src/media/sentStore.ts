/**
 * The packets one outgoing stream keeps for retransmission: the slots of a SentPacketRing (sentPackets.ts)
 * indexed by a Retransmitter (forwarding/retransmitPolicy.ts) of the same capacity, so slot `seq & (capacity −
 * 1)` is written again exactly when the retransmitter forgets the packet there, and both double together while
 * the stream sends more than they hold within the age kept. A local subscription's video stream
 * (downstreamRtcp.ts) and a trunk SSRC (link/trunkOut.ts) keep their packets this way: build the packet in
 * `slot`, `remember` it once it went out, `answer` a NACKed number with the packet as kept.
 */
import {
  DOWNSTREAM_RTX_SIZES,
  Retransmitter,
  type RetransmitRefusal,
  type RetransmitSizes,
} from '../forwarding/retransmitPolicy.js';
import { SentPacketRing, type SentPacket } from './sentPackets.js';

const payloadBytes = (p: SentPacket): number => p.payloadLength;

export class SentStore {
  readonly #rtx: Retransmitter<SentPacket>;
  #ring: SentPacketRing;

  constructor(now: number, sizes: RetransmitSizes = DOWNSTREAM_RTX_SIZES) {
    this.#rtx = new Retransmitter(payloadBytes, now, sizes);
    this.#ring = new SentPacketRing(this.#rtx.capacity);
  }

  /** Packets held now (grows with the stream's rate). */
  get capacity(): number {
    return this.#rtx.capacity;
  }

  /** Packet memory allocated (bytes). */
  get allocatedBytes(): number {
    return this.#ring.allocatedBytes;
  }

  /**
   * The memory to build packet `seq` in, with room for `size` bytes: its slot (what the slot held is forgotten;
   * both grow first when that packet was still inside the age kept).
   */
  slot(seq: number, size: number, now: number): SentPacket {
    if (this.#rtx.makeRoom(seq, now)) {
      this.#ring.grow(); // the retransmitter grew: its slots and the ring's stay the same
    }
    return this.#ring.slot(seq, size);
  }

  /** The packet built in `slot(seq)` went out at `now`: kept for retransmission. */
  remember(seq: number, now: number, p: SentPacket): void {
    this.#rtx.remember(seq, now, p);
  }

  /** The packet kept for `seq` now, if its slot still holds it (not charged, not marked). */
  peek(seq: number): SentPacket | undefined {
    return this.#ring.get(seq);
  }

  /** Once per received NACK packet, before `answer`: refills the byte budget from the stream's own rate. */
  refill(now: number, bytesPerS: number): void {
    this.#rtx.refill(now, bytesPerS);
  }

  /**
   * One NACKed number: the packet to resend now (charged and marked), or why not — `missing` too when its slot
   * was built again for a packet that never went out.
   */
  answer(seq: number, now: number, windowMs: number): SentPacket | RetransmitRefusal {
    const p = this.#rtx.answer(seq, now, windowMs);
    if (typeof p === 'string') {
      return p;
    }
    return this.#ring.get(seq) === p ? p : 'missing';
  }

  /** Forgets every packet; the memory stays (the stream may go on). */
  clear(): void {
    this.#rtx.clear();
    this.#ring.clear();
  }

  /** Forgets every packet and lets the memory go (the stream ended). */
  release(): void {
    this.#rtx.clear();
    this.#ring = new SentPacketRing(this.#rtx.capacity); // the chunks go with the old ring
  }
}

/**
 * Where a forwarded packet is built and, for video, kept for retransmission (performance-design.md step 2,
 * zero garbage): the plaintext RTP packet — header written in place (rtp/forwardedHeader.ts), the publisher's
 * payload copied behind it and rewritten there (VP8 picture id) — in a slot of preallocated memory, from which
 * it is encrypted straight into the send slab. Before, each packet made a header Buffer, a header object, the
 * extension objects, a VP8 payload copy and a record to keep them; a NACK now re-encrypts the slot's bytes.
 *
 * One ring per video stream: `capacity` slots (the retransmission buffer's, so slot `seq & mask` is
 * overwritten exactly when that buffer forgets the packet there) of SLOT_BYTES each, allocated in chunks of
 * CHUNK_SLOTS as slots are first used; a packet larger than a slot gets its own buffer in that slot (rare: a
 * publisher's packets fit an Ethernet MTU). Each slot is one SentPacket object, made once and reused; the ring
 * `grow`s (doubling, packets kept) with its retransmission buffer when the stream sends more than it holds.
 * Audio is not retransmitted: its packets are built in one shared scratch slot (`scratchPacket`), valid until
 * the next call — the send path encrypts it before returning.
 */
import { Buffer } from 'node:buffer';

/** A plaintext RTP packet at `buf[off, off + length)`, its header the first `headerLength` bytes. */
export class SentPacket {
  buf: Buffer;
  off: number;
  headerLength = 0;
  length = 0;
  /** The sequence number it was built for (-1: none yet). */
  seq = -1;
  /** Its own place in a chunk (where it goes back after an oversized packet had a buffer of its own). */
  readonly homeBuf: Buffer;
  readonly homeOff: number;

  constructor(buf: Buffer, off: number) {
    this.buf = buf;
    this.off = off;
    this.homeBuf = buf;
    this.homeOff = off;
  }

  get payloadLength(): number {
    return this.length - this.headerLength;
  }
}

/** Bytes per slot: a forwarded header (≤ 300) and a payload of an Ethernet-MTU packet. */
export const SLOT_BYTES = 1792;
const CHUNK_SLOTS = 64;

export class SentPacketRing {
  #mask: number;
  #slots: (SentPacket | undefined)[];
  readonly #chunks: Buffer[] = [];
  /** Slots of the last chunk handed out so far. */
  #used = CHUNK_SLOTS;

  /** `capacity`: a power of two (the retransmission buffer's). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`SentPacketRing capacity must be a power of two, got ${capacity}`);
    }
    this.#mask = capacity - 1;
    this.#slots = new Array<SentPacket | undefined>(capacity);
  }

  get capacity(): number {
    return this.#mask + 1;
  }

  /** Bytes allocated so far (chunks and oversized slots). */
  get allocatedBytes(): number {
    let n = 0;
    for (const c of this.#chunks) {
      n += c.length;
    }
    for (const s of this.#slots) {
      if (s !== undefined && s.buf !== s.homeBuf) {
        n += s.buf.length;
      }
    }
    return n;
  }

  /** A new slot object over the next unused place of the chunks (a new chunk every CHUNK_SLOTS slots). */
  #newSlot(): SentPacket {
    if (this.#used === CHUNK_SLOTS) {
      this.#chunks.push(Buffer.allocUnsafeSlow(CHUNK_SLOTS * SLOT_BYTES));
      this.#used = 0;
    }
    const chunk = this.#chunks[this.#chunks.length - 1] as Buffer;
    return new SentPacket(chunk, this.#used++ * SLOT_BYTES);
  }

  /**
   * The slot for output sequence number `seq`, with room for `size` bytes: what it held before is gone.
   * The caller writes the packet and sets `headerLength` and `length`.
   */
  slot(seq: number, size: number): SentPacket {
    const i = seq & this.#mask;
    let p = this.#slots[i];
    if (p === undefined) {
      p = this.#newSlot();
      this.#slots[i] = p;
    }
    if (size > SLOT_BYTES) {
      p.buf = Buffer.allocUnsafeSlow(size);
      p.off = 0;
    } else if (p.buf !== p.homeBuf) {
      // It was oversized before: back to its place in the chunk.
      p.buf = p.homeBuf;
      p.off = p.homeOff;
    }
    p.seq = seq & 0xffff;
    p.headerLength = 0;
    p.length = 0;
    return p;
  }

  /**
   * Doubles the ring (with its retransmission buffer, which `grow`s the same way): each kept packet moves to its
   * sequence number's slot of the larger ring, its memory with it; slot objects that held nothing are reused for
   * the new slots before any new memory.
   */
  grow(): void {
    const size = this.#mask + 1;
    const mask = size * 2 - 1;
    const slots = new Array<SentPacket | undefined>(size * 2);
    const spare: SentPacket[] = [];
    for (const p of this.#slots) {
      if (p === undefined) {
        continue;
      }
      if (p.seq < 0) {
        spare.push(p);
        continue;
      }
      slots[p.seq & mask] = p;
    }
    for (let i = 0; i < slots.length && spare.length > 0; i++) {
      if (slots[i] === undefined) {
        slots[i] = spare.pop();
      }
    }
    this.#mask = mask;
    this.#slots = slots;
  }

  /** The packet kept for `seq`, if its slot still holds it. */
  get(seq: number): SentPacket | undefined {
    const p = this.#slots[seq & this.#mask];
    return p !== undefined && p.seq === (seq & 0xffff) && p.length > 0 ? p : undefined;
  }

  /** Forgets every packet (memory is kept). */
  clear(): void {
    for (const p of this.#slots) {
      if (p !== undefined) {
        p.seq = -1;
        p.length = 0;
      }
    }
  }
}

let scratch = new SentPacket(Buffer.allocUnsafeSlow(SLOT_BYTES), 0);

/** The shared slot for a packet that is not kept (audio, probe padding): valid until the next call. */
export function scratchPacket(size: number): SentPacket {
  if (size > scratch.buf.length) {
    scratch = new SentPacket(Buffer.allocUnsafeSlow(size), 0);
  }
  scratch.seq = -1;
  scratch.headerLength = 0;
  scratch.length = 0;
  return scratch;
}

/**
 * Where a forwarded packet is built and, for video, kept for retransmission (performance-design.md step 2,
 * zero garbage): the plaintext RTP packet — header written in place (rtp/forwardedHeader.ts), the publisher's
 * payload copied behind it and rewritten there (VP8 picture id) — in a slot of preallocated memory, from which
 * it is encrypted straight into the send slab. Before, each packet made a header Buffer, a header object, the
 * extension objects, a VP8 payload copy and a record to keep them; a NACK now re-encrypts the slot's bytes.
 *
 * One ring per video stream: `capacity` slots (the retransmission buffer's, so slot `seq & mask` is
 * overwritten exactly when that buffer forgets the packet there) of SLOT_BYTES each, allocated in chunks of
 * CHUNK_SLOTS as the sequence numbers first reach them; a packet larger than a slot gets its own buffer in that
 * slot (rare: a publisher's packets fit an Ethernet MTU). Each slot is one SentPacket object, made once and
 * reused. Audio is not retransmitted: its packets are built in one shared scratch slot (`scratchPacket`),
 * valid until the next call — the send path encrypts it before returning.
 */

/** A plaintext RTP packet at `buf[off, off + length)`, its header the first `headerLength` bytes. */
export class SentPacket {
  buf: Buffer;
  off: number;
  headerLength = 0;
  length = 0;
  /** The sequence number it was built for (-1: none yet). */
  seq = -1;

  constructor(buf: Buffer, off: number) {
    this.buf = buf;
    this.off = off;
  }

  get payloadLength(): number {
    return this.length - this.headerLength;
  }
}

/** Bytes per slot: a forwarded header (≤ 300) and a payload of an Ethernet-MTU packet. */
export const SLOT_BYTES = 1792;
const CHUNK_SLOTS = 64;

export class SentPacketRing {
  readonly #mask: number;
  readonly #chunks: (Buffer | undefined)[] = [];
  readonly #slots: (SentPacket | undefined)[];

  /** `capacity`: a power of two (the retransmission buffer's). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`SentPacketRing capacity must be a power of two, got ${capacity}`);
    }
    this.#mask = capacity - 1;
    this.#slots = new Array<SentPacket | undefined>(capacity);
  }

  /** Bytes allocated so far (chunks and oversized slots). */
  get allocatedBytes(): number {
    let n = 0;
    for (const c of this.#chunks) {
      n += c?.length ?? 0;
    }
    for (let i = 0; i < this.#slots.length; i++) {
      const s = this.#slots[i];
      if (s !== undefined && s.buf !== this.#chunks[i >> 6]) {
        n += s.buf.length;
      }
    }
    return n;
  }

  /**
   * The slot for output sequence number `seq`, with room for `size` bytes: what it held before is gone.
   * The caller writes the packet and sets `headerLength` and `length`.
   */
  slot(seq: number, size: number): SentPacket {
    const i = seq & this.#mask;
    let p = this.#slots[i];
    if (p === undefined) {
      const c = i >> 6; // CHUNK_SLOTS = 64
      let chunk = this.#chunks[c];
      if (chunk === undefined) {
        chunk = Buffer.allocUnsafeSlow(CHUNK_SLOTS * SLOT_BYTES);
        this.#chunks[c] = chunk;
      }
      p = new SentPacket(chunk, (i & (CHUNK_SLOTS - 1)) * SLOT_BYTES);
      this.#slots[i] = p;
    }
    if (size > SLOT_BYTES) {
      p.buf = Buffer.allocUnsafeSlow(size);
      p.off = 0;
    } else {
      const chunk = this.#chunks[i >> 6] as Buffer;
      if (p.buf !== chunk) {
        // It was oversized before: back to its place in the chunk.
        p.buf = chunk;
        p.off = (i & (CHUNK_SLOTS - 1)) * SLOT_BYTES;
      }
    }
    p.seq = seq & 0xffff;
    p.headerLength = 0;
    p.length = 0;
    return p;
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

/**
 * The packet indexes SRTP keeps outside the cipher: the rollover counter (ROC) that extends the RTP sequence
 * number to 48 bits (RFC 3711 §3.3.1), and the 31-bit SRTCP index (§3.4). Pure functions and a small tracker;
 * the cipher (srtpCipher.ts) takes the ROC and the SRTCP index as arguments.
 */
import {
  SRTCP_INDEX_LENGTH,
  SRTCP_MAX_INDEX,
  srtpLengths,
  SRTP_AEAD_AES_128_GCM,
  type SrtpProfile,
} from './srtpProfile.js';

const HALF = 0x8000;

/**
 * RFC 3711 §3.3.1 (Appendix A): the ROC of a packet with sequence number `seq`, given the highest sequence
 * number accepted so far (s_l) and the ROC it had. A sequence number far behind s_l belongs to the next ROC
 * (the sequence wrapped), one far ahead of it to the previous ROC. Modulo 2^32 like libsrtp, so "the ROC
 * before 0" is 0xffffffff (a packet from before the stream, which then fails authentication).
 */
export function estimateRoc(lastSeq: number, lastRoc: number, seq: number): number {
  if (lastSeq < HALF) {
    return seq - lastSeq > HALF ? (lastRoc - 1) >>> 0 : lastRoc;
  }
  return lastSeq - HALF > seq ? (lastRoc + 1) >>> 0 : lastRoc;
}

/** The 48-bit SRTP packet index ROC · 2^16 + SEQ (exact in a double). */
export function srtpPacketIndex(roc: number, seq: number): number {
  return roc * 0x1_0000 + seq;
}

/**
 * The ROC state of one SSRC (RFC 3711 §3.3.1). A receiver guesses a packet's ROC, decrypts with it, and
 * commits only when the packet authenticated; a sender advances with each packet it sends. The ROC goes up
 * when the sequence number wraps 65535 → 0; a packet from before the highest one (reordered, or a
 * retransmission) gets the ROC it was sent with and moves nothing back.
 */
export class RocTracker {
  private lastSeq = -1;
  private currentRoc: number;

  constructor(initialRoc = 0) {
    this.currentRoc = initialRoc >>> 0;
  }

  /** The ROC now: that of the highest sequence number committed. */
  get roc(): number {
    return this.currentRoc;
  }

  /** The ROC of the packet with `seq` (no state change). The first packet gets the initial ROC. */
  guess(seq: number): number {
    return this.lastSeq < 0 ? this.currentRoc : estimateRoc(this.lastSeq, this.currentRoc, seq);
  }

  /** Records that the packet (`seq`, `roc`) was accepted (receiver) or sent (sender). */
  commit(seq: number, roc: number): void {
    if (this.lastSeq < 0) {
      this.lastSeq = seq;
      this.currentRoc = roc;
    } else if (roc === (this.currentRoc + 1) >>> 0) {
      this.lastSeq = seq;
      this.currentRoc = roc;
    } else if (roc === this.currentRoc && seq > this.lastSeq) {
      this.lastSeq = seq;
    }
  }

  /** The sender's step: the ROC to encrypt `seq` with, committed. */
  advance(seq: number): number {
    const roc = this.guess(seq);
    this.commit(seq, roc);
    return roc;
  }
}

/** The SRTCP index a sender uses after `index`: one more, back to 0 after 2^31 - 1 (as werift does). */
export function nextSrtcpIndex(index: number): number {
  return index >= SRTCP_MAX_INDEX ? 0 : index + 1;
}

/**
 * The SRTCP index of the `length`-byte SRTCP packet at `offset` (E flag removed), read from its E|index word
 * (GCM: the last 4 bytes; CM: the 4 before the 10-byte tag); -1 when the packet is too short to carry one.
 */
export function srtcpIndex(profile: SrtpProfile, src: Uint8Array, offset: number, length: number): number {
  const tag = srtpLengths(profile).tag;
  if (length < 8 + SRTCP_INDEX_LENGTH + tag || offset + length > src.length) {
    return -1;
  }
  const at = offset + length - SRTCP_INDEX_LENGTH - (profile === SRTP_AEAD_AES_128_GCM ? 0 : tag);
  return new DataView(src.buffer, src.byteOffset, src.byteLength).getUint32(at) & SRTCP_MAX_INDEX;
}

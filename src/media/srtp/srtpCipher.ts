/**
 * What both SRTP implementations offer (nativeSrtp.ts: the C add-on; tsSrtp.ts: node:crypto), byte for byte
 * the same. One cipher holds the session keys of one master key, i.e. one direction of a DTLS-SRTP
 * association: encrypt with the local keys, decrypt with the remote ones.
 *
 * Packets are read from `src` at `srcOffset` and written to `out` at `outOffset`, caller-owned buffers: `out`
 * may be `src` at the same offset (in place) or must not overlap it. Every method returns the bytes written;
 * decryption returns -1 when the packet is not authentic (a forged or damaged tag, or too short to carry
 * one), and then what `out` holds there is unspecified. Misuse (not a Uint8Array, an offset or length out of
 * range, an `out` too short) throws a TypeError or RangeError and writes nothing. The ROC and the SRTCP index
 * are the caller's (srtpRoc.ts).
 */
import type { SrtpProfile } from './srtpProfile.js';

export interface SrtpCipher {
  readonly profile: SrtpProfile;
  /** Whether this is the C add-on (else node:crypto). */
  readonly native: boolean;
  /** Bytes SRTP adds to an RTP packet: the tag (16 GCM, 10 CM). */
  readonly rtpOverhead: number;
  /** Bytes SRTCP adds to an RTCP packet: the E|index word and the tag (20 GCM, 14 CM). */
  readonly rtcpOverhead: number;
  /**
   * Encrypts one RTP packet: `headerLength` (≥ 12, CSRCs and extensions included) header bytes, whose SSRC and
   * sequence number are used, then `payloadLength` bytes. Writes header | encrypted payload | tag and returns
   * headerLength + payloadLength + rtpOverhead.
   */
  encryptRtp(
    src: Uint8Array,
    srcOffset: number,
    headerLength: number,
    payloadLength: number,
    roc: number,
    out: Uint8Array,
    outOffset: number,
  ): number;
  /** Authenticates and decrypts `length` bytes of SRTP; writes the RTP packet, returns length - rtpOverhead or -1. */
  decryptRtp(
    src: Uint8Array,
    srcOffset: number,
    length: number,
    headerLength: number,
    roc: number,
    out: Uint8Array,
    outOffset: number,
  ): number;
  /**
   * Encrypts one (compound) RTCP packet of `length` ≥ 8 bytes with SRTCP index `srtcpIndex` (< 2^31; the E flag
   * is set). Returns length + rtcpOverhead.
   */
  encryptRtcp(
    src: Uint8Array,
    srcOffset: number,
    length: number,
    srtcpIndex: number,
    out: Uint8Array,
    outOffset: number,
  ): number;
  /**
   * Authenticates `length` bytes of SRTCP and decrypts them when the E flag is set; writes the RTCP packet and
   * returns length - rtcpOverhead, or -1. The packet's index: `srtcpIndex` (srtpRoc.ts).
   */
  decryptRtcp(src: Uint8Array, srcOffset: number, length: number, out: Uint8Array, outOffset: number): number;
}

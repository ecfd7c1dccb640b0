/**
 * The SFU's own SRTP encryption for one DTLS-SRTP association's sending direction (performance-design.md §1 step
 * 1): a cipher (native add-on or the byte-identical TypeScript one, createSrtpCipher.ts) made once from the
 * association's local master key and salt, and the rollover counter per SSRC (RFC 3711 §3.3.1, srtpIndex.ts) —
 * werift makes new cipher objects per packet instead. One state per werift SRTP session object (a new DTLS
 * handshake makes a new one), kept in a WeakMap so it goes with the session.
 */
import { Buffer } from 'node:buffer';
import { createSrtpCipher } from './createSrtpCipher.js';
import type { SrtpCipher } from './srtpCipher.js';
import type { SendSlab } from '../sendSlab.js';
import type { SentPacket } from '../sentPackets.js';
import { SsrcTable } from './ssrcTable.js';
import { RocTracker } from './srtpIndex.js';

/** What this reads of one of werift's SRTP contexts. */
export interface SrtpContextKeys {
  readonly masterKey?: Uint8Array;
  readonly masterSalt?: Uint8Array;
  readonly profile?: number;
}

/** What this reads of werift's SrtpSession: its local (sending) and remote (receiving) contexts. */
export interface SrtpSessionKeys {
  readonly localContext?: SrtpContextKeys;
  readonly remoteContext?: SrtpContextKeys;
}

const GCM = 0x0007;

export class SrtpSendState {
  readonly cipher: SrtpCipher;
  readonly #rocs = new SsrcTable(() => new RocTracker());

  constructor(cipher: SrtpCipher) {
    this.cipher = cipher;
  }

  /**
   * The ROC to encrypt `seq` of `ssrc` with (recorded as sent). `ssrc` as read unsigned or signed: the table's
   * key is its int32 form (a small integer to V8 — an unsigned SSRC ≥ 2^31 is a boxed number, a heap allocation
   * wherever one is passed on).
   */
  roc(ssrc: number, seq: number): number {
    return this.#rocs.getOrCreate(ssrc | 0).advance(seq);
  }

  /**
   * The rollover counter state of `ssrc` (made at its first use): a sender of one SSRC may keep it and encrypt
   * with `encryptPacketAtWith`, without this table's lookup per packet — the same state `roc` advances.
   */
  rocTracker(ssrc: number): RocTracker {
    return this.#rocs.getOrCreate(ssrc | 0);
  }

  /**
   * Encrypts `header` + `payload` into a datagram (header | ciphertext | tag): a new buffer, or the next bytes
   * of `slab` when the caller sends it before the slab is reset (sendSlab.ts).
   */
  encrypt(header: Buffer, payload: Buffer, ssrc: number, seq: number, slab?: SendSlab): Buffer {
    if (slab !== undefined) {
      const at = this.encryptAt(header, payload, ssrc, seq, slab);
      return slab.buffer.subarray(at, at + header.length + payload.length + this.cipher.rtpOverhead);
    }
    const h = header.length;
    const n = payload.length;
    const out = Buffer.allocUnsafe(h + n + this.cipher.rtpOverhead);
    out.set(header, 0); // TypedArray#set: a builtin memcpy (Buffer#copy checks its arguments in JS)
    out.set(payload, h);
    this.cipher.encryptRtp(out, 0, h, n, this.roc(ssrc, seq), out, 0);
    return out;
  }

  /**
   * `encrypt` into `slab` without a view: the datagram is `slab.buffer[at, at + header.length + payload.length +
   * cipher.rtpOverhead)`, `at` returned (read `slab.buffer` after this call).
   */
  encryptAt(header: Buffer, payload: Buffer, ssrc: number, seq: number, slab: SendSlab): number {
    const h = header.length;
    const n = payload.length;
    const at = slab.reserve(h + n + this.cipher.rtpOverhead);
    const out = slab.buffer;
    out.set(header, at);
    out.set(payload, at + h);
    this.cipher.encryptRtp(out, at, h, n, this.roc(ssrc, seq), out, at);
    return at;
  }

  /**
   * Encrypts the RTP packet at `src[off, off + headerLength + payloadLength)` (not modified) into a new datagram.
   * Into a send slab: `encryptPacketAt`.
   */
  encryptPacket(
    src: Buffer,
    off: number,
    headerLength: number,
    payloadLength: number,
    ssrc: number,
    seq: number,
  ): Buffer {
    const out = Buffer.allocUnsafe(headerLength + payloadLength + this.cipher.rtpOverhead);
    this.cipher.encryptRtp(src, off, headerLength, payloadLength, this.roc(ssrc, seq), out, 0);
    return out;
  }

  /**
   * `encryptPacket` into `slab`, without a view: the datagram is `slab.buffer[at, at + headerLength +
   * payloadLength + cipher.rtpOverhead)`, `at` returned (read `slab.buffer` after this call).
   */
  encryptPacketAt(
    src: Buffer,
    off: number,
    headerLength: number,
    payloadLength: number,
    ssrc: number,
    seq: number,
    slab: SendSlab,
  ): number {
    return this.encryptPacketAtWith(src, off, headerLength, payloadLength, this.rocTracker(ssrc), seq, slab);
  }

  /** `encryptPacketAt` with the packet's SSRC's rollover state (`rocTracker`) given, not looked up. */
  encryptPacketAtWith(
    src: Buffer,
    off: number,
    headerLength: number,
    payloadLength: number,
    roc: RocTracker,
    seq: number,
    slab: SendSlab,
  ): number {
    const at = slab.reserve(headerLength + payloadLength + this.cipher.rtpOverhead);
    this.cipher.encryptRtp(src, off, headerLength, payloadLength, roc.advance(seq), slab.buffer, at);
    return at;
  }
}

const states = new WeakMap<object, SrtpSendState | null>();

/**
 * A cipher for one of werift's SRTP contexts (its master key, salt and profile), or null when they cannot be read
 * or are not a supported profile. werift pads a GCM master salt (12 bytes) with zeros to the 14 bytes of its key
 * derivation: such a salt is read as its 12.
 */
export function cipherOfContext(c: SrtpContextKeys | undefined): SrtpCipher | null {
  if (c?.masterKey === undefined || c.masterSalt === undefined || c.profile === undefined) {
    return null;
  }
  const salt =
    c.profile === GCM && c.masterSalt.length === 14 && c.masterSalt[12] === 0 && c.masterSalt[13] === 0
      ? c.masterSalt.subarray(0, 12)
      : c.masterSalt;
  try {
    return createSrtpCipher(c.profile, c.masterKey, salt);
  } catch {
    return null;
  }
}

/**
 * The send state of a werift SRTP session, made at its first use; null when its keys cannot be read or its
 * profile is not one this supports (the caller then encrypts with werift).
 */
export function srtpSendState(session: SrtpSessionKeys): SrtpSendState | null {
  let s = states.get(session);
  if (s === undefined) {
    const cipher = cipherOfContext(session.localContext);
    s = cipher === null ? null : new SrtpSendState(cipher);
    states.set(session, s);
  }
  return s;
}

/**
 * One sender's rollover state kept for the association and SSRC it encrypted last: a sender of one stream (a
 * subscriber's send path, srtpSendPath.ts) looks its SSRC up in the association's table once, not per packet.
 */
export class RocKeep {
  #own: SrtpSendState | undefined;
  #ssrc = 0;
  #roc: RocTracker | undefined;

  /** The rollover state of `ssrc` (int32 form) under `own`: the kept one while both are the same. */
  of(own: SrtpSendState, ssrc: number): RocTracker {
    let roc = this.#roc;
    if (roc === undefined || own !== this.#own || ssrc !== this.#ssrc) {
      roc = own.rocTracker(ssrc);
      this.#roc = roc;
      this.#own = own;
      this.#ssrc = ssrc;
    }
    return roc;
  }
}

/**
 * A packet built in place (not modified) encrypted into `slab` with `own`: its offset there, or why not. With
 * `keep`, the SSRC's rollover state is taken from there (`RocKeep`) rather than looked up.
 */
export function encryptPacketIntoSlab(
  own: SrtpSendState,
  slab: SendSlab,
  p: SentPacket,
  keep?: RocKeep,
): number | 'encrypt_failed' {
  try {
    const ssrc = p.buf.readInt32BE(p.off + 8); // int32: no boxed number (the ROC table's key form)
    const seq = p.buf.readUInt16BE(p.off + 2);
    const roc = keep === undefined ? own.rocTracker(ssrc) : keep.of(own, ssrc);
    return own.encryptPacketAtWith(p.buf, p.off, p.headerLength, p.payloadLength, roc, seq, slab);
  } catch {
    return 'encrypt_failed';
  }
}

/**
 * The pure-TypeScript SRTP (node:crypto): the fallback when the add-on is not built or not loadable, or with
 * SFU_NATIVE=0. Same bytes, same checks and same results as the add-on (native/srtp.c, which documents the
 * IV, associated data and tag layouts); it makes a cipher object and a few buffers per packet.
 */
import { Buffer } from 'node:buffer';
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import type { SrtpCipher } from './srtpCipher.js';
import type { SrtpKeySet, SrtpSessionKeys } from './srtpKeys.js';
import {
  RTCP_CLEAR_HEADER,
  RTP_MIN_HEADER,
  SRTCP_INDEX_LENGTH,
  SRTCP_MAX_INDEX,
  SRTP_AEAD_AES_128_GCM,
  srtpLengths,
  type SrtpProfile,
} from './srtpProfile.js';
import { bytesArg, checkOut, MAX_OFFSET, MAX_PACKET, MAX_ROC, rangeError, uintArg } from './srtpArgs.js';

const GCM_IV = 12;
const E_FLAG = 0x8000_0000;

interface Keys {
  readonly key: KeyObject;
  readonly salt: Buffer;
  /** HMAC-SHA1 key (CM); empty for GCM. */
  readonly authKey: Buffer;
}

function keysOf(k: SrtpSessionKeys): Keys {
  return {
    key: createSecretKey(k.key),
    salt: Buffer.from(k.salt),
    authKey: Buffer.from(k.authKey),
  };
}

function readU32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
}

function readU16(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(at);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function xor32(iv: Buffer, at: number, v: number): void {
  iv.writeUInt32BE((iv.readUInt32BE(at) ^ v) >>> 0, at);
}

function xor16(iv: Buffer, at: number, v: number): void {
  iv.writeUInt16BE(iv.readUInt16BE(at) ^ v, at);
}

/** GCM IV: salt XOR (0^16 | SSRC | hi (4 bytes) at 6 | lo (2 bytes) at 10) for RTP, (… | index at 8) for RTCP. */
function gcmIv(salt: Buffer, ssrc: number, word: number, at: number, seq?: number): Buffer {
  const iv = Buffer.from(salt.subarray(0, GCM_IV));
  xor32(iv, 2, ssrc);
  xor32(iv, at, word);
  if (seq !== undefined) {
    xor16(iv, 10, seq);
  }
  return iv;
}

/** CM counter block: (salt | 0^16) XOR (0^32 | SSRC | 48-bit index | 0^16), the index as hi (32 bits) | lo (16). */
function cmIv(salt: Buffer, ssrc: number, hi: number, lo: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.set(salt);
  xor32(iv, 4, ssrc);
  xor32(iv, 8, hi);
  xor16(iv, 12, lo);
  return iv;
}

export class TsSrtpCipher implements SrtpCipher {
  readonly native = false;
  readonly rtpOverhead: number;
  readonly rtcpOverhead: number;
  private readonly gcm: boolean;
  private readonly rtp: Keys;
  private readonly rtcp: Keys;

  constructor(
    readonly profile: SrtpProfile,
    keys: SrtpKeySet,
  ) {
    this.gcm = profile === SRTP_AEAD_AES_128_GCM;
    this.rtpOverhead = srtpLengths(profile).tag;
    this.rtcpOverhead = SRTCP_INDEX_LENGTH + this.rtpOverhead;
    this.rtp = keysOf(keys.rtp);
    this.rtcp = keysOf(keys.rtcp);
  }

  private hmac(k: Keys, a: Uint8Array, b?: Uint8Array): Buffer {
    const h = createHmac('sha1', k.authKey).update(a);
    return (b === undefined ? h : h.update(b)).digest().subarray(0, this.rtpOverhead);
  }

  encryptRtp(
    src: Uint8Array,
    srcOffset: number,
    headerLength: number,
    payloadLength: number,
    roc: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    bytesArg(src, 'src');
    uintArg(srcOffset, 'srcOffset', 0, MAX_OFFSET);
    uintArg(headerLength, 'headerLength', RTP_MIN_HEADER, MAX_PACKET);
    uintArg(payloadLength, 'payloadLength', 0, MAX_PACKET);
    uintArg(roc, 'roc', 0, MAX_ROC);
    bytesArg(out, 'out');
    uintArg(outOffset, 'outOffset', 0, MAX_OFFSET);
    const body = headerLength + payloadLength;
    if (srcOffset + body > src.length) {
      throw rangeError('src is too short for headerLength + payloadLength at srcOffset');
    }
    checkOut(src, srcOffset, body, out, outOffset, body + this.rtpOverhead);
    const header = src.subarray(srcOffset, srcOffset + headerLength);
    const payload = src.subarray(srcOffset + headerLength, srcOffset + body);
    const ssrc = readU32(header, 8);
    const seq = readU16(header, 2);
    if (this.gcm) {
      const c = createCipheriv('aes-128-gcm', this.rtp.key, gcmIv(this.rtp.salt, ssrc, roc, 6, seq));
      c.setAAD(header);
      const enc = c.update(payload);
      c.final();
      out.set(header, outOffset);
      out.set(enc, outOffset + headerLength);
      out.set(c.getAuthTag(), outOffset + body);
    } else {
      const enc = createCipheriv('aes-128-ctr', this.rtp.key, cmIv(this.rtp.salt, ssrc, roc, seq)).update(
        payload,
      );
      out.set(header, outOffset);
      out.set(enc, outOffset + headerLength);
      out.set(this.hmac(this.rtp, out.subarray(outOffset, outOffset + body), u32(roc)), outOffset + body);
    }
    return body + this.rtpOverhead;
  }

  decryptRtp(
    src: Uint8Array,
    srcOffset: number,
    length: number,
    headerLength: number,
    roc: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    bytesArg(src, 'src');
    uintArg(srcOffset, 'srcOffset', 0, MAX_OFFSET);
    uintArg(length, 'length', 0, MAX_PACKET);
    uintArg(headerLength, 'headerLength', RTP_MIN_HEADER, MAX_PACKET);
    uintArg(roc, 'roc', 0, MAX_ROC);
    bytesArg(out, 'out');
    uintArg(outOffset, 'outOffset', 0, MAX_OFFSET);
    if (srcOffset + length > src.length) {
      throw rangeError('src is too short for length at srcOffset');
    }
    if (length < headerLength + this.rtpOverhead) {
      return -1;
    }
    const body = length - this.rtpOverhead;
    checkOut(src, srcOffset, length, out, outOffset, body);
    const header = src.subarray(srcOffset, srcOffset + headerLength);
    const encrypted = src.subarray(srcOffset + headerLength, srcOffset + body);
    const tag = src.subarray(srcOffset + body, srcOffset + length);
    const ssrc = readU32(header, 8);
    const seq = readU16(header, 2);
    let plain: Buffer;
    if (this.gcm) {
      const d = createDecipheriv('aes-128-gcm', this.rtp.key, gcmIv(this.rtp.salt, ssrc, roc, 6, seq));
      d.setAuthTag(tag);
      d.setAAD(header);
      plain = d.update(encrypted);
      try {
        d.final();
      } catch {
        return -1;
      }
    } else {
      if (!timingSafeEqual(this.hmac(this.rtp, src.subarray(srcOffset, srcOffset + body), u32(roc)), tag)) {
        return -1;
      }
      plain = createDecipheriv('aes-128-ctr', this.rtp.key, cmIv(this.rtp.salt, ssrc, roc, seq)).update(
        encrypted,
      );
    }
    out.set(header, outOffset);
    out.set(plain, outOffset + headerLength);
    return body;
  }

  encryptRtcp(
    src: Uint8Array,
    srcOffset: number,
    length: number,
    srtcpIndex: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    bytesArg(src, 'src');
    uintArg(srcOffset, 'srcOffset', 0, MAX_OFFSET);
    uintArg(length, 'length', RTCP_CLEAR_HEADER, MAX_PACKET);
    uintArg(srtcpIndex, 'srtcpIndex', 0, SRTCP_MAX_INDEX);
    bytesArg(out, 'out');
    uintArg(outOffset, 'outOffset', 0, MAX_OFFSET);
    if (srcOffset + length > src.length) {
      throw rangeError('src is too short for length at srcOffset');
    }
    checkOut(src, srcOffset, length, out, outOffset, length + this.rtcpOverhead);
    const header = src.subarray(srcOffset, srcOffset + RTCP_CLEAR_HEADER);
    const rest = src.subarray(srcOffset + RTCP_CLEAR_HEADER, srcOffset + length);
    const ssrc = readU32(header, 4);
    const trailer = u32(srtcpIndex | E_FLAG);
    if (this.gcm) {
      const c = createCipheriv('aes-128-gcm', this.rtcp.key, gcmIv(this.rtcp.salt, ssrc, srtcpIndex, 8));
      c.setAAD(Buffer.concat([header, trailer]));
      const enc = c.update(rest);
      c.final();
      out.set(header, outOffset);
      out.set(enc, outOffset + RTCP_CLEAR_HEADER);
      out.set(c.getAuthTag(), outOffset + length);
      out.set(trailer, outOffset + length + this.rtpOverhead);
    } else {
      const iv = cmIv(this.rtcp.salt, ssrc, srtcpIndex >>> 16, srtcpIndex & 0xffff);
      const enc = createCipheriv('aes-128-ctr', this.rtcp.key, iv).update(rest);
      out.set(header, outOffset);
      out.set(enc, outOffset + RTCP_CLEAR_HEADER);
      out.set(trailer, outOffset + length);
      const authenticated = out.subarray(outOffset, outOffset + length + SRTCP_INDEX_LENGTH);
      out.set(this.hmac(this.rtcp, authenticated), outOffset + length + SRTCP_INDEX_LENGTH);
    }
    return length + this.rtcpOverhead;
  }

  decryptRtcp(
    src: Uint8Array,
    srcOffset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    bytesArg(src, 'src');
    uintArg(srcOffset, 'srcOffset', 0, MAX_OFFSET);
    uintArg(length, 'length', 0, MAX_PACKET);
    bytesArg(out, 'out');
    uintArg(outOffset, 'outOffset', 0, MAX_OFFSET);
    if (srcOffset + length > src.length) {
      throw rangeError('src is too short for length at srcOffset');
    }
    if (length < RTCP_CLEAR_HEADER + this.rtcpOverhead) {
      return -1;
    }
    const plainLength = length - this.rtcpOverhead;
    checkOut(src, srcOffset, length, out, outOffset, plainLength);
    const tag = this.rtpOverhead;
    // GCM: RTCP | tag | E|index; CM: RTCP | E|index | tag.
    const trailerAt = srcOffset + (this.gcm ? length - SRTCP_INDEX_LENGTH : plainLength);
    const trailer = src.subarray(trailerAt, trailerAt + SRTCP_INDEX_LENGTH);
    const word = readU32(trailer, 0);
    const encrypted = word >= E_FLAG;
    const index = word & SRTCP_MAX_INDEX;
    const clear = encrypted ? RTCP_CLEAR_HEADER : plainLength;
    const head = src.subarray(srcOffset, srcOffset + clear);
    const body = src.subarray(srcOffset + clear, srcOffset + plainLength);
    const ssrc = readU32(src, srcOffset + 4);
    let plain: Buffer;
    if (this.gcm) {
      const d = createDecipheriv('aes-128-gcm', this.rtcp.key, gcmIv(this.rtcp.salt, ssrc, index, 8));
      d.setAuthTag(src.subarray(srcOffset + plainLength, srcOffset + plainLength + tag));
      // E clear (RFC 7714 §17.3): nothing is encrypted, the whole packet is associated data.
      d.setAAD(Buffer.concat([head, trailer]));
      plain = d.update(body);
      try {
        d.final();
      } catch {
        return -1;
      }
    } else {
      const mac = this.hmac(this.rtcp, src.subarray(srcOffset, srcOffset + length - tag));
      if (!timingSafeEqual(mac, src.subarray(srcOffset + length - tag, srcOffset + length))) {
        return -1;
      }
      const iv = cmIv(this.rtcp.salt, ssrc, index >>> 16, index & 0xffff);
      plain = encrypted ? createDecipheriv('aes-128-ctr', this.rtcp.key, iv).update(body) : Buffer.alloc(0);
    }
    out.set(head, outOffset);
    out.set(plain, outOffset + clear);
    return plainLength;
  }
}

/**
 * RTP fixed header + header extensions (RFC 3550 §5.1, RFC 8285) written straight into one Buffer: the
 * forwarding path builds each outgoing header with this instead of a werift `RtpHeader` object (14 property
 * definitions and a bit writer per packet, performance.md §4). One-byte extension elements (profile 0xBEDE)
 * when every element fits (id 1–14, 1–16 bytes), else two-byte elements (profile 0x1000, id 1–255,
 * 0–255 bytes); elements that fit neither are left out. No CSRCs (an SFU forwards none). Pure.
 */
import { Buffer } from 'node:buffer';

export interface RtpHeaderFields {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  /** The P bit: the payload ends with padding (its last byte is the padding length). */
  padding?: boolean;
  extensions: readonly { id: number; payload: Uint8Array }[];
}

const ONE_BYTE = 0xbede;
const TWO_BYTE = 0x1000;

function fitsOneByte(e: { id: number; payload: Uint8Array }): boolean {
  return e.id >= 1 && e.id <= 14 && e.payload.length >= 1 && e.payload.length <= 16;
}

function fitsTwoByte(e: { id: number; payload: Uint8Array }): boolean {
  return e.id >= 1 && e.id <= 255 && e.payload.length <= 255;
}

export function writeRtpHeader(h: RtpHeaderFields): Buffer {
  const oneByte = h.extensions.every(fitsOneByte);
  const elements = oneByte ? h.extensions : h.extensions.filter(fitsTwoByte);
  let extBytes = 0;
  for (const e of elements) {
    extBytes += (oneByte ? 1 : 2) + e.payload.length;
  }
  const extWords = Math.ceil(extBytes / 4);
  const hasExt = elements.length > 0;
  const buf = Buffer.alloc(12 + (hasExt ? 4 + extWords * 4 : 0));
  buf[0] = 0x80 | (h.padding === true ? 0x20 : 0) | (hasExt ? 0x10 : 0);
  buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(h.timestamp >>> 0, 4);
  buf.writeUInt32BE(h.ssrc >>> 0, 8);
  if (!hasExt) {
    return buf;
  }
  buf.writeUInt16BE(oneByte ? ONE_BYTE : TWO_BYTE, 12);
  buf.writeUInt16BE(extWords, 14);
  let pos = 16;
  for (const e of elements) {
    if (oneByte) {
      buf[pos++] = (e.id << 4) | (e.payload.length - 1);
    } else {
      buf[pos++] = e.id;
      buf[pos++] = e.payload.length;
    }
    buf.set(e.payload, pos);
    pos += e.payload.length;
  }
  return buf;
}

/**
 * A header already written to bytes, in the shape werift's SRTP encryption reads (`ssrc`,
 * `sequenceNumber`, `serializeSize`, `serialize()`): handed to `dtlsTransport.sendRtp(payload, header)`
 * so werift builds no header object. The same object resends the exact bytes for a NACK.
 */
export class WireRtpHeader {
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly bytes: Buffer;

  constructor(h: RtpHeaderFields) {
    this.ssrc = h.ssrc >>> 0;
    this.sequenceNumber = h.sequenceNumber & 0xffff;
    this.bytes = writeRtpHeader(h);
  }

  get serializeSize(): number {
    return this.bytes.length;
  }

  serialize(): Buffer {
    return this.bytes;
  }
}

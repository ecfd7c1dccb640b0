/**
 * The RTP header of a packet sent on a link's trunk (protocol.md §8.2), written into ONE reusable buffer: the
 * publisher's sequence number, timestamp and marker verbatim, the trunk SSRC, the link's payload type, and only
 * the link's header extensions — the abs-send-time given and the publisher's audio level under the link's ids
 * (one-byte form, RFC 8285; an element whose id or length does not fit it is left out). The object has the
 * shape werift's SRTP encryption reads (`ssrc`, `sequenceNumber`, `serializeSize`, `serialize()`), which copies
 * the bytes before `write` is called again, so one writer serves every packet of a link. No allocation per
 * packet (the views of each header length are made once). Pure.
 */
import { Buffer } from 'node:buffer';
import { absSendTimeValueInto } from './absSendTime.js';

/** 12 fixed + 4 extension header + abs-send-time (4) + audio level (≤ 17), rounded up to words. */
const MAX_HEADER = 40;
const ONE_BYTE = 0xbede;

function fits(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id <= 14;
}

export class TrunkHeaderWriter {
  readonly #buf = Buffer.alloc(MAX_HEADER);
  readonly #views: (Buffer | undefined)[] = [];
  #absId = -1;
  #levelId = -1;
  ssrc = 0;
  sequenceNumber = 0;
  serializeSize = 12;

  /** The link's negotiated ids (undefined or invalid: that extension is not sent). */
  setExtensionIds(absSendTimeId: number | undefined, audioLevelId: number | undefined): void {
    this.#absId = absSendTimeId !== undefined && fits(absSendTimeId) ? absSendTimeId : -1;
    this.#levelId = audioLevelId !== undefined && fits(audioLevelId) ? audioLevelId : -1;
  }

  /**
   * Writes one header. `padding`: the P bit (the payload handed to SRTP ends with the publisher's padding);
   * `absValue`: the 24-bit abs-send-time to write (absSendTime.ts `absSendTimeValue` of the departure; a resend:
   * the one the packet first left with); `audioLevel`: the publisher's RFC 6464 element value (sent when the
   * link negotiated the extension).
   */
  write(
    ssrc: number,
    payloadType: number,
    seq: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    absValue: number,
    audioLevel: Uint8Array | undefined,
  ): this {
    const b = this.#buf;
    const abs = this.#absId > 0;
    const level =
      this.#levelId > 0 && audioLevel !== undefined && audioLevel.length >= 1 && audioLevel.length <= 16;
    const hasExt = abs || level;
    b[0] = 0x80 | (padding ? 0x20 : 0) | (hasExt ? 0x10 : 0);
    b[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    // Byte by byte: an unsigned value ≥ 2^31 handed to writeUInt32BE is a heap number (one per packet).
    b[2] = (seq >>> 8) & 0xff;
    b[3] = seq & 0xff;
    b[4] = (ts >>> 24) & 0xff;
    b[5] = (ts >>> 16) & 0xff;
    b[6] = (ts >>> 8) & 0xff;
    b[7] = ts & 0xff;
    b[8] = (ssrc >>> 24) & 0xff;
    b[9] = (ssrc >>> 16) & 0xff;
    b[10] = (ssrc >>> 8) & 0xff;
    b[11] = ssrc & 0xff;
    let size = 12;
    if (hasExt) {
      let pos = 16;
      if (abs) {
        b[pos] = (this.#absId << 4) | 2;
        absSendTimeValueInto(b, pos + 1, absValue);
        pos += 4;
      }
      if (level) {
        const n = audioLevel.length;
        b[pos] = (this.#levelId << 4) | (n - 1);
        b.set(audioLevel, pos + 1);
        pos += 1 + n;
      }
      const words = Math.ceil((pos - 16) / 4);
      const end = 16 + 4 * words;
      b.fill(0, pos, end);
      b.writeUInt16BE(ONE_BYTE, 12);
      b.writeUInt16BE(words, 14);
      size = end;
    }
    this.ssrc = ssrc >>> 0;
    this.sequenceNumber = seq & 0xffff;
    this.serializeSize = size;
    return this;
  }

  /** The header written last (valid until the next `write`). */
  serialize(): Buffer {
    const n = this.serializeSize;
    let v = this.#views[n];
    if (v === undefined) {
      v = this.#buf.subarray(0, n);
      this.#views[n] = v;
    }
    return v;
  }
}

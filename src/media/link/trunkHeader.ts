/**
 * The RTP header of a packet sent on a link's trunk (protocol.md §8.2): the publisher's sequence number,
 * timestamp and marker verbatim, the trunk SSRC, the link's payload type, and only the link's header extensions —
 * the abs-send-time and the publisher's audio level under the link's ids (one-byte form, RFC 8285; an element
 * whose id or length does not fit it is left out). A media packet's header is written into the packet's own
 * retransmission slot (`writeInto`, trunkOut.ts) and its abs-send-time set again each time the packet leaves
 * (`restamp`); a probe's into ONE reusable buffer (`write`), in the shape werift's SRTP encryption reads (`ssrc`,
 * `sequenceNumber`, `serializeSize`, `serialize()`), which copies the bytes before `write` is called again. No
 * allocation per packet (the views of each header length are made once). Pure.
 */
import { absSendTimeInto } from './absSendTime.js';

/** 12 fixed + 4 extension header + abs-send-time (4) + audio level (≤ 17), rounded up to words. */
export const MAX_TRUNK_HEADER = 40;
const ONE_BYTE = 0xbede;

function fits(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id <= 14;
}

export class TrunkHeaderWriter {
  readonly #buf = Buffer.alloc(MAX_TRUNK_HEADER);
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
   * `audioLevel`: the publisher's RFC 6464 element value (sent when the link negotiated the extension).
   */
  write(
    ssrc: number,
    payloadType: number,
    seq: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    nowMs: number,
    audioLevel: Uint8Array | undefined,
  ): this {
    const size = this.writeInto(this.#buf, 0, ssrc, payloadType, seq, ts, marker, padding, nowMs, audioLevel);
    this.ssrc = ssrc >>> 0;
    this.sequenceNumber = seq & 0xffff;
    this.serializeSize = size;
    return this;
  }

  /**
   * `write` into `b` at `o` (at least MAX_TRUNK_HEADER bytes there): the header's length. The abs-send-time, when
   * the link has it, is the first element (`restamp` finds it there).
   */
  writeInto(
    b: Uint8Array,
    o: number,
    ssrc: number,
    payloadType: number,
    seq: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    nowMs: number,
    audioLevel: Uint8Array | undefined,
  ): number {
    const abs = this.#absId > 0;
    const level =
      this.#levelId > 0 && audioLevel !== undefined && audioLevel.length >= 1 && audioLevel.length <= 16;
    const hasExt = abs || level;
    b[o] = 0x80 | (padding ? 0x20 : 0) | (hasExt ? 0x10 : 0);
    b[o + 1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    // Byte by byte: an unsigned value ≥ 2^31 handed to writeUInt32BE is a heap number (one per packet).
    b[o + 2] = (seq >>> 8) & 0xff;
    b[o + 3] = seq & 0xff;
    b[o + 4] = (ts >>> 24) & 0xff;
    b[o + 5] = (ts >>> 16) & 0xff;
    b[o + 6] = (ts >>> 8) & 0xff;
    b[o + 7] = ts & 0xff;
    b[o + 8] = (ssrc >>> 24) & 0xff;
    b[o + 9] = (ssrc >>> 16) & 0xff;
    b[o + 10] = (ssrc >>> 8) & 0xff;
    b[o + 11] = ssrc & 0xff;
    if (!hasExt) {
      return 12;
    }
    let pos = o + 16;
    if (abs) {
      b[pos] = (this.#absId << 4) | 2;
      absSendTimeInto(b, pos + 1, nowMs);
      pos += 4;
    }
    if (level) {
      const n = audioLevel.length;
      b[pos] = (this.#levelId << 4) | (n - 1);
      b.set(audioLevel, pos + 1);
      pos += 1 + n;
    }
    const words = Math.ceil((pos - o - 16) / 4);
    const end = o + 16 + 4 * words;
    b.fill(0, pos, end);
    b[o + 12] = ONE_BYTE >> 8;
    b[o + 13] = ONE_BYTE & 0xff;
    b[o + 14] = (words >> 8) & 0xff;
    b[o + 15] = words & 0xff;
    return end - o;
  }

  /**
   * A header `writeInto` wrote at `b[o]` leaves now: its abs-send-time set to `nowMs` (the departure time the
   * receiving focus's delay estimate reads, §8.5). A header without this link's abs-send-time as its first
   * element is left as it is. Pure.
   */
  restamp(b: Uint8Array, o: number, nowMs: number): void {
    if (
      this.#absId > 0 &&
      ((b[o] as number) & 0x10) !== 0 &&
      b[o + 12] === ONE_BYTE >> 8 &&
      b[o + 13] === (ONE_BYTE & 0xff) &&
      b[o + 16] === ((this.#absId << 4) | 2)
    ) {
      absSendTimeInto(b, o + 17, nowMs);
    }
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

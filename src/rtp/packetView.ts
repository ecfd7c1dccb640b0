/**
 * A read view over the bytes of one RTP packet (RFC 3550 §5.1, header extensions RFC 8285): the fixed header
 * fields, CSRC count, padding, where the payload is, and — only when asked — the header extension elements,
 * in the one-byte (0xBEDE) and the two-byte (0x100X) form. One view is re-pointed at each packet with `reset`:
 * nothing is allocated per packet (the fields are plain numbers, the extension walk returns offsets).
 *
 * Bad input never throws: `reset` returns false and `problem` names why (truncated, bad version, bad padding,
 * bad extension block); the fields of an invalid view are zero. Pure: no I/O.
 */
import { Buffer } from 'node:buffer';

export type RtpViewProblem = 'truncated' | 'bad_version' | 'bad_padding' | 'bad_extension';

const FIXED_HEADER = 12;
const ONE_BYTE_PROFILE = 0xbede;
/** 0x1000–0x100F: the two-byte form (the low 4 bits are "appbits"). */
const TWO_BYTE_PROFILE_MASK = 0xfff0;
const TWO_BYTE_PROFILE = 0x1000;
const EMPTY = new Uint8Array(0);

export class RtpPacketView {
  #buf: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  #valid = false;
  #problem: RtpViewProblem | undefined = 'truncated';
  #ssrc = 0;
  #seq = 0;
  #ts = 0;
  #marker = false;
  #pt = 0;
  #csrcCount = 0;
  #padding = 0;
  #payloadOffset = 0;
  #payloadLength = 0;
  #extProfile = 0;
  /** Start and end of the extension elements (after the 4-byte profile/length word); 0/0 when none. */
  #extStart = 0;
  #extEnd = 0;
  #foundLength = 0;

  /**
   * Points the view at `buf[offset, offset + length)` and parses the fixed header. Returns whether the packet
   * is valid RTP; the view never keeps anything of the previous packet. The bytes are not copied: the caller
   * must not change them while it reads the view.
   */
  reset(buf: Uint8Array, offset = 0, length: number = buf.length - offset): boolean {
    this.#buf = buf;
    this.#start = offset;
    this.#end = offset + length;
    this.#clear();
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      return this.#fail('truncated');
    }
    if (this.#end > buf.length || length < FIXED_HEADER) {
      return this.#fail('truncated');
    }
    const b0 = buf[offset] as number;
    if (b0 >> 6 !== 2) {
      return this.#fail('bad_version');
    }
    const b1 = buf[offset + 1] as number;
    const cc = b0 & 0x0f;
    let pos = offset + FIXED_HEADER + 4 * cc;
    if (pos > this.#end) {
      return this.#fail('truncated');
    }
    if ((b0 & 0x10) !== 0) {
      if (pos + 4 > this.#end) {
        return this.#fail('truncated');
      }
      const profile = ((buf[pos] as number) << 8) | (buf[pos + 1] as number);
      const words = ((buf[pos + 2] as number) << 8) | (buf[pos + 3] as number);
      const extEnd = pos + 4 + 4 * words;
      if (extEnd > this.#end) {
        return this.#fail('bad_extension');
      }
      this.#extProfile = profile;
      this.#extStart = pos + 4;
      this.#extEnd = extEnd;
      pos = extEnd;
    }
    let padding = 0;
    if ((b0 & 0x20) !== 0) {
      padding = this.#end > pos ? (buf[this.#end - 1] as number) : 0;
      if (padding === 0 || pos + padding > this.#end) {
        return this.#fail('bad_padding');
      }
    }
    this.#marker = (b1 & 0x80) !== 0;
    this.#pt = b1 & 0x7f;
    this.#seq = ((buf[offset + 2] as number) << 8) | (buf[offset + 3] as number);
    this.#ts = readU32(buf, offset + 4);
    this.#ssrc = readU32(buf, offset + 8);
    this.#csrcCount = cc;
    this.#padding = padding;
    this.#payloadOffset = pos;
    this.#payloadLength = this.#end - pos - padding;
    this.#valid = true;
    this.#problem = undefined;
    return true;
  }

  get valid(): boolean {
    return this.#valid;
  }

  /** Why the last `reset` failed (undefined when valid). */
  get problem(): RtpViewProblem | undefined {
    return this.#problem;
  }

  /** The bytes the view points into (offsets below are into this). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Where the packet starts in `buffer`, and its length in bytes. */
  get offset(): number {
    return this.#start;
  }

  get length(): number {
    return this.#end - this.#start;
  }

  get ssrc(): number {
    return this.#ssrc;
  }

  get seq(): number {
    return this.#seq;
  }

  get ts(): number {
    return this.#ts;
  }

  get marker(): boolean {
    return this.#marker;
  }

  get pt(): number {
    return this.#pt;
  }

  get csrcCount(): number {
    return this.#csrcCount;
  }

  /** The i-th CSRC (undefined outside 0 … csrcCount − 1). */
  csrc(i: number): number | undefined {
    if (!this.#valid || !Number.isInteger(i) || i < 0 || i >= this.#csrcCount) {
      return undefined;
    }
    return readU32(this.#buf, this.#start + FIXED_HEADER + 4 * i);
  }

  /** Padding bytes at the end (0 without the P bit). */
  get paddingLength(): number {
    return this.#padding;
  }

  /** Offset of the payload in `buffer`, and its length (padding excluded; 0 for a padding-only packet). */
  get payloadOffset(): number {
    return this.#payloadOffset;
  }

  get payloadLength(): number {
    return this.#payloadLength;
  }

  /** The payload as a Buffer over the same memory (one small object; no copy). */
  payload(): Buffer {
    const b = this.#buf;
    return Buffer.from(b.buffer, b.byteOffset + this.#payloadOffset, this.#payloadLength);
  }

  /** The extension profile (0xBEDE one-byte, 0x100X two-byte, other values are not parsed); 0 without X. */
  get extensionProfile(): number {
    return this.#extProfile;
  }

  /**
   * The offset in `buffer` of the value of extension element `id` (the first one), or −1 when it is absent,
   * the block is in a profile not parsed, or the elements are malformed before it. Its length is then in
   * `foundLength`. Walks the elements each call (no state is built).
   */
  extension(id: number): number {
    this.#foundLength = 0;
    const start = this.#extStart;
    const end = this.#extEnd;
    if (start === end || id <= 0) {
      return -1;
    }
    const buf = this.#buf;
    if (this.#extProfile === ONE_BYTE_PROFILE) {
      if (id > 14) {
        return -1;
      }
      let pos = start;
      while (pos < end) {
        const b = buf[pos] as number;
        if (b === 0) {
          pos++; // padding
          continue;
        }
        const eid = b >> 4;
        if (eid === 15) {
          return -1; // reserved: stop parsing (RFC 8285 §4.2)
        }
        const len = (b & 0x0f) + 1;
        if (pos + 1 + len > end) {
          return -1;
        }
        if (eid === id) {
          this.#foundLength = len;
          return pos + 1;
        }
        pos += 1 + len;
      }
      return -1;
    }
    if ((this.#extProfile & TWO_BYTE_PROFILE_MASK) === TWO_BYTE_PROFILE) {
      if (id > 255) {
        return -1;
      }
      let pos = start;
      while (pos < end) {
        const eid = buf[pos] as number;
        if (eid === 0) {
          pos++; // padding
          continue;
        }
        if (pos + 2 > end) {
          return -1;
        }
        const len = buf[pos + 1] as number;
        if (pos + 2 + len > end) {
          return -1;
        }
        if (eid === id) {
          this.#foundLength = len;
          return pos + 2;
        }
        pos += 2 + len;
      }
    }
    return -1;
  }

  /** Length of the value the last `extension()` call found (0 when none). */
  get foundLength(): number {
    return this.#foundLength;
  }

  /** The value of extension `id` as a view over the packet's memory (allocates one view), or undefined. */
  extensionBytes(id: number): Uint8Array | undefined {
    const at = this.extension(id);
    return at < 0 ? undefined : this.#buf.subarray(at, at + this.#foundLength);
  }

  /** Whether extension `id`'s value equals `value` byte for byte (no allocation). */
  extensionEquals(id: number, value: Uint8Array): boolean {
    const at = this.extension(id);
    if (at < 0 || this.#foundLength !== value.length) {
      return false;
    }
    const buf = this.#buf;
    for (let i = 0; i < value.length; i++) {
      if (buf[at + i] !== value[i]) {
        return false;
      }
    }
    return true;
  }

  #clear(): void {
    this.#valid = false;
    this.#ssrc = 0;
    this.#seq = 0;
    this.#ts = 0;
    this.#marker = false;
    this.#pt = 0;
    this.#csrcCount = 0;
    this.#padding = 0;
    this.#payloadOffset = 0;
    this.#payloadLength = 0;
    this.#extProfile = 0;
    this.#extStart = 0;
    this.#extEnd = 0;
    this.#foundLength = 0;
  }

  #fail(problem: RtpViewProblem): false {
    this.#clear();
    this.#problem = problem;
    return false;
  }
}

function readU32(buf: Uint8Array, at: number): number {
  return (
    (((buf[at] as number) << 24) |
      ((buf[at + 1] as number) << 16) |
      ((buf[at + 2] as number) << 8) |
      (buf[at + 3] as number)) >>>
    0
  );
}

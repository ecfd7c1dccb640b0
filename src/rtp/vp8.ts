/**
 * VP8 RTP payload descriptor (RFC 7741 §4.2): parse, keyframe detection, and in-place rewriting of
 * the picture id / TL0PICIDX fields.
 *
 * Pure: no I/O, works on a byte view with offsets; `parseVp8DescriptorInto` fills a caller's object (nothing
 * allocated), `parseVp8Descriptor` a new one.
 *
 * ```
 *       0 1 2 3 4 5 6 7
 *      +-+-+-+-+-+-+-+-+
 *      |X|R|N|S|R| PID | (REQUIRED)
 *      +-+-+-+-+-+-+-+-+
 * X:   |I|L|T|K| RSV   | (OPTIONAL)
 *      +-+-+-+-+-+-+-+-+
 * I:   |M| PictureID   | (OPTIONAL)
 *      +-+-+-+-+-+-+-+-+
 *      |   PictureID   | (present when M = 1)
 *      +-+-+-+-+-+-+-+-+
 * L:   |   TL0PICIDX   | (OPTIONAL)
 *      +-+-+-+-+-+-+-+-+
 * T/K: |TID|Y| KEYIDX  | (OPTIONAL)
 *      +-+-+-+-+-+-+-+-+
 * ```
 *
 * The VP8 payload header follows the descriptor; the lowest bit of its first byte is P (0 = keyframe),
 * meaningful only when S = 1 and PID = 0.
 */

export interface Vp8Descriptor {
  /** Length in bytes of the descriptor (payload header starts after it). */
  length: number;
  /** X bit: the extension byte is present. */
  extended: boolean;
  /** N bit. */
  nonReference: boolean;
  /** S bit. */
  startOfPartition: boolean;
  /** PID (3 bits). */
  partitionId: number;
  /** Present fields (undefined when not present). pictureIdBits is 7 or 15 when pictureId is present. */
  pictureId?: number | undefined;
  pictureIdBits?: 7 | 15 | undefined;
  tl0PicIdx?: number | undefined;
  /** T bit: TID (2 bits) + Y bit. */
  tid?: number | undefined;
  layerSync?: boolean | undefined;
  /** K bit: KEYIDX (5 bits). */
  keyIdx?: number | undefined;
  /** True only on the first packet of a keyframe: S=1, PID=0 and the VP8 payload header's P bit = 0. */
  keyframe: boolean;
}

function validRange(buf: Uint8Array, offset: number, end: number): boolean {
  return (
    Number.isInteger(offset) && Number.isInteger(end) && offset >= 0 && end <= buf.length && offset < end
  );
}

/** A descriptor with every field present (one object shape), to parse into packet after packet. */
export function blankVp8Descriptor(): Vp8Descriptor {
  return {
    length: 0,
    extended: false,
    nonReference: false,
    startOfPartition: false,
    partitionId: 0,
    pictureId: undefined,
    pictureIdBits: undefined,
    tl0PicIdx: undefined,
    tid: undefined,
    layerSync: undefined,
    keyIdx: undefined,
    keyframe: false,
  };
}

/**
 * Parses the descriptor in `payload[offset, end)` (defaults: the whole view). Returns undefined when the
 * range is empty/invalid or the descriptor is truncated (X set without the extension byte, I set without
 * the picture id byte(s), L without TL0PICIDX, T/K without the TID/KEYIDX byte). Never throws.
 *
 * A descriptor with no payload header byte after it parses, with `keyframe: false`.
 */
export function parseVp8Descriptor(
  payload: Uint8Array,
  offset = 0,
  end: number = payload.length,
): Vp8Descriptor | undefined {
  const d = blankVp8Descriptor();
  return parseVp8DescriptorInto(d, payload, offset, end) ? d : undefined;
}

/**
 * `parseVp8Descriptor` into `d` (every field written; a field the descriptor lacks is set undefined): true
 * when it parsed, false as `parseVp8Descriptor` returns undefined (then `d` holds nothing meaningful).
 */
export function parseVp8DescriptorInto(
  d: Vp8Descriptor,
  payload: Uint8Array,
  offset = 0,
  end: number = payload.length,
): boolean {
  if (!validRange(payload, offset, end)) {
    return false;
  }
  const b0 = payload[offset] as number;
  const extended = (b0 & 0x80) !== 0;
  const startOfPartition = (b0 & 0x10) !== 0;
  const partitionId = b0 & 0x07;
  d.extended = extended;
  d.nonReference = (b0 & 0x20) !== 0;
  d.startOfPartition = startOfPartition;
  d.partitionId = partitionId;
  d.pictureId = undefined;
  d.pictureIdBits = undefined;
  d.tl0PicIdx = undefined;
  d.tid = undefined;
  d.layerSync = undefined;
  d.keyIdx = undefined;
  let pos = offset + 1;
  if (extended) {
    if (pos >= end) {
      return false;
    }
    const x = payload[pos++] as number;
    if ((x & 0x80) !== 0) {
      if (pos >= end) {
        return false;
      }
      const p0 = payload[pos++] as number;
      if ((p0 & 0x80) !== 0) {
        if (pos >= end) {
          return false;
        }
        d.pictureId = ((p0 & 0x7f) << 8) | (payload[pos++] as number);
        d.pictureIdBits = 15;
      } else {
        d.pictureId = p0;
        d.pictureIdBits = 7;
      }
    }
    if ((x & 0x40) !== 0) {
      if (pos >= end) {
        return false;
      }
      d.tl0PicIdx = payload[pos++];
    }
    const hasT = (x & 0x20) !== 0;
    const hasK = (x & 0x10) !== 0;
    if (hasT || hasK) {
      if (pos >= end) {
        return false;
      }
      const tk = payload[pos++] as number;
      if (hasT) {
        d.tid = tk >> 6;
        d.layerSync = (tk & 0x20) !== 0;
      }
      if (hasK) {
        d.keyIdx = tk & 0x1f;
      }
    }
  }
  d.length = pos - offset;
  d.keyframe = startOfPartition && partitionId === 0 && pos < end && ((payload[pos] as number) & 0x01) === 0;
  return true;
}

/** Byte offset of the picture id field relative to the descriptor start (always 2 when present). */
const PICTURE_ID_POS = 2;

/**
 * Rewrites the picture id in place (`buf` is a copy the caller owns; `offset` is where the descriptor
 * starts, as passed to parse). The field keeps its width: 7-bit ids are written mod 128, 15-bit ids
 * mod 32768 (M bit kept set). Returns false, writing nothing, if the field is absent or out of bounds.
 * `d` itself is not updated.
 */
export function writeVp8PictureId(buf: Uint8Array, d: Vp8Descriptor, pictureId: number, offset = 0): boolean {
  if (d.pictureId === undefined || d.pictureIdBits === undefined) {
    return false;
  }
  const pos = offset + PICTURE_ID_POS;
  if (d.pictureIdBits === 15) {
    if (!validRange(buf, pos, pos + 2)) {
      return false;
    }
    const id = pictureId & 0x7fff;
    buf[pos] = 0x80 | (id >> 8);
    buf[pos + 1] = id & 0xff;
  } else {
    if (!validRange(buf, pos, pos + 1)) {
      return false;
    }
    buf[pos] = pictureId & 0x7f;
  }
  return true;
}

/**
 * Rewrites TL0PICIDX in place (written mod 256). Same contract as {@link writeVp8PictureId}.
 */
export function writeVp8Tl0PicIdx(buf: Uint8Array, d: Vp8Descriptor, tl0PicIdx: number, offset = 0): boolean {
  if (d.tl0PicIdx === undefined) {
    return false;
  }
  const pos = offset + PICTURE_ID_POS + (d.pictureIdBits === 15 ? 2 : d.pictureIdBits === 7 ? 1 : 0);
  if (!validRange(buf, pos, pos + 1)) {
    return false;
  }
  buf[pos] = tl0PicIdx & 0xff;
  return true;
}

/**
 * The frame size carried by a VP8 keyframe (RFC 6386 §9.1: 3-byte frame tag, start code 9d 01 2a, then
 * 14-bit width and height, little-endian, each with a 2-bit scale above). `descriptorEnd` is where the VP8
 * payload starts (`offset + d.length`). Undefined unless `d.keyframe` and the bytes are present and valid.
 */
export function vp8KeyframeSize(
  payload: Uint8Array,
  d: Vp8Descriptor,
  descriptorEnd: number,
): { width: number; height: number } | undefined {
  if (!d.keyframe) {
    return undefined;
  }
  const p = descriptorEnd;
  if (!Number.isInteger(p) || p < 0 || p + 10 > payload.length) {
    return undefined;
  }
  if (payload[p + 3] !== 0x9d || payload[p + 4] !== 0x01 || payload[p + 5] !== 0x2a) {
    return undefined;
  }
  const width = ((payload[p + 6] as number) | ((payload[p + 7] as number) << 8)) & 0x3fff;
  const height = ((payload[p + 8] as number) | ((payload[p + 9] as number) << 8)) & 0x3fff;
  return width > 0 && height > 0 ? { width, height } : undefined;
}

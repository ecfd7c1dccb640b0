/**
 * The RTP header of one packet forwarded to a subscriber, written straight into caller-owned memory
 * (performance-design.md step 2, zero garbage): byte for byte what `writeRtpHeader` makes of
 * `forwardedExtensions(plan, …)` (headerExtensions.ts — the subscriber's MID, a fresh abs-send-time, the
 * subscriber transport's transport-wide sequence number and the publisher's audio level, under the
 * subscriber's ids, sorted by id), without the extension objects, value arrays and header Buffer that made
 * per packet. One-byte elements when every element fits (1–16 bytes; the plan's ids are 1–14), else two-byte
 * elements (an audio level over 255 bytes is then left out, as there). Pure; allocates nothing.
 */
import type { ExtensionPlan } from './headerExtensions.js';

/** The most bytes a forwarded header can take: 12 + 4 + MID (2 + 16) + abs (2 + 3) + tcc (2 + 2) + level (2 + 255). */
export const FORWARDED_HEADER_MAX = 300;

const ONE_BYTE = 0xbede;
const TWO_BYTE = 0x1000;
const MID = 0;
const ABS = 1;
const TCC = 2;
const LEVEL = 3;

/** The fields of one forwarded packet's fixed header (a caller keeps one and overwrites it per packet). */
export interface ForwardedFields {
  ssrc: number;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
  padding: boolean;
  nowMs: number;
  /** The subscriber transport's transport-wide sequence number (-1: none; written only if negotiated). */
  transportSeq: number;
  /** The publisher's RFC 6464 bytes (written only if negotiated and non-empty). */
  audioLevel: Uint8Array | undefined;
}

/** Per packet, each element's id (0: not sent) and length, taken once (scratch: nothing allocated per call). */
const ids = new Int32Array(4);
const lens = new Int32Array(4);
/**
 * Where the last `writeForwardedHeader` put each element's value, as an offset from the header's start (-1: not
 * written), by kind: MID, abs-send-time, transport-cc, audio level (forwardedHeaderWriter.ts reads it).
 */
export const lastValueAt = new Int32Array(4);

/** The id of element `kind` in this packet, or 0 when it is not sent. */
function idOf(plan: ExtensionPlan, f: ForwardedFields, kind: number): number {
  switch (kind) {
    case MID:
      return plan.mid?.id ?? 0;
    case ABS:
      return plan.absSendTimeId ?? 0;
    case TCC:
      return f.transportSeq >= 0 ? (plan.transportCcId ?? 0) : 0;
    default:
      return f.audioLevel !== undefined && f.audioLevel.length > 0 ? (plan.audioLevelId ?? 0) : 0;
  }
}

function lengthOf(plan: ExtensionPlan, f: ForwardedFields, kind: number): number {
  switch (kind) {
    case MID:
      return plan.mid?.value.length ?? 0;
    case ABS:
      return 3;
    case TCC:
      return 2;
    default:
      return f.audioLevel?.length ?? 0;
  }
}

function writeValue(
  buf: Uint8Array,
  pos: number,
  plan: ExtensionPlan,
  f: ForwardedFields,
  kind: number,
): void {
  switch (kind) {
    case MID: {
      const v = plan.mid?.value;
      if (v !== undefined) {
        buf.set(v, pos);
      }
      return;
    }
    case ABS: {
      const v = Math.floor((f.nowMs * (1 << 18)) / 1000) & 0xffffff;
      buf[pos] = (v >> 16) & 0xff;
      buf[pos + 1] = (v >> 8) & 0xff;
      buf[pos + 2] = v & 0xff;
      return;
    }
    case TCC:
      buf[pos] = (f.transportSeq >> 8) & 0xff;
      buf[pos + 1] = f.transportSeq & 0xff;
      return;
    default:
      if (f.audioLevel !== undefined) {
        buf.set(f.audioLevel, pos);
      }
  }
}

/**
 * The 12-byte fixed header of a forwarded packet at `buf[off…]` (the X bit when `hasExtension`). Byte stores,
 * not writeUInt32BE: an unsigned value ≥ 2^31 passed to a call is a boxed number (a heap allocation per packet
 * for half of all timestamps and SSRCs).
 */
export function writeFixedHeader(
  buf: Uint8Array,
  off: number,
  f: ForwardedFields,
  hasExtension: boolean,
): void {
  buf[off] = 0x80 | (f.padding ? 0x20 : 0) | (hasExtension ? 0x10 : 0);
  buf[off + 1] = (f.marker ? 0x80 : 0) | (f.payloadType & 0x7f);
  const seq = f.sequenceNumber;
  buf[off + 2] = (seq >> 8) & 0xff;
  buf[off + 3] = seq & 0xff;
  const ts = f.timestamp;
  buf[off + 4] = (ts >>> 24) & 0xff;
  buf[off + 5] = (ts >>> 16) & 0xff;
  buf[off + 6] = (ts >>> 8) & 0xff;
  buf[off + 7] = ts & 0xff;
  const ssrc = f.ssrc;
  buf[off + 8] = (ssrc >>> 24) & 0xff;
  buf[off + 9] = (ssrc >>> 16) & 0xff;
  buf[off + 10] = (ssrc >>> 8) & 0xff;
  buf[off + 11] = ssrc & 0xff;
}

/**
 * Writes the header at `buf[off…]` (at least FORWARDED_HEADER_MAX bytes must be free there) and returns its
 * length.
 */
export function writeForwardedHeader(
  buf: Buffer,
  off: number,
  plan: ExtensionPlan,
  f: ForwardedFields,
): number {
  lastValueAt.fill(-1);
  // Which elements go, and in which form: one-byte unless an element is longer than 16 bytes.
  let oneByte = true;
  let count = 0;
  for (let k = MID; k <= LEVEL; k++) {
    const id = idOf(plan, f, k);
    const len = lengthOf(plan, f, k);
    ids[k] = id;
    lens[k] = len;
    if (id !== 0) {
      count++;
      if (len > 16) {
        oneByte = false;
      }
    }
  }
  let extBytes = 0;
  let present = 0;
  for (let k = MID; k <= LEVEL; k++) {
    const len = lens[k] as number;
    if (ids[k] !== 0 && (oneByte || len <= 255)) {
      extBytes += (oneByte ? 1 : 2) + len;
      present |= 1 << k;
    }
  }
  const hasExt = count > 0 && present !== 0;
  writeFixedHeader(buf, off, f, hasExt);
  if (!hasExt) {
    return 12;
  }
  const extWords = Math.ceil(extBytes / 4);
  buf.writeUInt16BE(oneByte ? ONE_BYTE : TWO_BYTE, off + 12);
  buf.writeUInt16BE(extWords, off + 14);
  let pos = off + 16;
  // Elements in id order, ties in MID, abs, tcc, level order (as forwardedExtensions' stable sort): the
  // smallest key id × 4 + kind above the last one written, at most four times.
  let lastKey = -1;
  for (let n = 0; n < 4; n++) {
    let next = -1;
    let nextKey = Number.MAX_SAFE_INTEGER;
    for (let k = MID; k <= LEVEL; k++) {
      const key = (ids[k] as number) * 4 + k;
      if ((present & (1 << k)) !== 0 && key > lastKey && key < nextKey) {
        next = k;
        nextKey = key;
      }
    }
    if (next < 0) {
      break;
    }
    lastKey = nextKey;
    const nextId = ids[next] as number;
    const len = lens[next] as number;
    if (oneByte) {
      buf[pos++] = (nextId << 4) | (len - 1);
    } else {
      buf[pos++] = nextId;
      buf[pos++] = len;
    }
    writeValue(buf, pos, plan, f, next);
    lastValueAt[next] = pos - off;
    pos += len;
  }
  const end = off + 16 + extWords * 4;
  buf.fill(0, pos, end);
  return end - off;
}

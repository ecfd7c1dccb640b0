/**
 * Generic NACK (RFC 4585 §6.2.1, RTPFB FMT 1): our own writer and a bounded reader, because werift's
 * GenericNack neither wraps at 16 bits nor sorts numerically (werift-notes §2). Pure.
 *
 * FCI entry: PID (16 bits, a lost packet) + BLP (16 bits: bit i set = PID + i + 1 also lost).
 */

const PT_RTPFB = 205;

/** Upper bound on the sequence numbers taken from one received NACK (a full 1,200-byte NACK ≈ 5,000). */
export const MAX_NACK_SEQS = 512;

/** Packs sequence numbers into FCI (PID, BLP) pairs, in the given order, each PID covering the next 16. */
export function nackFci(seqs: readonly number[]): { pid: number; blp: number }[] {
  const out: { pid: number; blp: number }[] = [];
  let cur: { pid: number; blp: number } | undefined;
  for (const raw of seqs) {
    const s = raw & 0xffff;
    if (cur !== undefined) {
      const d = (s - cur.pid) & 0xffff;
      if (d === 0) {
        continue;
      }
      if (d <= 16) {
        cur.blp |= 1 << (d - 1);
        continue;
      }
    }
    cur = { pid: s, blp: 0 };
    out.push(cur);
  }
  return out;
}

/** One RTPFB generic NACK packet; at most 255 FCI entries (longer lists are cut, oldest kept). */
export function nackPacket(senderSsrc: number, mediaSsrc: number, seqs: readonly number[]): Uint8Array {
  const fci = nackFci(seqs).slice(0, 255);
  const buf = new Uint8Array(12 + 4 * fci.length);
  const words = 2 + fci.length;
  buf[0] = 0x80 | 1;
  buf[1] = PT_RTPFB;
  buf[2] = (words >> 8) & 0xff;
  buf[3] = words & 0xff;
  const view = new DataView(buf.buffer);
  view.setUint32(4, senderSsrc >>> 0);
  view.setUint32(8, mediaSsrc >>> 0);
  fci.forEach((e, i) => {
    view.setUint16(12 + 4 * i, e.pid);
    view.setUint16(14 + 4 * i, e.blp & 0xffff);
  });
  return buf;
}

/** Expands FCI pairs into sequence numbers (16-bit wrap), de-duplicated, at most `max`. */
export function expandNackFci(fci: readonly { pid: number; blp: number }[], max = MAX_NACK_SEQS): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  const add = (s: number): boolean => {
    const v = s & 0xffff;
    if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
    return out.length < max;
  };
  for (const e of fci) {
    if (!add(e.pid)) {
      return out;
    }
    for (let i = 0; i < 16; i++) {
      if (((e.blp >>> i) & 1) === 1 && !add(e.pid + i + 1)) {
        return out;
      }
    }
  }
  return out;
}

/**
 * A lost list as werift's parser produced it (unwrapped, string-sorted, possibly huge or not numbers):
 * 16-bit values, de-duplicated, first `max` kept, non-integers ignored.
 */
export function normaliseNackList(lost: unknown, max = MAX_NACK_SEQS): number[] {
  if (!Array.isArray(lost)) {
    return [];
  }
  const seen = new Set<number>();
  const out: number[] = [];
  for (const x of lost as unknown[]) {
    if (out.length >= max) {
      break;
    }
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) {
      continue;
    }
    const v = x & 0xffff;
    if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}

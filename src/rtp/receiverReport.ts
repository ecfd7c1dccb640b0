/**
 * Receiver Report packets (RFC 3550 §6.4.2) the SFU writes itself, with the blocks of rtp/receptionStats.ts.
 * One RR holds at most 31 blocks (the 5-bit count); more blocks are written as several RRs back to back, a
 * valid compound (each RR is 8 + 24 × n bytes). Pure.
 */
import type { ReceptionReport } from './receptionStats.js';

const PT_RR = 201;
export const MAX_RR_BLOCKS = 31;
const BLOCK_BYTES = 24;

/** RR packets from `senderSsrc` carrying `blocks` (none: one empty RR, 8 bytes). */
export function receiverReportPackets(senderSsrc: number, blocks: readonly ReceptionReport[]): Uint8Array {
  const packets = Math.max(1, Math.ceil(blocks.length / MAX_RR_BLOCKS));
  const buf = new Uint8Array(8 * packets + BLOCK_BYTES * blocks.length);
  const view = new DataView(buf.buffer);
  let pos = 0;
  for (let p = 0; p < packets; p++) {
    const part = blocks.slice(p * MAX_RR_BLOCKS, (p + 1) * MAX_RR_BLOCKS);
    buf[pos] = 0x80 | part.length; // V=2, P=0, RC
    buf[pos + 1] = PT_RR;
    view.setUint16(pos + 2, 1 + 6 * part.length); // length in 32-bit words minus one
    view.setUint32(pos + 4, senderSsrc >>> 0);
    pos += 8;
    for (const b of part) {
      view.setUint32(pos, b.ssrc >>> 0);
      const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(b.cumulativeLost))) & 0xffffff;
      view.setUint32(pos + 4, ((Math.max(0, Math.min(255, b.fractionLost | 0)) << 24) | lost) >>> 0);
      view.setUint32(pos + 8, b.extendedHighestSeq >>> 0);
      view.setUint32(pos + 12, b.jitter >>> 0);
      view.setUint32(pos + 16, b.lsr >>> 0);
      view.setUint32(pos + 20, b.dlsr >>> 0);
      pos += BLOCK_BYTES;
    }
  }
  return buf;
}

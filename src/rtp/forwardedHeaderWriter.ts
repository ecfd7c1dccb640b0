/**
 * `writeForwardedHeader` (forwardedHeader.ts) for one stream, packet after packet: a subscriber's extension
 * block is the same from packet to packet but for three values — the elements, their ids, order, form, the
 * MID's bytes and the padding depend only on the plan, whether a transport-wide sequence number is written and
 * the audio level's length. So the block is laid out once by `writeForwardedHeader` itself (a template, with
 * where each changing value goes) and each packet copies it and writes the fixed header, abs-send-time,
 * transport-cc and audio level into it. Laid out again whenever the plan object, the transport-cc presence or
 * the level's length differs from the packet before. Byte for byte what `writeForwardedHeader` writes
 * (test/unit/rtp/forwardedHeaderWriter.test.ts); allocates only when it lays out.
 */
import { Buffer } from 'node:buffer';
import {
  FORWARDED_HEADER_MAX,
  lastValueAt,
  writeFixedHeader,
  writeForwardedHeader,
  type ForwardedFields,
} from './forwardedHeader.js';
import type { ExtensionPlan } from './headerExtensions.js';

const ABS = 1;
const TCC = 2;
const LEVEL = 3;
const FIXED = 12;

/** Where the layout is made (one per process; a layout's bytes are copied out of it). */
const scratch = Buffer.alloc(FORWARDED_HEADER_MAX);
const NONE = new Uint8Array(0);

export class ForwardedHeaderWriter {
  #plan: ExtensionPlan | undefined;
  #tcc = false;
  #levelLength = -1;
  /** The extension block (from byte 12 on: profile, length, elements, padding); empty: no extension. */
  #block: Uint8Array = NONE;
  /** Offsets from the header's start of abs-send-time, transport-cc and the level (-1: not written). */
  #absAt = -1;
  #tccAt = -1;
  #levelAt = -1;

  /**
   * Writes the header at `buf[off…]` (at least FORWARDED_HEADER_MAX bytes must be free there) and returns its
   * length, as `writeForwardedHeader(buf, off, plan, f)`.
   */
  write(buf: Buffer, off: number, plan: ExtensionPlan, f: ForwardedFields): number {
    const tcc = f.transportSeq >= 0;
    const level = f.audioLevel;
    const levelLength = level === undefined ? 0 : level.length;
    if (plan !== this.#plan || tcc !== this.#tcc || levelLength !== this.#levelLength) {
      this.#layOut(plan, f, tcc, levelLength);
    }
    const block = this.#block;
    writeFixedHeader(buf, off, f, block.length > 0);
    if (block.length === 0) {
      return FIXED;
    }
    buf.set(block, off + FIXED);
    if (this.#absAt >= 0) {
      const v = Math.floor((f.nowMs * (1 << 18)) / 1000) & 0xffffff;
      const at = off + this.#absAt;
      buf[at] = (v >> 16) & 0xff;
      buf[at + 1] = (v >> 8) & 0xff;
      buf[at + 2] = v & 0xff;
    }
    if (this.#tccAt >= 0) {
      const at = off + this.#tccAt;
      buf[at] = (f.transportSeq >> 8) & 0xff;
      buf[at + 1] = f.transportSeq & 0xff;
    }
    if (this.#levelAt >= 0 && level !== undefined) {
      if (levelLength === 1) {
        buf[off + this.#levelAt] = level[0] as number;
      } else {
        buf.set(level, off + this.#levelAt);
      }
    }
    return FIXED + block.length;
  }

  /** Lays the block out for this plan, transport-cc presence and level length (writeForwardedHeader's bytes). */
  #layOut(plan: ExtensionPlan, f: ForwardedFields, tcc: boolean, levelLength: number): void {
    const length = writeForwardedHeader(scratch, 0, plan, f);
    this.#block = length > FIXED ? new Uint8Array(scratch.subarray(FIXED, length)) : NONE;
    this.#absAt = lastValueAt[ABS] as number;
    this.#tccAt = lastValueAt[TCC] as number;
    this.#levelAt = lastValueAt[LEVEL] as number;
    this.#plan = plan;
    this.#tcc = tcc;
    this.#levelLength = levelLength;
  }
}

/**
 * Receiver-side checks of a forwarded stream, per packet: sequence numbers continue at +1, timestamps never
 * go back, VP8 picture ids continue at +1 per new frame, TL0PICIDX never jumps by more than 1; and the VP8
 * keyframe sizes seen (which layer is arriving). Written from RFC 3550 / RFC 7741, not from the SFU's code.
 */
import type { ReceivedRtp } from './peers/weriftPeer.js';

export interface KeyframeSeen {
  at: number;
  width: number;
  height: number;
}

export interface StreamReport {
  packets: number;
  seqBreaks: number;
  tsBackwards: number;
  pictureIdBreaks: number;
  tl0Breaks: number;
  ssrcs: Set<number>;
  keyframes: KeyframeSeen[];
  problems: string[];
}

interface Vp8 {
  pictureId?: number;
  bits?: number;
  tl0?: number;
  keyframe: boolean;
  width?: number;
  height?: number;
}

function vp8(p: Buffer): Vp8 | undefined {
  if (p.length < 1) {
    return undefined;
  }
  const b0 = p[0]!;
  let pos = 1;
  const out: Vp8 = { keyframe: false };
  if (b0 & 0x80) {
    const x = p[pos++];
    if (x === undefined) {
      return undefined;
    }
    if (x & 0x80) {
      const m = p[pos++]!;
      if (m & 0x80) {
        out.pictureId = ((m & 0x7f) << 8) | p[pos++]!;
        out.bits = 15;
      } else {
        out.pictureId = m;
        out.bits = 7;
      }
    }
    if (x & 0x40) {
      out.tl0 = p[pos++]!;
    }
    if (x & 0x30) {
      pos++;
    }
  }
  const start = (b0 & 0x10) !== 0 && (b0 & 0x07) === 0;
  if (start && pos < p.length && (p[pos]! & 0x01) === 0) {
    out.keyframe = true;
    if (p[pos + 3] === 0x9d && p[pos + 4] === 0x01 && p[pos + 5] === 0x2a) {
      out.width = p.readUInt16LE(pos + 6) & 0x3fff;
      out.height = p.readUInt16LE(pos + 8) & 0x3fff;
    }
  }
  return out;
}

export class StreamChecker {
  readonly report: StreamReport = {
    packets: 0,
    seqBreaks: 0,
    tsBackwards: 0,
    pictureIdBreaks: 0,
    tl0Breaks: 0,
    ssrcs: new Set(),
    keyframes: [],
    problems: [],
  };
  #lastSeq: number | undefined;
  #lastTs: number | undefined;
  #lastPid: number | undefined;
  #lastTl0: number | undefined;
  readonly #video: boolean;

  constructor(video: boolean) {
    this.#video = video;
  }

  add(r: ReceivedRtp): void {
    const rep = this.report;
    rep.packets++;
    rep.ssrcs.add(r.ssrc);
    if (this.#lastSeq !== undefined && r.seq !== ((this.#lastSeq + 1) & 0xffff)) {
      rep.seqBreaks++;
      this.#problem(`seq ${this.#lastSeq} → ${r.seq}`);
    }
    this.#lastSeq = r.seq;
    if (this.#lastTs !== undefined && ((r.ts - this.#lastTs) | 0) < 0) {
      rep.tsBackwards++;
      this.#problem(`ts ${this.#lastTs} → ${r.ts}`);
    }
    const newFrame = this.#lastTs === undefined || r.ts !== this.#lastTs;
    this.#lastTs = r.ts;
    if (!this.#video) {
      return;
    }
    const d = vp8(r.payload);
    if (d === undefined) {
      this.#problem(`bad VP8 descriptor at seq ${r.seq}`);
      return;
    }
    if (d.pictureId !== undefined) {
      const mask = d.bits === 15 ? 0x7fff : 0x7f;
      if (this.#lastPid !== undefined) {
        const expected = newFrame ? (this.#lastPid + 1) & mask : this.#lastPid;
        if (d.pictureId !== expected) {
          rep.pictureIdBreaks++;
          this.#problem(`picture id ${this.#lastPid} → ${d.pictureId} (new frame: ${newFrame})`);
        }
      }
      this.#lastPid = d.pictureId;
    }
    if (d.tl0 !== undefined) {
      if (this.#lastTl0 !== undefined) {
        const step = (d.tl0 - this.#lastTl0) & 0xff;
        if (step > 1) {
          rep.tl0Breaks++;
          this.#problem(`TL0PICIDX ${this.#lastTl0} → ${d.tl0}`);
        }
      }
      this.#lastTl0 = d.tl0;
    }
    if (d.keyframe && d.width !== undefined && d.height !== undefined) {
      rep.keyframes.push({ at: r.at, width: d.width, height: d.height });
    }
  }

  #problem(s: string): void {
    if (this.report.problems.length < 20) {
      this.report.problems.push(s);
    }
  }
}

/**
 * Which sequence numbers of one stream arrived (16-bit seq extended across wraps), so a test can count the
 * packets that never arrived — lost and not repaired — between two marks. Duplicates count once.
 */
export class SeqLedger {
  readonly #got = new Set<number>();
  #highest: number | undefined;
  duplicates = 0;

  add(seq: number): void {
    const ext = this.#extend(seq & 0xffff);
    if (this.#got.has(ext)) {
      this.duplicates++;
      return;
    }
    this.#got.add(ext);
    if (this.#highest === undefined || ext > this.#highest) {
      this.#highest = ext;
    }
  }

  /** The highest extended sequence number so far (undefined before the first packet). */
  get highest(): number | undefined {
    return this.#highest;
  }

  /** Sequence numbers in (from, to] that never arrived. */
  holes(from: number, to: number): number {
    let n = 0;
    for (let s = from + 1; s <= to; s++) {
      if (!this.#got.has(s)) {
        n++;
      }
    }
    return n;
  }

  #extend(seq: number): number {
    if (this.#highest === undefined) {
      return seq + 65536; // room below for late packets
    }
    const cycle = this.#highest - (this.#highest & 0xffff);
    let ext = cycle + seq;
    if (ext - this.#highest > 32768) {
      ext -= 65536;
    } else if (this.#highest - ext > 32768) {
      ext += 65536;
    }
    return ext;
  }
}

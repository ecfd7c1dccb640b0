/**
 * Receiver-side checks of a forwarded stream, in sequence-number order (so NACK repairs that arrive late
 * are not breaks): sequence numbers have no holes once repairs arrived, timestamps never go back from one
 * packet to the next, VP8 picture ids continue at +1 per new frame, TL0PICIDX never jumps by more than 1;
 * and the VP8 keyframe sizes seen (which layer is arriving). Holes still open within the last
 * `settleMs` are not counted (a repair may be on its way). Written from RFC 3550 / RFC 7741, not from the
 * SFU's code.
 */
import type { ReceivedRtp } from './peers/weriftPeer.js';

export interface KeyframeSeen {
  at: number;
  width: number;
  height: number;
}

export interface StreamReport {
  packets: number;
  /** Sequence numbers that never arrived (lost and not repaired), not counting the last `settleMs`. */
  seqBreaks: number;
  /** The first holes, described. */
  holes: string[];
  tsBackwards: number;
  pictureIdBreaks: number;
  tl0Breaks: number;
  ssrcs: Set<number>;
  keyframes: KeyframeSeen[];
  /** Munging errors: timestamps back, picture id / TL0PICIDX breaks, bad descriptors (not holes). */
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

/**
 * A 16-bit sequence number extended to the cycle nearest the highest extended one seen so far (late packets
 * land below it); the first one starts one cycle up, leaving room below for late packets.
 */
function extendSeq(seq: number, highest: number | undefined): number {
  if (highest === undefined) {
    return seq + 65536;
  }
  let ext = highest - (highest & 0xffff) + seq;
  if (ext - highest > 32768) {
    ext -= 65536;
  } else if (highest - ext > 32768) {
    ext += 65536;
  }
  return ext;
}

interface Seen {
  ext: number;
  ts: number;
  at: number;
  vp8: Vp8 | undefined;
}

export class StreamChecker {
  readonly #video: boolean;
  readonly #settleMs: number;
  readonly #ssrcs = new Set<number>();
  readonly #keyframes: KeyframeSeen[] = [];
  readonly #seen = new Map<number, Seen>();
  readonly #badDescriptors: string[] = [];
  #highest: number | undefined;
  #packets = 0;

  constructor(video: boolean, settleMs = 500) {
    this.#video = video;
    this.#settleMs = settleMs;
  }

  add(r: ReceivedRtp): void {
    this.#packets++;
    this.#ssrcs.add(r.ssrc);
    const ext = extendSeq(r.seq, this.#highest);
    if (this.#highest === undefined || ext > this.#highest) {
      this.#highest = ext;
    }
    let d: Vp8 | undefined;
    if (this.#video && r.payload.length > 0) {
      // (An empty payload is a padding-only packet, e.g. a bandwidth probe: it has no descriptor.)
      d = vp8(r.payload);
      if (d === undefined && this.#badDescriptors.length < 5) {
        this.#badDescriptors.push(`bad VP8 descriptor at seq ${r.seq}`);
      }
      if (d?.keyframe === true && d.width !== undefined && d.height !== undefined && !this.#seen.has(ext)) {
        this.#keyframes.push({ at: r.at, width: d.width, height: d.height });
      }
    }
    if (!this.#seen.has(ext)) {
      this.#seen.set(ext, { ext, ts: r.ts, at: r.at, vp8: d });
    }
  }

  /** Computed on each read, over everything received so far. */
  get report(): StreamReport {
    const rep: StreamReport = {
      packets: this.#packets,
      seqBreaks: 0,
      tsBackwards: 0,
      pictureIdBreaks: 0,
      tl0Breaks: 0,
      ssrcs: this.#ssrcs,
      keyframes: this.#keyframes,
      problems: [...this.#badDescriptors],
      holes: [],
    };
    const problem = (p: string) => {
      if (rep.problems.length < 20) {
        rep.problems.push(p);
      }
    };
    const all = [...this.#seen.values()].sort((a, b) => a.ext - b.ext);
    const settledBefore = Date.now() - this.#settleMs;
    let prev: Seen | undefined;
    let lastPid: number | undefined;
    let lastTl0: number | undefined;
    for (const p of all) {
      if (prev !== undefined) {
        const gap = p.ext - prev.ext - 1;
        if (gap > 0 && p.at <= settledBefore) {
          rep.seqBreaks += gap;
          if (rep.holes.length < 20) {
            rep.holes.push(`seq ${prev.ext & 0xffff} → ${p.ext & 0xffff}: ${gap} never arrived`);
          }
        }
        if (((p.ts - prev.ts) | 0) < 0) {
          rep.tsBackwards++;
          problem(`ts ${prev.ts} → ${p.ts} (seq ${prev.ext & 0xffff} → ${p.ext & 0xffff})`);
        }
        const d = p.vp8;
        if (gap === 0 && d?.pictureId !== undefined && lastPid !== undefined) {
          const mask = d.bits === 15 ? 0x7fff : 0x7f;
          const expected = p.ts !== prev.ts ? (lastPid + 1) & mask : lastPid;
          if (d.pictureId !== expected) {
            rep.pictureIdBreaks++;
            problem(`picture id ${lastPid} → ${d.pictureId} at seq ${p.ext & 0xffff}`);
          }
        }
        if (gap === 0 && d?.tl0 !== undefined && lastTl0 !== undefined && ((d.tl0 - lastTl0) & 0xff) > 1) {
          rep.tl0Breaks++;
          problem(`TL0PICIDX ${lastTl0} → ${d.tl0} at seq ${p.ext & 0xffff}`);
        }
      }
      lastPid = p.vp8?.pictureId ?? lastPid;
      lastTl0 = p.vp8?.tl0 ?? lastTl0;
      prev = p;
    }
    return rep;
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
    const ext = extendSeq(seq & 0xffff, this.#highest);
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
}

/**
 * Packets lost in the network and never repaired. Video is NACKed (repairs fill most holes), Opus is not;
 * on a loaded 2-core loopback with several browsers the kernel does drop datagrams (werift-notes pitfall 11), and a
 * repair can come too late for the test client's own NACK logic. Loss is the loss test's subject (counted
 * there against what a relay dropped); here it is only bounded: at most 2 % of the packets.
 */
export function fewHoles(
  t: { ok: (v: unknown, m: string) => void; comment: (m: string) => void },
  report: StreamReport,
  what: string,
): void {
  if (report.seqBreaks > 0) {
    t.comment(`${what}: ${report.seqBreaks} packets lost in the network: ${report.holes.join('; ')}`);
  }
  t.ok(report.seqBreaks <= report.packets / 50, `${what}: at most 2 % lost in the network`);
}

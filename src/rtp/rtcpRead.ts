/**
 * A compound RTCP packet read straight from its bytes into the feedback the SFU acts on (the same
 * {@link RtcpFeedback} union `readRtcp` makes of werift's parsed objects), without werift's parser: its
 * objects, BigInts and event dispatch per packet were most of the SFU's work on a subscriber's RTCP
 * (issue 16 step 4, bench/README.md "Idle cost"). RFC 3550 (SR 200, RR 201), RFC 4585 (RTPFB 205 generic NACK,
 * PSFB 206 PLI), RFC 5104 (FIR), draft-alvestrand-rmcat-remb (REMB: PSFB application layer feedback "REMB").
 *
 * Each packet of the compound is handed to `each` in order. A packet whose header is not RTCP version 2 or whose
 * length runs past the bytes ends the compound (`malformed`: nothing after it can be framed); a known type
 * too short for its fields is `malformed_feedback` (a report whose sender info is cut: `rr` with the blocks
 * that fit). Transport-wide CC (RTPFB 15) and other formats are `unsupported_feedback`; SDES, BYE, APP, XR
 * `unsupported_type`. Report blocks: at most MAX_REPORT_BLOCKS; FIR entries: MAX_FIR_ENTRIES; NACKed sequence
 * numbers: rtcpNack.ts's bound, in packet order, de-duplicated. Pure; never throws.
 */
import {
  MAX_FIR_ENTRIES,
  MAX_REPORT_BLOCKS,
  type ReportBlock,
  type RtcpDropReason,
  type RtcpFeedback,
} from './rtcpFeedback.js';
import { MAX_NACK_SEQS } from './rtcpNack.js';

const PT_SR = 200;
const PT_RR = 201;
const PT_RTPFB = 205;
const PT_PSFB = 206;
const FMT_NACK = 1;
const FMT_PLI = 1;
const FMT_FIR = 4;
const FMT_AFB = 15;
const BLOCK_BYTES = 24;
/** "REMB" in ASCII. */
const REMB_ID = 0x52454d42;
const NTP_UNIX_OFFSET_S = 2_208_988_800;

const drop = (reason: RtcpDropReason): RtcpFeedback => ({ kind: 'unknown', reason });

function u32(b: Uint8Array, p: number): number {
  return (
    (((b[p] as number) << 24) |
      ((b[p + 1] as number) << 16) |
      ((b[p + 2] as number) << 8) |
      (b[p + 3] as number)) >>>
    0
  );
}

function u16(b: Uint8Array, p: number): number {
  return ((b[p] as number) << 8) | (b[p + 1] as number);
}

/** Up to `count` report blocks from `p`, as many as fit before `end`. */
function blocks(b: Uint8Array, p: number, end: number, count: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  const n = Math.min(count, MAX_REPORT_BLOCKS);
  for (let i = 0; i < n && p + BLOCK_BYTES <= end; i++, p += BLOCK_BYTES) {
    out.push({
      ssrc: u32(b, p),
      fractionLost: b[p + 4] as number,
      lsr: u32(b, p + 16),
      dlsr: u32(b, p + 20),
    });
  }
  return out;
}

/** NTP seconds and fraction → Unix ms (seconds with the top bit clear are era 1, as `unixMsFromNtp`). */
function ntpMs(secs: number, frac: number): number {
  const s = (secs < 2 ** 31 ? secs + 2 ** 32 : secs) - NTP_UNIX_OFFSET_S;
  return s * 1000 + (frac * 1000) / 2 ** 32;
}

function senderReport(b: Uint8Array, p: number, end: number, count: number): RtcpFeedback {
  if (end - p < 28) {
    return { kind: 'rr', reports: [] };
  }
  return {
    kind: 'sr',
    ssrc: u32(b, p + 4),
    ntpMs: ntpMs(u32(b, p + 8), u32(b, p + 12)),
    rtpTs: u32(b, p + 16),
    lsr: u32(b, p + 10),
    reports: blocks(b, p + 28, end, count),
  };
}

function nack(b: Uint8Array, p: number, end: number): RtcpFeedback {
  if (end - p < 12) {
    return drop('malformed_feedback');
  }
  const seen = new Set<number>();
  const seqs: number[] = [];
  for (let q = p + 12; q + 4 <= end && seqs.length < MAX_NACK_SEQS; q += 4) {
    const pid = u16(b, q);
    const blp = u16(b, q + 2);
    for (let i = -1; i < 16 && seqs.length < MAX_NACK_SEQS; i++) {
      if (i >= 0 && ((blp >>> i) & 1) === 0) {
        continue;
      }
      const s = (pid + i + 1) & 0xffff;
      if (!seen.has(s)) {
        seen.add(s);
        seqs.push(s);
      }
    }
  }
  return { kind: 'nack', mediaSsrc: u32(b, p + 8), seqs };
}

function payloadFeedback(b: Uint8Array, p: number, end: number, fmt: number): RtcpFeedback {
  if (end - p < 12) {
    return drop('malformed_feedback');
  }
  switch (fmt) {
    case FMT_PLI:
      return { kind: 'pli', mediaSsrc: u32(b, p + 8) };
    case FMT_FIR: {
      const ssrcs: number[] = [];
      for (let q = p + 12; q + 8 <= end && ssrcs.length < MAX_FIR_ENTRIES; q += 8) {
        ssrcs.push(u32(b, q));
      }
      return { kind: 'fir', ssrcs };
    }
    case FMT_AFB: {
      if (end - p < 20 || u32(b, p + 12) !== REMB_ID) {
        return drop('unsupported_feedback');
      }
      const exp = (b[p + 17] as number) >> 2;
      const mantissa = (((b[p + 17] as number) & 0x03) << 16) | u16(b, p + 18);
      return { kind: 'remb', bitrateBps: mantissa * 2 ** exp };
    }
    default:
      return drop('unsupported_feedback');
  }
}

/** One packet's feedback; `end` excludes its padding. */
function one(b: Uint8Array, p: number, end: number): RtcpFeedback {
  const count = (b[p] as number) & 0x1f;
  switch (b[p + 1] as number) {
    case PT_SR:
      return senderReport(b, p, end, count);
    case PT_RR:
      return end - p < 8 ? drop('malformed_feedback') : { kind: 'rr', reports: blocks(b, p + 8, end, count) };
    case PT_RTPFB:
      return count === FMT_NACK ? nack(b, p, end) : drop('unsupported_feedback');
    case PT_PSFB:
      return payloadFeedback(b, p, end, count);
    default:
      return drop('unsupported_type');
  }
}

/**
 * Reads the compound RTCP packet `b[off, off + length)`, calling `each` with every packet's feedback; returns
 * whether a sender report was among them.
 */
export function readRtcpBytes(
  b: Uint8Array,
  off: number,
  length: number,
  each: (fb: RtcpFeedback) => void,
): boolean {
  const stop = off + length;
  let p = off;
  let sr = false;
  while (p + 4 <= stop) {
    const words = u16(b, p + 2) + 1;
    const end = p + words * 4;
    if ((b[p] as number) >> 6 !== 2 || end > stop) {
      each(drop('malformed'));
      return sr;
    }
    const padded = ((b[p] as number) & 0x20) !== 0;
    const pad = padded ? (b[end - 1] as number) : 0;
    if (pad > words * 4 - 4) {
      each(drop('malformed'));
      return sr;
    }
    sr ||= b[p + 1] === PT_SR;
    each(one(b, p, end - pad));
    p = end;
  }
  if (p !== stop) {
    each(drop('malformed'));
  }
  return sr;
}

/**
 * RTCP feedback, both ways (RFC 3550 / RFC 4585 / RFC 5104 / draft-alvestrand-rmcat-remb).
 *
 * Out: SR, PLI, FIR and REMB the SFU writes itself, as complete compound-ready packets. werift cannot send
 * FIR (FullIntraRequest is not exported) and its REMB needs the exponent/mantissa precomputed, so these are
 * built here (the SR without werift's per-packet objects).
 *
 * In: {@link readRtcp} turns one RTCP packet as werift's parser delivers it on `dtlsTransport.onRtcp` (an
 * object read as `unknown`: werift's classes are not trusted to hold what their types say) into the typed
 * {@link RtcpFeedback} union the media layer switches over exhaustively; anything it does not act on, or
 * cannot read, is `unknown` with a named reason. Pure.
 */
import { normaliseNackList } from './rtcpNack.js';

const PT_SR = 200;
const PT_RR = 201;
const PT_RTPFB = 205;
const PT_PSFB = 206;

function header(fmt: number, lengthWords: number): Uint8Array {
  // V=2, P=0, FMT; PT; length in 32-bit words minus one.
  return Uint8Array.of(0x80 | (fmt & 0x1f), PT_PSFB, (lengthWords >> 8) & 0xff, lengthWords & 0xff);
}

function writeU32(buf: Uint8Array, pos: number, v: number): void {
  buf[pos] = (v >>> 24) & 0xff;
  buf[pos + 1] = (v >>> 16) & 0xff;
  buf[pos + 2] = (v >>> 8) & 0xff;
  buf[pos + 3] = v & 0xff;
}

/** Picture Loss Indication (PSFB FMT 1): 12 bytes. */
export function pliPacket(senderSsrc: number, mediaSsrc: number): Uint8Array {
  const buf = new Uint8Array(12);
  buf.set(header(1, 2), 0);
  writeU32(buf, 4, senderSsrc);
  writeU32(buf, 8, mediaSsrc);
  return buf;
}

/** Full Intra Request (PSFB FMT 4, RFC 5104 §4.3.1) for one SSRC: 20 bytes; media SSRC of the header is 0. */
export function firPacket(senderSsrc: number, targetSsrc: number, seqNr: number): Uint8Array {
  const buf = new Uint8Array(20);
  buf.set(header(4, 4), 0);
  writeU32(buf, 4, senderSsrc);
  writeU32(buf, 8, 0);
  writeU32(buf, 12, targetSsrc);
  buf[16] = seqNr & 0xff;
  return buf;
}

/**
 * Sender Report (RFC 3550 §6.4.1) without report blocks: 28 bytes. All fields 32-bit unsigned (the caller
 * wraps them), the NTP time 64-bit.
 */
export function senderReportPacket(
  ssrc: number,
  ntp: bigint,
  rtpTs: number,
  packetCount: number,
  octetCount: number,
): Uint8Array {
  const buf = new Uint8Array(28);
  const view = new DataView(buf.buffer);
  buf[0] = 0x80; // V=2, P=0, RC=0
  buf[1] = PT_SR;
  view.setUint16(2, 6); // 7 words - 1
  view.setUint32(4, ssrc >>> 0);
  view.setBigUint64(8, BigInt.asUintN(64, ntp));
  view.setUint32(16, rtpTs >>> 0);
  view.setUint32(20, packetCount >>> 0);
  view.setUint32(24, octetCount >>> 0);
  return buf;
}

/** The 6-bit exponent / 18-bit mantissa form of a bitrate (mantissa × 2^exp ≤ bps, as close as possible). */
export function rembMantissa(bps: number): { exp: number; mantissa: number } {
  let v = Math.max(0, Math.floor(bps));
  let exp = 0;
  while (v >= 1 << 18 && exp < 63) {
    v = Math.floor(v / 2);
    exp++;
  }
  return { exp, mantissa: v };
}

/** Receiver Estimated Maximum Bitrate (PSFB FMT 15, "REMB") naming up to 255 SSRCs. */
export function rembPacket(senderSsrc: number, bps: number, ssrcs: readonly number[]): Uint8Array {
  const list = ssrcs.slice(0, 255);
  const buf = new Uint8Array(20 + 4 * list.length);
  buf.set(header(15, 4 + list.length), 0);
  writeU32(buf, 4, senderSsrc);
  writeU32(buf, 8, 0);
  buf.set([0x52, 0x45, 0x4d, 0x42], 12); // "REMB"
  const { exp, mantissa } = rembMantissa(bps);
  buf[16] = list.length;
  buf[17] = ((exp & 0x3f) << 2) | ((mantissa >> 16) & 0x03);
  buf[18] = (mantissa >> 8) & 0xff;
  buf[19] = mantissa & 0xff;
  list.forEach((s, i) => {
    writeU32(buf, 20 + 4 * i, s);
  });
  return buf;
}

/** NTP 64-bit timestamp (seconds since 1900 in 32.32 fixed point, wrapping at the 2036 era) for a Unix ms. */
export function ntpFromUnixMs(ms: number): bigint {
  const secs = (Math.floor(ms / 1000) + 2_208_988_800) % 2 ** 32;
  const frac = Math.floor(((ms % 1000) / 1000) * 2 ** 32);
  return (BigInt(secs) << 32n) | BigInt(frac >>> 0);
}

/** The inverse of {@link ntpFromUnixMs}: seconds with the top bit clear are era 1 (after 2036, RFC 4330 §3). */
export function unixMsFromNtp(ntp: bigint): number {
  const raw = Number((ntp >> 32n) & 0xffffffffn);
  const secs = (raw < 2 ** 31 ? raw + 2 ** 32 : raw) - 2_208_988_800;
  const frac = Number(ntp & 0xffffffffn);
  return secs * 1000 + (frac * 1000) / 2 ** 32;
}

/** The middle 32 bits of an NTP timestamp: what a receiver report echoes as LSR (RFC 3550 §6.4.1). */
export function lsrFromNtp(ntp: bigint): number {
  return Number((ntp >> 16n) & 0xffffffffn);
}

/** The most report blocks read from one RR/SR (the 5-bit count field allows 31). */
export const MAX_REPORT_BLOCKS = 31;
/** The most FIR entries read from one FIR packet. */
export const MAX_FIR_ENTRIES = 32;

/** One reception report block (RFC 3550 §6.4.1): about our stream `ssrc`, from its receiver. */
export interface ReportBlock {
  readonly ssrc: number;
  /** 8-bit fixed point (0–255 = 0–255/256). */
  readonly fractionLost: number;
  /** Middle 32 bits of the NTP time of our last SR it saw (0: none). */
  readonly lsr: number;
  /** Delay since that SR, in 1/65536 s. */
  readonly dlsr: number;
}

/** Why an RTCP packet was not turned into feedback the SFU acts on. */
export type RtcpDropReason =
  /** Not an object with a numeric packet type. */
  | 'malformed'
  /** A packet type the SFU does not read (SDES, BYE, APP, XR, ...). */
  | 'unsupported_type'
  /**
   * RTPFB/PSFB with a format the SFU does not read (e.g. transport-cc, SLI, RPSI); werift leaves `feedback`
   * undefined for the formats it does not parse.
   */
  | 'unsupported_feedback'
  /** A known format with fields missing or of the wrong type. */
  | 'malformed_feedback';

export type RtcpFeedback =
  /** A sender report: the sender's clock, plus its report blocks about our streams (if any). */
  | {
      readonly kind: 'sr';
      readonly ssrc: number;
      readonly ntpMs: number;
      readonly rtpTs: number;
      /** The middle 32 bits of its NTP time: what a receiver report about `ssrc` echoes as LSR. */
      readonly lsr: number;
      readonly reports: readonly ReportBlock[];
    }
  /** A receiver report (or an SR whose sender info is unreadable: its blocks still count). */
  | { readonly kind: 'rr'; readonly reports: readonly ReportBlock[] }
  | { readonly kind: 'pli'; readonly mediaSsrc: number }
  /** FIR: the SSRCs asked for a keyframe (at most {@link MAX_FIR_ENTRIES}). */
  | { readonly kind: 'fir'; readonly ssrcs: readonly number[] }
  /**
   * Generic NACK: 16-bit sequence numbers, de-duplicated, at most MAX_NACK_SEQS (rtcpNack.ts);
   * `mediaSsrc` undefined when the packet did not name one.
   */
  | { readonly kind: 'nack'; readonly mediaSsrc: number | undefined; readonly seqs: readonly number[] }
  | { readonly kind: 'remb'; readonly bitrateBps: number }
  | { readonly kind: 'unknown'; readonly reason: RtcpDropReason };

const FMT_NACK = 1;
const FMT_PLI = 1;
const FMT_FIR = 4;
const FMT_REMB = 15;

type Fields = Readonly<Record<string, unknown>>;

function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null;
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

const unknown = (reason: RtcpDropReason): RtcpFeedback => ({ kind: 'unknown', reason });

/** The readable report blocks (numeric ssrc, fractionLost, lsr, dlsr), at most {@link MAX_REPORT_BLOCKS}. */
function reportBlocks(v: unknown): ReportBlock[] {
  const out: ReportBlock[] = [];
  if (!Array.isArray(v)) {
    return out;
  }
  const list = v as readonly unknown[];
  const n = Math.min(list.length, MAX_REPORT_BLOCKS);
  for (let i = 0; i < n; i++) {
    const b = list[i];
    if (isObject(b) && isNum(b.ssrc) && isNum(b.fractionLost) && isNum(b.lsr) && isNum(b.dlsr)) {
      out.push({ ssrc: b.ssrc, fractionLost: b.fractionLost, lsr: b.lsr, dlsr: b.dlsr });
    }
  }
  return out;
}

function senderReport(p: Fields): RtcpFeedback {
  const reports = reportBlocks(p.reports);
  const info = p.senderInfo;
  if (
    !isNum(p.ssrc) ||
    !isObject(info) ||
    typeof info.ntpTimestamp !== 'bigint' ||
    !isNum(info.rtpTimestamp)
  ) {
    return { kind: 'rr', reports };
  }
  return {
    kind: 'sr',
    ssrc: p.ssrc,
    ntpMs: unixMsFromNtp(info.ntpTimestamp),
    rtpTs: info.rtpTimestamp,
    lsr: lsrFromNtp(info.ntpTimestamp),
    reports,
  };
}

function transportFeedback(fb: Fields): RtcpFeedback {
  if (fb.count !== FMT_NACK) {
    return unknown('unsupported_feedback');
  }
  if (!Array.isArray(fb.lost)) {
    return unknown('malformed_feedback');
  }
  return {
    kind: 'nack',
    mediaSsrc: isNum(fb.mediaSourceSsrc) ? fb.mediaSourceSsrc : undefined,
    seqs: normaliseNackList(fb.lost),
  };
}

function payloadFeedback(fb: Fields): RtcpFeedback {
  switch (fb.count) {
    case FMT_REMB: {
      const b = fb.bitrate;
      const bps = typeof b === 'bigint' ? Number(b) : b;
      return isNum(bps) ? { kind: 'remb', bitrateBps: bps } : unknown('malformed_feedback');
    }
    case FMT_PLI:
      return isNum(fb.mediaSsrc) ? { kind: 'pli', mediaSsrc: fb.mediaSsrc } : unknown('malformed_feedback');
    case FMT_FIR: {
      if (!Array.isArray(fb.fir)) {
        return unknown('malformed_feedback');
      }
      const ssrcs: number[] = [];
      for (const e of (fb.fir as readonly unknown[]).slice(0, MAX_FIR_ENTRIES)) {
        if (isObject(e) && isNum(e.ssrc)) {
          ssrcs.push(e.ssrc);
        }
      }
      return { kind: 'fir', ssrcs };
    }
    default:
      return unknown('unsupported_feedback');
  }
}

/**
 * One RTCP packet as werift parsed it (RtcpSrPacket, RtcpRrPacket, RtcpTransportLayerFeedback,
 * RtcpPayloadSpecificFeedback, ...) → the feedback the SFU acts on. Never throws.
 */
export function readRtcp(packet: unknown): RtcpFeedback {
  if (!isObject(packet) || !isNum(packet.type)) {
    return unknown('malformed');
  }
  switch (packet.type) {
    case PT_SR:
      return senderReport(packet);
    case PT_RR:
      return { kind: 'rr', reports: reportBlocks(packet.reports) };
    case PT_RTPFB:
      return isObject(packet.feedback) ? transportFeedback(packet.feedback) : unknown('unsupported_feedback');
    case PT_PSFB:
      return isObject(packet.feedback) ? payloadFeedback(packet.feedback) : unknown('unsupported_feedback');
    default:
      return unknown('unsupported_type');
  }
}

/**
 * RTCP feedback the SFU writes itself (RFC 4585 / RFC 5104 / draft-alvestrand-rmcat-remb): PLI, FIR and REMB,
 * as complete compound-ready packets. werift cannot send FIR (FullIntraRequest is not exported) and its REMB
 * needs the exponent/mantissa precomputed, so all three are built here. Pure.
 */

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

/**
 * RTCP feedback written by the SFU: PLI, FIR, REMB as annotated byte fixtures (RFC 4585 §6.3.1, RFC 5104
 * §4.3.1, draft-alvestrand-rmcat-remb §2.2), the REMB exponent/mantissa, and NTP ↔ Unix ms conversions.
 */
import t from 'tap';
import { RtcpSenderInfo, RtcpSrPacket } from 'werift';
import {
  firPacket,
  ntpFromUnixMs,
  pliPacket,
  rembMantissa,
  rembPacket,
  senderReportPacket,
  unixMsFromNtp,
} from '../../../src/rtp/rtcpFeedback.js';

const SENDER = 0x1122_3344;
const MEDIA = 0xaabb_ccdd;

/** The RTCP length field: 32-bit words minus one. */
function lengthField(buf: Uint8Array): number {
  return ((buf[2] ?? 0) << 8) | (buf[3] ?? 0);
}

t.test('PLI: 12 bytes', async (t) => {
  const want = Uint8Array.from([
    0x81, //                     V=2 P=0 FMT=1 (PLI)
    0xce, //                     PT=206 (PSFB)
    ...[0x00, 0x02], //          length = 3 words - 1
    ...[0x11, 0x22, 0x33, 0x44], // SSRC of packet sender
    ...[0xaa, 0xbb, 0xcc, 0xdd], // SSRC of media source
  ]);
  t.strictSame(pliPacket(SENDER, MEDIA), want);
  t.strictSame(
    pliPacket(0, 0xffff_ffff),
    Uint8Array.from([0x81, 0xce, 0x00, 0x02, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    'SSRC 0 and 2^32-1',
  );
});

t.test('FIR: 20 bytes, media SSRC 0, one FCI entry', async (t) => {
  const want = Uint8Array.from([
    0x84, //                     V=2 P=0 FMT=4 (FIR)
    0xce, //                     PT=206 (PSFB)
    ...[0x00, 0x04], //          length = 5 words - 1
    ...[0x11, 0x22, 0x33, 0x44], // SSRC of packet sender
    ...[0x00, 0x00, 0x00, 0x00], // SSRC of media source: unused, 0
    ...[0xaa, 0xbb, 0xcc, 0xdd], // FCI: SSRC of the stream to refresh
    0x07, //                     FCI: command sequence number
    ...[0x00, 0x00, 0x00], //    FCI: reserved
  ]);
  t.strictSame(firPacket(SENDER, MEDIA, 7), want);
  t.equal(firPacket(SENDER, MEDIA, 255)[16], 255, 'seq nr 255');
  t.equal(firPacket(SENDER, MEDIA, 256)[16], 0, 'seq nr wraps 255 → 0');
  t.equal(firPacket(SENDER, MEDIA, 257)[16], 1);
});

t.test('REMB of 5,000,000 bps for two SSRCs', async (t) => {
  // 5,000,000 = 156,250 × 2^5; 156,250 = 0x2625a < 2^18.
  const want = Uint8Array.from([
    0x8f, //                     V=2 P=0 FMT=15 (application layer feedback)
    0xce, //                     PT=206 (PSFB)
    ...[0x00, 0x06], //          length = 7 words - 1
    ...[0x11, 0x22, 0x33, 0x44], // SSRC of packet sender
    ...[0x00, 0x00, 0x00, 0x00], // SSRC of media source: 0
    ...[0x52, 0x45, 0x4d, 0x42], // 'R' 'E' 'M' 'B'
    0x02, //                     Num SSRC = 2
    0x16, //                     BR Exp = 000101 (5), mantissa bits 17-16 = 10
    ...[0x62, 0x5a], //          mantissa bits 15-0
    ...[0xaa, 0xbb, 0xcc, 0xdd], // SSRC feedback 1
    ...[0x01, 0x02, 0x03, 0x04], // SSRC feedback 2
  ]);
  t.strictSame(rembPacket(SENDER, 5_000_000, [MEDIA, 0x0102_0304]), want);
  t.strictSame(rembMantissa(5_000_000), { exp: 5, mantissa: 156_250 });
});

/** Decodes the bitrate fields of a REMB packet by hand. */
function decodeRemb(buf: Uint8Array): { exp: number; mantissa: number; ssrcCount: number } {
  const b17 = buf[17] ?? 0;
  return {
    exp: b17 >> 2,
    mantissa: ((b17 & 0x03) << 16) | ((buf[18] ?? 0) << 8) | (buf[19] ?? 0),
    ssrcCount: buf[16] ?? 0,
  };
}

t.test('rembMantissa rows', async (t) => {
  const rows: [bps: number, exp: number, mantissa: number, note: string][] = [
    [0, 0, 0, 'zero'],
    [1, 0, 1, 'one'],
    [262_143, 0, 262_143, '2^18 - 1: the largest exact mantissa'],
    [262_144, 1, 131_072, '2^18: first exponent'],
    [262_145, 1, 131_072, 'the odd bit is lost (rounded down)'],
    [1_000_000, 2, 250_000, '1 Mbps'],
    [5_000_000, 5, 156_250, '5 Mbps'],
    [5_000_001, 5, 156_250, 'rounded down, never up'],
    [30_000_000, 7, 234_375, '30 Mbps'],
    [1e12, 22, 238_418, '1 Tbps'],
    [1.9, 0, 1, 'fractional: floor'],
    [-5, 0, 0, 'negative: 0'],
  ];
  for (const [bps, exp, mantissa, note] of rows) {
    t.strictSame(rembMantissa(bps), { exp, mantissa }, `${bps}: ${note}`);
  }
});

t.test('rembMantissa: mantissa × 2^exp ≤ bps < (mantissa + 1) × 2^exp, smallest exponent', async (t) => {
  const values = [
    0,
    1,
    2,
    1000,
    131_071,
    131_072,
    262_143,
    262_144,
    300_000,
    999_999,
    2 ** 30,
    2 ** 40 + 12345,
  ];
  let seed = 7;
  for (let i = 0; i < 200; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values.push(seed * (i % 5) * 13);
  }
  let bad = 0;
  for (const bps of values) {
    const { exp, mantissa } = rembMantissa(bps);
    const value = mantissa * 2 ** exp;
    const ok =
      Number.isInteger(mantissa) &&
      mantissa >= 0 &&
      mantissa < 2 ** 18 &&
      exp >= 0 &&
      exp < 64 &&
      value <= bps &&
      bps - value < 2 ** exp &&
      (exp === 0 || mantissa >= 2 ** 17);
    if (!ok) {
      bad++;
      t.fail(`${bps} → ${mantissa} × 2^${exp}`);
    }
    const packet = rembPacket(1, bps, [2]);
    t.strictSame(decodeRemb(packet), { exp, mantissa, ssrcCount: 1 }, `${bps}: packet fields`);
  }
  t.equal(bad, 0, `${values.length} values`);
});

t.test('REMB length field and SSRC count', async (t) => {
  for (const n of [0, 1, 2, 10, 255, 256, 300]) {
    const ssrcs = Array.from({ length: n }, (_, i) => 0x1000_0000 + i);
    const pkt = rembPacket(SENDER, 1_000_000, ssrcs);
    const kept = Math.min(n, 255);
    t.equal(pkt.length, 20 + 4 * kept, `${n} SSRCs: ${kept} written`);
    t.equal(lengthField(pkt), pkt.length / 4 - 1, `${n} SSRCs: length field`);
    t.equal(pkt[16], kept, `${n} SSRCs: num SSRC`);
    if (kept > 0) {
      const last = 20 + 4 * (kept - 1);
      const got =
        (((pkt[last] ?? 0) << 24) |
          ((pkt[last + 1] ?? 0) << 16) |
          ((pkt[last + 2] ?? 0) << 8) |
          (pkt[last + 3] ?? 0)) >>>
        0;
      t.equal(got, 0x1000_0000 + kept - 1, `${n} SSRCs: the last one kept`);
    }
  }
});

t.test('PLI/FIR length fields match their size', async (t) => {
  const pli = pliPacket(1, 2);
  const fir = firPacket(1, 2, 3);
  t.equal(lengthField(pli), pli.length / 4 - 1);
  t.equal(lengthField(fir), fir.length / 4 - 1);
});

t.test('garbage bitrates do not throw', async (t) => {
  for (const bps of [Number.NaN, Infinity, -Infinity, Number.MAX_VALUE]) {
    t.doesNotThrow(() => rembPacket(1, bps, [2]), String(bps));
  }
});

const NTP_UNIX_OFFSET = 2_208_988_800n; // seconds from 1900 to 1970

t.test('ntpFromUnixMs known values (32.32 fixed point since 1900)', async (t) => {
  const rows: [ms: number, want: bigint, note: string][] = [
    [0, NTP_UNIX_OFFSET << 32n, 'the Unix epoch'],
    [1500, ((NTP_UNIX_OFFSET + 1n) << 32n) | 0x8000_0000n, '+1.5 s: fraction 1/2'],
    [250, (NTP_UNIX_OFFSET << 32n) | 0x4000_0000n, 'fraction 1/4'],
    [1, (NTP_UNIX_OFFSET << 32n) | 4_294_967n, '1 ms = floor(2^32 / 1000)'],
    [1_700_000_000_000, 3_908_988_800n << 32n, '2023-11-14T22:13:20Z'],
    [1_700_000_000_750, (3_908_988_800n << 32n) | 0xc000_0000n, '... + 750 ms'],
  ];
  for (const [ms, want, note] of rows) {
    t.equal(ntpFromUnixMs(ms), want, `${ms}: ${note}`);
  }
});

t.test('unixMsFromNtp known values', async (t) => {
  t.equal(unixMsFromNtp(NTP_UNIX_OFFSET << 32n), 0);
  t.equal(unixMsFromNtp((3_908_988_800n << 32n) | 0x8000_0000n), 1_700_000_000_500);
  t.equal(unixMsFromNtp(((NTP_UNIX_OFFSET + 2n) << 32n) | 0x4000_0000n), 2250);
  t.equal(
    unixMsFromNtp(0n),
    Date.UTC(2036, 1, 7, 6, 28, 16),
    'NTP second 0 is read as era 1 (2036), not 1900',
  );
});

t.test('ntp round trips within 1 ms (in fact within 1 µs)', async (t) => {
  const values = [
    0, 1, 2, 999, 1000, 1001, 1234.5678, 1_700_000_000_000, 1_700_000_000_123.456, 1_700_000_000_999.999,
    2_000_000_000_000.25,
  ];
  for (const ms of values) {
    const back = unixMsFromNtp(ntpFromUnixMs(ms));
    t.ok(Math.abs(back - ms) < 1, `${ms}: within 1 ms (${back})`);
    t.ok(Math.abs(back - ms) < 0.001, `${ms}: within 1 µs`);
    t.ok(back <= ms, `${ms}: never later (the fraction is floored)`);
  }
});

t.test('NTP fits its 64-bit field across the 2036 era rollover', async (t) => {
  // 2036-02-07T06:28:16Z: NTP seconds reach 2^32 (era 1); the on-the-wire 64-bit value wraps (RFC 5905 §6).
  const ms = Date.UTC(2036, 1, 7, 6, 28, 16);
  t.ok(ntpFromUnixMs(ms - 1000) < 2n ** 64n, 'a second before: fits');
  t.ok(ntpFromUnixMs(ms) < 2n ** 64n, 'at the rollover: fits');
  t.equal(ntpFromUnixMs(ms) >> 32n, 0n, 'era 1 starts again at second 0');
  t.ok(Math.abs(unixMsFromNtp(ntpFromUnixMs(ms + 1500)) - (ms + 1500)) < 1, 'era 1 reads back as after 2036');
});

t.test('SR: 28 bytes, the same as werift writes (the SFU used its RtcpSrPacket before)', async (t) => {
  const rows: [number, bigint, number, number, number][] = [
    [MEDIA, ntpFromUnixMs(1_764_000_000_123), 0x1234_5678, 1000, 1_150_000],
    [0, 0n, 0, 0, 0],
    [0xffff_ffff, 0xffff_ffff_ffff_ffffn, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff],
  ];
  for (const [ssrc, ntp, rtpTs, packets, octets] of rows) {
    const ours = senderReportPacket(ssrc, ntp, rtpTs, packets, octets);
    const theirs = new RtcpSrPacket({
      ssrc,
      senderInfo: new RtcpSenderInfo({
        ntpTimestamp: ntp,
        rtpTimestamp: rtpTs,
        packetCount: packets,
        octetCount: octets,
      }),
    }).serialize();
    t.equal(ours.length, 28, 'length');
    t.equal(lengthField(ours), 6, 'length field: 7 words - 1');
    t.strictSame(Buffer.from(ours), theirs, `ssrc ${ssrc}`);
  }
});

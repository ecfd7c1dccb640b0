/**
 * media/srtp: the native add-on and the TypeScript SRTP write the same bytes. Random packets of random sizes
 * (seeded), random keys, ROCs, SRTCP indexes and buffer offsets, both profiles, RTP and RTCP: the whole `out`
 * buffers are compared (so neither writes outside its result), each decrypts the other's output back to the
 * input, and encrypting or decrypting in place gives the same bytes as into another buffer. Round trips run on
 * each implementation alone as well.
 */
import t from 'tap';
import type { SrtpCipher } from '../../../../src/media/srtp/srtpCipher.js';
import {
  SRTP_AEAD_AES_128_GCM,
  SRTP_AES128_CM_HMAC_SHA1_80,
  srtpLengths,
  type SrtpProfile,
} from '../../../../src/media/srtp/srtpProfile.js';
import {
  IMPLS,
  NATIVE_IMPL,
  NATIVE_SKIP,
  prng,
  randomBytes,
  randomInt,
  randomRtcp,
  randomRtp,
  TS_IMPL,
} from './impls.js';

const PROFILES: SrtpProfile[] = [SRTP_AES128_CM_HMAC_SHA1_80, SRTP_AEAD_AES_128_GCM];
const KEYS = 6;
const PACKETS_PER_KEY = 60;

function randomRoc(rand: () => number): number {
  const r = rand();
  return r < 0.4 ? 0 : r < 0.7 ? randomInt(rand, 1, 3) : r < 0.8 ? 0xffff_ffff : Math.floor(rand() * 2 ** 32);
}

function pair(profile: SrtpProfile, rand: () => number): [SrtpCipher, SrtpCipher] {
  const key = randomBytes(rand, 16);
  const salt = randomBytes(rand, srtpLengths(profile).salt);
  return [NATIVE_IMPL.make(profile, key, salt), TS_IMPL.make(profile, key, salt)];
}

for (const profile of PROFILES) {
  t.test(`profile ${profile}: RTP, identical bytes both ways`, { skip: NATIVE_SKIP }, async (t) => {
    const rand = prng(0x7e57 + profile);
    const bad: string[] = [];
    let n = 0;
    for (let k = 0; k < KEYS; k++) {
      const [nat, ts] = pair(profile, rand);
      for (let i = 0; i < PACKETS_PER_KEY; i++, n++) {
        const { packet, headerLength } = randomRtp(rand, randomInt(rand, 0, 1400));
        const payloadLength = packet.length - headerLength;
        const roc = randomRoc(rand);
        const srcOffset = randomInt(rand, 0, 7);
        const outOffset = randomInt(rand, 0, 7);
        const src = Buffer.concat([randomBytes(rand, srcOffset), packet, randomBytes(rand, 5)]);
        const fill = randomBytes(rand, outOffset + packet.length + 16 + 9);
        const [a, b] = [Buffer.from(fill), Buffer.from(fill)];
        const la = nat.encryptRtp(src, srcOffset, headerLength, payloadLength, roc, a, outOffset);
        const lb = ts.encryptRtp(src, srcOffset, headerLength, payloadLength, roc, b, outOffset);
        if (la !== lb || la !== packet.length + nat.rtpOverhead || !a.equals(b)) {
          bad.push(`encrypt #${n}`);
          continue;
        }
        const srtp = a.subarray(outOffset, outOffset + la);
        const viaTs = Buffer.alloc(packet.length);
        const viaNative = Buffer.alloc(packet.length);
        const da = ts.decryptRtp(srtp, 0, la, headerLength, roc, viaTs, 0);
        const db = nat.decryptRtp(srtp, 0, la, headerLength, roc, viaNative, 0);
        if (
          da !== packet.length ||
          db !== packet.length ||
          !viaTs.equals(packet) ||
          !viaNative.equals(packet)
        ) {
          bad.push(`decrypt #${n}`);
        }
        const inPlace = Buffer.concat([packet, Buffer.alloc(16)]);
        nat.encryptRtp(inPlace, 0, headerLength, payloadLength, roc, inPlace, 0);
        const inPlaceTs = Buffer.concat([packet, Buffer.alloc(16)]);
        ts.encryptRtp(inPlaceTs, 0, headerLength, payloadLength, roc, inPlaceTs, 0);
        if (!inPlace.subarray(0, la).equals(srtp) || !inPlaceTs.subarray(0, la).equals(srtp)) {
          bad.push(`in-place encrypt #${n}`);
        }
        nat.decryptRtp(inPlace, 0, la, headerLength, roc, inPlace, 0);
        ts.decryptRtp(inPlaceTs, 0, la, headerLength, roc, inPlaceTs, 0);
        if (
          !inPlace.subarray(0, packet.length).equals(packet) ||
          !inPlaceTs.subarray(0, packet.length).equals(packet)
        ) {
          bad.push(`in-place decrypt #${n}`);
        }
      }
    }
    t.equal(n, KEYS * PACKETS_PER_KEY, 'every packet was tried');
    t.same(bad, [], 'no packet differs');
  });

  t.test(`profile ${profile}: RTCP, identical bytes both ways`, { skip: NATIVE_SKIP }, async (t) => {
    const rand = prng(0x7c9 + profile);
    const bad: string[] = [];
    let n = 0;
    for (let k = 0; k < KEYS; k++) {
      const [nat, ts] = pair(profile, rand);
      for (let i = 0; i < PACKETS_PER_KEY; i++, n++) {
        const rtcp = randomRtcp(rand, randomInt(rand, 8, 1200));
        const index = rand() < 0.2 ? 0x7fff_ffff : Math.floor(rand() * 2 ** 31);
        const srcOffset = randomInt(rand, 0, 7);
        const outOffset = randomInt(rand, 0, 7);
        const src = Buffer.concat([randomBytes(rand, srcOffset), rtcp]);
        const fill = randomBytes(rand, outOffset + rtcp.length + 20 + 3);
        const [a, b] = [Buffer.from(fill), Buffer.from(fill)];
        const la = nat.encryptRtcp(src, srcOffset, rtcp.length, index, a, outOffset);
        const lb = ts.encryptRtcp(src, srcOffset, rtcp.length, index, b, outOffset);
        if (la !== lb || la !== rtcp.length + nat.rtcpOverhead || !a.equals(b)) {
          bad.push(`encrypt #${n}`);
          continue;
        }
        const srtcp = Buffer.from(a.subarray(outOffset, outOffset + la));
        const [viaTs, viaNative] = [Buffer.alloc(rtcp.length), Buffer.alloc(rtcp.length)];
        const da = ts.decryptRtcp(srtcp, 0, la, viaTs, 0);
        const db = nat.decryptRtcp(srtcp, 0, la, viaNative, 0);
        if (da !== rtcp.length || db !== rtcp.length || !viaTs.equals(rtcp) || !viaNative.equals(rtcp)) {
          bad.push(`decrypt #${n}`);
        }
        const inPlace = Buffer.concat([rtcp, Buffer.alloc(20)]);
        ts.encryptRtcp(inPlace, 0, rtcp.length, index, inPlace, 0);
        const inPlaceNative = Buffer.from(srtcp);
        nat.decryptRtcp(inPlaceNative, 0, la, inPlaceNative, 0);
        if (!inPlace.subarray(0, la).equals(srtcp) || !inPlaceNative.subarray(0, rtcp.length).equals(rtcp)) {
          bad.push(`in place #${n}`);
        }
      }
    }
    t.equal(n, KEYS * PACKETS_PER_KEY, 'every packet was tried');
    t.same(bad, [], 'no packet differs');
  });
}

for (const impl of IMPLS) {
  for (const profile of PROFILES) {
    t.test(`${impl.name}, profile ${profile}: round trips`, { skip: impl.skip }, async (t) => {
      const rand = prng(0x1234 + profile);
      const c = impl.make(profile, randomBytes(rand, 16), randomBytes(rand, srtpLengths(profile).salt));
      const failed: number[] = [];
      for (let i = 0; i < 100; i++) {
        const { packet, headerLength } = randomRtp(rand, randomInt(rand, 0, 1400));
        const roc = randomRoc(rand);
        const enc = Buffer.alloc(packet.length + c.rtpOverhead);
        c.encryptRtp(packet, 0, headerLength, packet.length - headerLength, roc, enc, 0);
        const dec = Buffer.alloc(packet.length);
        const rtcp = randomRtcp(rand, randomInt(rand, 8, 500));
        const encRtcp = Buffer.alloc(rtcp.length + c.rtcpOverhead);
        c.encryptRtcp(rtcp, 0, rtcp.length, i, encRtcp, 0);
        const decRtcp = Buffer.alloc(rtcp.length);
        const payloadChanged =
          packet.length - headerLength < 8 ||
          !enc.subarray(headerLength, packet.length).equals(packet.subarray(headerLength));
        if (
          c.decryptRtp(enc, 0, enc.length, headerLength, roc, dec, 0) !== packet.length ||
          !dec.equals(packet) ||
          !enc.subarray(0, headerLength).equals(packet.subarray(0, headerLength)) ||
          !payloadChanged ||
          c.decryptRtcp(encRtcp, 0, encRtcp.length, decRtcp, 0) !== rtcp.length ||
          !decRtcp.equals(rtcp)
        ) {
          failed.push(i);
        }
      }
      t.same(failed, [], 'each packet comes back; the header stays clear and the payload does not');
    });
  }
}

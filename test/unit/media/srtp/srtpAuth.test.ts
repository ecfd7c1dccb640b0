/**
 * media/srtp: what decryption refuses, and misuse, on each implementation. A flipped bit anywhere in an SRTP or
 * SRTCP packet (header, payload, tag, E|index word) makes decryption return -1; so do the wrong ROC, another
 * key, and packets too short to carry a tag. Bad arguments throw the same TypeError or RangeError (name, code
 * and message) from both implementations, and leave `out` untouched.
 */
import t from 'tap';
import type { SrtpCipher } from '../../../../src/media/srtp/srtpCipher.js';
import {
  SRTP_AEAD_AES_128_GCM,
  SRTP_AES128_CM_HMAC_SHA1_80,
  srtpLengths,
  type SrtpProfile,
} from '../../../../src/media/srtp/srtpProfile.js';
import { IMPLS, NATIVE_IMPL, NATIVE_SKIP, prng, randomRtcp, randomRtp, TS_IMPL, type Impl } from './impls.js';

const PROFILES: SrtpProfile[] = [SRTP_AES128_CM_HMAC_SHA1_80, SRTP_AEAD_AES_128_GCM];
const KEY = Buffer.alloc(16, 0x42);
const salt = (p: SrtpProfile) => Buffer.alloc(srtpLengths(p).salt, 0x17);

/** Positions of `packet` whose flipped bit decryption did not reject. */
function accepted(packet: Buffer, rand: () => number, decrypt: (p: Buffer) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < packet.length; i++) {
    const forged = Buffer.from(packet);
    forged[i] = forged[i]! ^ (1 << Math.floor(rand() * 8));
    if (decrypt(forged) !== -1) {
      out.push(i);
    }
  }
  return out;
}

for (const impl of IMPLS) {
  for (const profile of PROFILES) {
    t.test(`${impl.name}, profile ${profile}: forged SRTP is rejected`, { skip: impl.skip }, async (t) => {
      const rand = prng(0xf0 + profile);
      const c = impl.make(profile, KEY, salt(profile));
      const { packet, headerLength } = randomRtp(rand, 97);
      const enc = Buffer.alloc(packet.length + c.rtpOverhead);
      c.encryptRtp(packet, 0, headerLength, packet.length - headerLength, 3, enc, 0);
      const out = Buffer.alloc(enc.length);
      t.equal(
        c.decryptRtp(enc, 0, enc.length, headerLength, 3, out, 0),
        packet.length,
        'the packet itself decrypts',
      );
      t.same(
        accepted(enc, rand, (p) => c.decryptRtp(p, 0, p.length, headerLength, 3, out, 0)),
        [],
        'a flipped bit in header, payload or tag: -1',
      );
      t.equal(c.decryptRtp(enc, 0, enc.length, headerLength, 4, out, 0), -1, 'the wrong ROC: -1');
      const other = impl.make(profile, Buffer.alloc(16, 0x43), salt(profile));
      t.equal(other.decryptRtp(enc, 0, enc.length, headerLength, 3, out, 0), -1, 'another key: -1');
      t.equal(c.decryptRtp(enc, 0, enc.length - 1, headerLength, 3, out, 0), -1, 'a byte short: -1');
      t.equal(
        c.decryptRtp(enc, 0, headerLength + c.rtpOverhead - 1, headerLength, 3, out, 0),
        -1,
        'no room for a tag: -1',
      );
      t.equal(c.decryptRtp(enc, 0, 0, 12, 3, out, 0), -1, 'empty: -1');
    });

    t.test(`${impl.name}, profile ${profile}: forged SRTCP is rejected`, { skip: impl.skip }, async (t) => {
      const rand = prng(0xf1 + profile);
      const c = impl.make(profile, KEY, salt(profile));
      const rtcp = randomRtcp(rand, 52);
      const enc = Buffer.alloc(rtcp.length + c.rtcpOverhead);
      c.encryptRtcp(rtcp, 0, rtcp.length, 77, enc, 0);
      const out = Buffer.alloc(enc.length);
      t.equal(c.decryptRtcp(enc, 0, enc.length, out, 0), rtcp.length, 'the packet itself decrypts');
      t.same(
        accepted(enc, rand, (p) => c.decryptRtcp(p, 0, p.length, out, 0)),
        [],
        'a flipped bit anywhere, the E flag and index included: -1',
      );
      const other = impl.make(profile, Buffer.alloc(16, 0x43), salt(profile));
      t.equal(other.decryptRtcp(enc, 0, enc.length, out, 0), -1, 'another key: -1');
      t.equal(c.decryptRtcp(enc, 0, 8 + c.rtcpOverhead - 1, out, 0), -1, 'too short: -1');
    });
  }
}

interface Misuse {
  readonly what: string;
  readonly error: 'TypeError' | 'RangeError';
  call(c: SrtpCipher, src: Buffer, out: Buffer): number;
}

const bogus = 'x' as unknown as number;
const notBytes = [1, 2, 3] as unknown as Buffer;
const MISUSES: Misuse[] = [
  {
    what: 'src not a Uint8Array',
    error: 'TypeError',
    call: (c, _s, o) => c.encryptRtp(notBytes, 0, 12, 0, 0, o, 0),
  },
  { what: 'out not a Uint8Array', error: 'TypeError', call: (c, s) => c.decryptRtcp(s, 0, 40, notBytes, 0) },
  {
    what: 'roc not a number',
    error: 'TypeError',
    call: (c, s, o) => c.encryptRtp(s, 0, 12, 10, bogus, o, 0),
  },
  { what: 'negative offset', error: 'RangeError', call: (c, s, o) => c.encryptRtp(s, -1, 12, 10, 0, o, 0) },
  {
    what: 'fractional length',
    error: 'RangeError',
    call: (c, s, o) => c.decryptRtp(s, 0, 40.5, 12, 0, o, 0),
  },
  { what: 'NaN offset', error: 'RangeError', call: (c, s, o) => c.encryptRtcp(s, 0, 40, 1, o, NaN) },
  { what: 'header under 12', error: 'RangeError', call: (c, s, o) => c.encryptRtp(s, 0, 11, 10, 0, o, 0) },
  { what: 'ROC of 2^32', error: 'RangeError', call: (c, s, o) => c.encryptRtp(s, 0, 12, 10, 2 ** 32, o, 0) },
  {
    what: 'SRTCP index of 2^31',
    error: 'RangeError',
    call: (c, s, o) => c.encryptRtcp(s, 0, 40, 2 ** 31, o, 0),
  },
  { what: 'RTCP under 8 bytes', error: 'RangeError', call: (c, s, o) => c.encryptRtcp(s, 0, 7, 1, o, 0) },
  { what: 'src too short', error: 'RangeError', call: (c, s, o) => c.encryptRtp(s, 10, 12, 55, 0, o, 0) },
  { what: 'src too short (decrypt)', error: 'RangeError', call: (c, s, o) => c.decryptRtcp(s, 1, 64, o, 0) },
  { what: 'out too short', error: 'RangeError', call: (c, s, o) => c.encryptRtp(s, 0, 12, 40, 0, o, 20) },
  { what: 'out too short (RTCP)', error: 'RangeError', call: (c, s, o) => c.encryptRtcp(s, 0, 60, 1, o, 10) },
  {
    what: 'out overlaps src shifted',
    error: 'RangeError',
    call: (c, s) => c.encryptRtp(s, 0, 12, 20, 0, s, 4),
  },
  {
    what: 'out overlaps src through another view',
    error: 'RangeError',
    call: (c, s) => c.decryptRtcp(s, 0, 40, s.subarray(2), 0),
  },
];

function thrown(f: () => unknown): { name: string; code: unknown; message: string } | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    const err = e as Error & { code?: unknown };
    return { name: err.name, code: err.code, message: err.message };
  }
}

function misuseResults(impl: Impl, profile: SrtpProfile) {
  const c = impl.make(profile, KEY, salt(profile));
  return MISUSES.map((m) => {
    const src = Buffer.alloc(64, 1);
    const out = Buffer.alloc(64, 2);
    const err = thrown(() => m.call(c, src, out));
    return {
      what: m.what,
      err,
      outUntouched: out.equals(Buffer.alloc(64, 2)) && src.equals(Buffer.alloc(64, 1)),
    };
  });
}

for (const profile of PROFILES) {
  t.test(`ts, profile ${profile}: misuse throws and writes nothing`, async (t) => {
    const results = misuseResults(TS_IMPL, profile);
    t.same(
      results.map((r) => [r.what, r.err?.name, r.outUntouched]),
      MISUSES.map((m) => [m.what, m.error, true]),
    );
  });

  t.test(`native, profile ${profile}: the same errors as ts`, { skip: NATIVE_SKIP }, async (t) => {
    t.same(
      misuseResults(NATIVE_IMPL, profile),
      misuseResults(TS_IMPL, profile),
      'name, code, message, nothing written',
    );
  });
}

t.test(
  'native: a context the add-on did not make is a TypeError, not a crash',
  { skip: NATIVE_SKIP },
  async (t) => {
    const c = NATIVE_IMPL.make(SRTP_AEAD_AES_128_GCM, KEY, salt(SRTP_AEAD_AES_128_GCM)) as unknown as {
      b: { encryptRtp: (...a: unknown[]) => number; createContext: (...a: unknown[]) => unknown };
    };
    const src = Buffer.alloc(64);
    const out = Buffer.alloc(128);
    for (const ctx of [{}, null, 1, Buffer.alloc(8)]) {
      t.throws(
        () => c.b.encryptRtp(ctx, src, 0, 12, 10, 0, out, 0),
        { name: 'TypeError' },
        `ctx ${JSON.stringify(ctx)}`,
      );
    }
    t.throws(
      () => c.b.createContext(2, KEY, salt(SRTP_AEAD_AES_128_GCM)),
      { name: 'RangeError' },
      'unknown profile',
    );
    t.throws(
      () => c.b.createContext(7, KEY, Buffer.alloc(14)),
      { name: 'RangeError' },
      'GCM takes a 12-byte salt',
    );
    t.throws(
      () => c.b.createContext(1, KEY, Buffer.alloc(14)),
      { name: 'RangeError' },
      'CM needs an auth key',
    );
  },
);

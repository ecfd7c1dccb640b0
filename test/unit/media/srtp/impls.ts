/**
 * Shared by the SRTP tests: both implementations, so every vector and equivalence test runs on each (the
 * native one skipped, with the reason, when the add-on is not built), a seeded PRNG and hex helpers.
 */
import { createSrtpCipher, createSrtpCipherFromKeys } from '../../../../src/media/srtp/createSrtpCipher.js';
import { nativeSrtp } from '../../../../src/media/srtp/nativeSrtp.js';
import type { SrtpCipher } from '../../../../src/media/srtp/srtpCipher.js';
import type { SrtpKeySet } from '../../../../src/media/srtp/srtpKeys.js';
import type { SrtpProfile } from '../../../../src/media/srtp/srtpProfile.js';

export interface Impl {
  readonly name: 'native' | 'ts';
  /** tap's skip option: a reason when this implementation cannot run here. */
  readonly skip: string | false;
  make(profile: SrtpProfile, masterKey: Uint8Array, masterSalt: Uint8Array): SrtpCipher;
  fromKeys(profile: SrtpProfile, keys: SrtpKeySet): SrtpCipher;
}

const load = nativeSrtp();
export const NATIVE_SKIP: string | false =
  load.binding === undefined
    ? `the native SRTP add-on is not available: ${load.reason} (npm run install)`
    : false;

export const TS_IMPL: Impl = {
  name: 'ts',
  skip: false,
  make: (p, k, s) => createSrtpCipher(p, k, s, { native: false }),
  fromKeys: (p, keys) => createSrtpCipherFromKeys(p, keys, { native: false }),
};

export const NATIVE_IMPL: Impl = {
  name: 'native',
  skip: NATIVE_SKIP,
  make: (p, k, s) => createSrtpCipher(p, k, s, { native: true }),
  fromKeys: (p, keys) => createSrtpCipherFromKeys(p, keys, { native: true }),
};

export const IMPLS: readonly Impl[] = [NATIVE_IMPL, TS_IMPL];

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1) (the fuzz suites' generator). */
export { rng as prng } from '../../../helpers/fuzz.js';

export function randomInt(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

export function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    b[i] = Math.floor(rand() * 256);
  }
  return b;
}

/**
 * A random RTP packet: V=2, random CSRC count and an optional one-byte-header extension block (so headers are
 * 12–84 bytes), random SSRC and sequence number, then `payloadLength` random bytes. Returns it and its header length.
 */
export function randomRtp(
  rand: () => number,
  payloadLength: number,
): { packet: Buffer; headerLength: number } {
  const cc = randomInt(rand, 0, 3);
  const extWords = rand() < 0.5 ? randomInt(rand, 0, 8) : -1;
  const headerLength = 12 + 4 * cc + (extWords >= 0 ? 4 + 4 * extWords : 0);
  const packet = randomBytes(rand, headerLength + payloadLength);
  packet[0] = 0x80 | (extWords >= 0 ? 0x10 : 0) | cc;
  if (extWords >= 0) {
    const at = 12 + 4 * cc;
    packet.writeUInt16BE(0xbede, at);
    packet.writeUInt16BE(extWords, at + 2);
  }
  return { packet, headerLength };
}

/** A random (compound-looking) RTCP packet of `length` ≥ 8 bytes: V=2, a PT in 200–206, random SSRC and body. */
export function randomRtcp(rand: () => number, length: number): Buffer {
  const p = randomBytes(rand, length);
  p[0] = 0x80 | (p[0]! & 0x1f);
  p[1] = randomInt(rand, 200, 206);
  p.writeUInt16BE(Math.max(0, Math.ceil(length / 4) - 1) & 0xffff, 2);
  return p;
}

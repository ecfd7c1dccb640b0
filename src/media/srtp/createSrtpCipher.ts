/**
 * Picks the SRTP implementation: the native add-on when it loaded (nativeSrtp.ts), else the pure-TypeScript
 * one (tsSrtp.ts), which produces the same bytes. SFU_NATIVE=0 in the environment turns the add-on off.
 */
import { NativeSrtpCipher, nativeSrtp } from './nativeSrtp.js';
import type { SrtpCipher } from './srtpCipher.js';
import { checkSessionKeys, deriveSrtpKeys, type SrtpKeySet } from './srtpKeys.js';
import { srtpProfile, type SrtpProfile } from './srtpProfile.js';
import { TsSrtpCipher } from './tsSrtp.js';

export type SrtpImplementation =
  | { readonly native: true; readonly reason?: undefined }
  | { readonly native: false; readonly reason: string };

/** Which implementation createSrtpCipher picks by default, and why not the native one (for logs and metrics). */
export function srtpImplementation(env: NodeJS.ProcessEnv = process.env): SrtpImplementation {
  if (env.SFU_NATIVE === '0') {
    return { native: false, reason: 'SFU_NATIVE=0' };
  }
  const load = nativeSrtp();
  return load.binding !== undefined ? { native: true } : { native: false, reason: load.reason };
}

export class NativeSrtpUnavailableError extends Error {
  override name = 'NativeSrtpUnavailableError';
}

export interface SrtpCipherOptions {
  /**
   * true: the add-on, whatever SFU_NATIVE says (a NativeSrtpUnavailableError when it is not loadable);
   * false: the TypeScript SRTP. Default: srtpImplementation(env).
   */
  readonly native?: boolean;
  /** The environment SFU_NATIVE is read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A cipher for session keys already derived (srtpKeys.ts), e.g. RFC 7714's, which are given as session keys;
 * a SrtpKeyError when their lengths do not fit `profile`.
 */
export function createSrtpCipherFromKeys(
  profile: SrtpProfile,
  keys: SrtpKeySet,
  opts: SrtpCipherOptions = {},
): SrtpCipher {
  checkSessionKeys(profile, keys);
  const native = opts.native ?? srtpImplementation(opts.env).native;
  if (!native) {
    return new TsSrtpCipher(profile, keys);
  }
  const load = nativeSrtp();
  if (load.binding === undefined) {
    throw new NativeSrtpUnavailableError(`the native SRTP add-on is not available: ${load.reason}`);
  }
  return new NativeSrtpCipher(load.binding, profile, keys);
}

/**
 * A cipher for one DTLS-SRTP master key and salt (one direction of an association) of `profile` (0x0001
 * AES_CM_128_HMAC_SHA1_80 or 0x0007 AEAD_AES_128_GCM): SrtpProfileError or SrtpKeyError when they are not.
 */
export function createSrtpCipher(
  profile: number,
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  opts: SrtpCipherOptions = {},
): SrtpCipher {
  const p = srtpProfile(profile);
  return createSrtpCipherFromKeys(p, deriveSrtpKeys(p, masterKey, masterSalt), opts);
}

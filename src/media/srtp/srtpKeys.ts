/**
 * SRTP session keys from the DTLS-exported master key and salt: the AES-CM key derivation of RFC 3711 §4.3
 * with a key derivation rate of zero (what DTLS-SRTP uses), labels 0–5. A 12-byte (GCM) master salt is
 * zero-padded on the right to the PRF's 14 bytes, as libsrtp and werift do.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv } from 'node:crypto';
import { srtpLengths, type SrtpProfile } from './srtpProfile.js';

/** The key derivation labels of RFC 3711 §4.3.1 (RTP) and §4.3.2 (RTCP). */
export const SRTP_LABEL = {
  rtpKey: 0,
  rtpAuthKey: 1,
  rtpSalt: 2,
  rtcpKey: 3,
  rtcpAuthKey: 4,
  rtcpSalt: 5,
} as const;

const PRF_SALT = 14;
const AES_KEY = 16;

export class SrtpKeyError extends Error {
  override name = 'SrtpKeyError';
}

/**
 * The AES-CM PRF: `length` bytes of AES-128-CTR keystream under the master key, from the counter block
 * ((label << 48) XOR master salt) << 16, i.e. the label XORed into byte 7 of the salt and two zero bytes after it.
 */
export function srtpPrf(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  label: number,
  length: number,
): Buffer {
  if (masterKey.length !== AES_KEY) {
    throw new SrtpKeyError(`the master key must be ${AES_KEY} bytes, not ${masterKey.length}`);
  }
  if (masterSalt.length > PRF_SALT) {
    throw new SrtpKeyError(`the master salt must be at most ${PRF_SALT} bytes, not ${masterSalt.length}`);
  }
  if (!Number.isInteger(label) || label < 0 || label > 255) {
    throw new SrtpKeyError(`the label must be a byte, not ${label}`);
  }
  const counter = Buffer.alloc(16);
  counter.set(masterSalt);
  counter.writeUInt8(counter.readUInt8(7) ^ label, 7);
  const c = createCipheriv('aes-128-ctr', masterKey, counter);
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
}

/** The keys one direction of one stream kind (SRTP or SRTCP) is protected with. */
export interface SrtpSessionKeys {
  /** AES-128 session key. */
  readonly key: Buffer;
  /** Session salt: 14 bytes (AES-CM) or 12 (GCM). */
  readonly salt: Buffer;
  /** HMAC-SHA1 key: 20 bytes (AES-CM); empty for GCM. */
  readonly authKey: Buffer;
}

export interface SrtpKeySet {
  readonly rtp: SrtpSessionKeys;
  readonly rtcp: SrtpSessionKeys;
}

/** A SrtpKeyError unless every session key has the length `profile` takes. */
export function checkSessionKeys(profile: SrtpProfile, keys: SrtpKeySet): void {
  const len = srtpLengths(profile);
  for (const [kind, k] of [
    ['SRTP', keys.rtp],
    ['SRTCP', keys.rtcp],
  ] as const) {
    if (k.key.length !== len.key || k.salt.length !== len.salt || k.authKey.length !== len.authKey) {
      throw new SrtpKeyError(
        `profile 0x${profile.toString(16).padStart(4, '0')} takes ${kind} session keys of ${len.key}, ${len.salt} ` +
          `and ${len.authKey} bytes (key, salt, auth key), not ${k.key.length}, ${k.salt.length} and ${k.authKey.length}`,
      );
    }
  }
}

/** The SRTP and SRTCP session keys for `profile` from a master key and salt of that profile's lengths. */
export function deriveSrtpKeys(
  profile: SrtpProfile,
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
): SrtpKeySet {
  const len = srtpLengths(profile);
  if (masterKey.length !== len.key || masterSalt.length !== len.salt) {
    throw new SrtpKeyError(
      `profile 0x${profile.toString(16).padStart(4, '0')} takes a ${len.key}-byte master key and a ` +
        `${len.salt}-byte master salt, not ${masterKey.length} and ${masterSalt.length}`,
    );
  }
  const derive = (key: number, auth: number, salt: number): SrtpSessionKeys => ({
    key: srtpPrf(masterKey, masterSalt, key, len.key),
    salt: srtpPrf(masterKey, masterSalt, salt, len.salt),
    authKey: srtpPrf(masterKey, masterSalt, auth, len.authKey),
  });
  return {
    rtp: derive(SRTP_LABEL.rtpKey, SRTP_LABEL.rtpAuthKey, SRTP_LABEL.rtpSalt),
    rtcp: derive(SRTP_LABEL.rtcpKey, SRTP_LABEL.rtcpAuthKey, SRTP_LABEL.rtcpSalt),
  };
}

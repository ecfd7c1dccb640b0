/**
 * The two DTLS-SRTP protection profiles werift negotiates (its `srtp/const.js` ids), and the lengths each
 * implies: master key and salt (RFC 5764 §4.1.2, RFC 7714 §12), session salt, authentication key and tag.
 */

/** AES_CM_128_HMAC_SHA1_80 (RFC 3711): AES-128 counter mode, HMAC-SHA1 tag cut to 80 bits. */
export const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;
/** AEAD_AES_128_GCM (RFC 7714): AES-128-GCM with a 16-byte tag. */
export const SRTP_AEAD_AES_128_GCM = 0x0007;

export type SrtpProfile = typeof SRTP_AES128_CM_HMAC_SHA1_80 | typeof SRTP_AEAD_AES_128_GCM;

export class SrtpProfileError extends Error {
  override name = 'SrtpProfileError';
}

export function isSrtpProfile(p: number): p is SrtpProfile {
  return p === SRTP_AES128_CM_HMAC_SHA1_80 || p === SRTP_AEAD_AES_128_GCM;
}

/** `p` as a profile, or a SrtpProfileError naming it. */
export function srtpProfile(p: number): SrtpProfile {
  if (!isSrtpProfile(p)) {
    throw new SrtpProfileError(`unsupported SRTP protection profile 0x${p.toString(16).padStart(4, '0')}`);
  }
  return p;
}

export interface SrtpProfileLengths {
  /** Master and session key (AES-128). */
  readonly key: number;
  /** Master and session salt: 14 bytes for AES-CM, 12 for GCM. */
  readonly salt: number;
  /** Session authentication key: 20 bytes (HMAC-SHA1) for AES-CM, none for GCM. */
  readonly authKey: number;
  /** Authentication tag after the payload. */
  readonly tag: number;
}

const CM: SrtpProfileLengths = { key: 16, salt: 14, authKey: 20, tag: 10 };
const GCM: SrtpProfileLengths = { key: 16, salt: 12, authKey: 0, tag: 16 };

export function srtpLengths(profile: SrtpProfile): SrtpProfileLengths {
  return profile === SRTP_AEAD_AES_128_GCM ? GCM : CM;
}

/** Length of the RTP header at least: what the SSRC and sequence number are read from. */
export const RTP_MIN_HEADER = 12;
/** The RTCP bytes SRTCP leaves in the clear: the first header and the sender SSRC. */
export const RTCP_CLEAR_HEADER = 8;
/** The E flag and 31-bit SRTCP index word. */
export const SRTCP_INDEX_LENGTH = 4;
export const SRTCP_MAX_INDEX = 0x7fff_ffff;

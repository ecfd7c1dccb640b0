/** Random identifiers from the Web Crypto API (`globalThis.crypto`), present in browsers and in Node ≥ 19. */

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** `n` random bytes as lowercase hex (`2n` characters). */
export function randomHex(n: number): string {
  let out = '';
  for (const b of randomBytes(n)) {
    out += b.toString(16).padStart(2, '0');
  }
  return out;
}

/** `length` random characters of the URL-safe base64 alphabet (6 random bits each). */
export function randomToken(length: number): string {
  let out = '';
  for (const b of randomBytes(length)) {
    out += BASE64URL.charAt(b & 63);
  }
  return out;
}

/** matrix-js-sdk style call id: the time in ms followed by 8 random letters. */
export function newCallId(now: number = Date.now()): string {
  return `${now}${randomToken(8)}`;
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

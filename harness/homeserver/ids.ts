/** Identifier generation and grammar (spec appendices: user, room and event identifiers). */
import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomString(length: number, alphabet = ALNUM): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) {
    out += alphabet.charAt(b % alphabet.length);
  }
  return out;
}

export const newRoomId = (serverName: string): string => `!${randomString(18)}:${serverName}`;
/** Room versions 4+ use url-safe base64 event ids without a server part. */
export const newEventId = (): string => `$${randomBytes(32).toString('base64url')}`;
export const newDeviceId = (): string => randomString(10, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
export const newAccessToken = (): string => `syt_${randomString(32)}`;

/** Localparts a homeserver accepts at registration (appendices: user identifiers). */
const LOCALPART = /^[a-z0-9._=\-/+]+$/;
/** Historical user ids may use any printable ASCII except ':' in the localpart. */
const USER_ID = /^@([\x21-\x39\x3B-\x7E]+):([A-Za-z0-9.\-:[\]]+)$/;

export function isValidLocalpart(localpart: string): boolean {
  return LOCALPART.test(localpart);
}

export function parseUserId(userId: string): { localpart: string; serverName: string } | undefined {
  if (userId.length > 255) {
    return undefined;
  }
  const m = USER_ID.exec(userId);
  if (m === null) {
    return undefined;
  }
  return { localpart: m[1]!, serverName: m[2]! };
}

/** The spec's path-parameter pattern is just `^!` (room version 12 ids carry no server name). */
export const isRoomId = (s: string): boolean => s.length > 1 && s.startsWith('!');
export const isRoomAlias = (s: string): boolean => /^#[^:]+:.+$/.test(s);

/**
 * A focus's identity on links (protocol.md §8.1): `(user_id, device_id)`, compared in the byte order of the UTF-8
 * of `user_id|device_id`. The focus that sorts lower invites first and wins crossing invites. Pure.
 */

export interface FocusId {
  readonly userId: string;
  readonly deviceId: string;
}

/** `user_id|device_id`: the string §8.1 orders foci by, and a map key. */
export function focusKey(f: FocusId): string {
  return `${f.userId}|${f.deviceId}`;
}

const encoder = new TextEncoder();

/**
 * Byte order of the UTF-8 of `user_id|device_id`: negative when `a` sorts first, 0 for the same focus. Not
 * JavaScript's string order, which compares UTF-16 code units and puts U+10000 before U+FFFF.
 */
export function compareFoci(a: FocusId, b: FocusId): number {
  const x = encoder.encode(focusKey(a));
  const y = encoder.encode(focusKey(b));
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) {
      return d;
    }
  }
  return x.length - y.length;
}

export function sameFocus(a: FocusId, b: FocusId): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}

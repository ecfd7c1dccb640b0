/**
 * abs-send-time (24-bit 6.18 fixed-point seconds, wrapping every 64 s) written in place, big-endian, from a
 * millisecond clock. Taken modulo 64 s first (64 000 ms is exactly 2^24 units), so large epoch times lose no
 * precision. Pure.
 */
export function absSendTimeInto(buf: Uint8Array, at: number, nowMs: number): void {
  absSendTimeValueInto(buf, at, absSendTimeValue(nowMs));
}

/** The 24-bit abs-send-time of a millisecond clock reading. */
export function absSendTimeValue(nowMs: number): number {
  const ms = ((nowMs % 64_000) + 64_000) % 64_000;
  return Math.floor((ms * (1 << 18)) / 1000) & 0xffffff;
}

/** Writes a 24-bit abs-send-time value in place, big-endian. */
export function absSendTimeValueInto(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >> 16) & 0xff;
  buf[at + 1] = (v >> 8) & 0xff;
  buf[at + 2] = v & 0xff;
}

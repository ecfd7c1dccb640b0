/**
 * The argument checks of the TypeScript SRTP, the same checks in the same order and with the same errors as
 * the add-on's (native/addon.c), so misuse fails alike whichever implementation runs.
 */

/** Longest packet either implementation takes (OpenSSL counts in int). */
export const MAX_PACKET = 0x4000_0000;
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
export const MAX_ROC = 0xffff_ffff;

function typeError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

export function rangeError(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

/** `v` when it is a Uint8Array (a Buffer is one); else a TypeError. */
export function bytesArg(v: unknown, name: string): Uint8Array {
  if (!(v instanceof Uint8Array)) {
    throw typeError(`${name} must be a Uint8Array`);
  }
  return v;
}

/** `v` when it is an integer in [min, max]; a TypeError when not a number, else a RangeError. */
export function uintArg(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number') {
    throw typeError(`${name} must be a number`);
  }
  if (!(v >= min && v <= max) || !Number.isInteger(v)) {
    throw rangeError(`${name} is out of range`);
  }
  return v;
}

/**
 * A RangeError unless out[outOffset, +outLength) fits `out` and is either src[srcOffset, ...) itself or does not
 * overlap its `inLength` bytes.
 */
export function checkOut(
  src: Uint8Array,
  srcOffset: number,
  inLength: number,
  out: Uint8Array,
  outOffset: number,
  outLength: number,
): void {
  if (outOffset + outLength > out.length) {
    throw rangeError('out is too short for the result at outOffset');
  }
  if (src.buffer === out.buffer) {
    const a = src.byteOffset + srcOffset;
    const b = out.byteOffset + outOffset;
    if (a !== b && a < b + outLength && b < a + inLength) {
      throw rangeError('out overlaps src at a different offset (in place means the same offset)');
    }
  }
}

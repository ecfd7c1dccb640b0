/**
 * H.264 RTP payloads (RFC 6184): keyframe detection for layer switching. A packet starts a keyframe when
 * it carries (or starts) an IDR slice (NAL type 5) or a sequence parameter set (7), as a single NAL unit,
 * inside a STAP-A aggregate (24), or as the first fragment of an FU-A (28). Pure, never throws.
 */

const NAL_IDR = 5;
const NAL_SPS = 7;
const STAP_A = 24;
const FU_A = 28;

function isKeyNal(type: number): boolean {
  return type === NAL_IDR || type === NAL_SPS;
}

/** Whether `payload[offset, end)` (default: all of it) starts a keyframe. */
export function isH264Keyframe(payload: Uint8Array, offset = 0, end: number = payload.length): boolean {
  if (offset < 0 || end > payload.length || end - offset < 1) {
    return false;
  }
  const type = (payload[offset] as number) & 0x1f;
  if (type >= 1 && type <= 23) {
    return isKeyNal(type);
  }
  if (type === STAP_A) {
    // STAP-A: 1-byte header, then (16-bit size, NAL unit) pairs.
    let pos = offset + 1;
    while (pos + 2 < end) {
      const size = ((payload[pos] as number) << 8) | (payload[pos + 1] as number);
      if (size === 0 || pos + 2 + size > end) {
        return false;
      }
      if (isKeyNal((payload[pos + 2] as number) & 0x1f)) {
        return true;
      }
      pos += 2 + size;
    }
    return false;
  }
  if (type === FU_A) {
    if (end - offset < 2) {
      return false;
    }
    const fu = payload[offset + 1] as number;
    return (fu & 0x80) !== 0 && isKeyNal(fu & 0x1f);
  }
  return false;
}

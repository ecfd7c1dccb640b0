/**
 * RFC 6464 client-to-mixer audio level: one byte, V (voice activity) + level in −dBov (0 = loudest,
 * 127 = silence). Loudness maps it to 0–1 for speaker detection: 0 at or below the noise floor (−70 dBov
 * by default), 1 at 0 dBov. Pure.
 */

export const DEFAULT_NOISE_FLOOR_DBOV = 70;

/** The loudness (0–1) of one level (dBov, 0–127; higher = quieter); garbage counts as silence. */
export function loudness(levelDbov: number, floorDbov = DEFAULT_NOISE_FLOOR_DBOV): number {
  if (!Number.isFinite(levelDbov) || !(floorDbov > 0)) {
    return 0;
  }
  const l = Math.max(0, Math.min(127, levelDbov));
  return Math.max(0, Math.min(1, (floorDbov - l) / floorDbov));
}

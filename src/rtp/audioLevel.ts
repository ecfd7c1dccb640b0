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

/** Sums the loudness of levels as they come, for whoever takes it (a published track's speaker detection). */
export class LoudnessMeter {
  #sum = 0;
  #count = 0;

  /** One packet's level element byte (the V bit ignored). */
  add(levelByte: number): void {
    this.#sum += loudness(levelByte & 0x7f);
    this.#count++;
  }

  /** The sum and count since the last call (count 0 when no level came), then resets. */
  take(): { sum: number; count: number } {
    const r = { sum: this.#sum, count: this.#count };
    this.#sum = 0;
    this.#count = 0;
    return r;
  }
}

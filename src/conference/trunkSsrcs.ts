/**
 * Trunk SSRCs of one link direction (protocol.md §8.2): random, unique, and stable for the relay's life per
 * `(stream_id, track_id, rid)` — the same track or layer gets the same SSRC after a relink, and an SSRC once
 * handed out never names another track or layer (the receiver keys loss repair and continuity by SSRC).
 */
import { randomInt } from 'node:crypto';

/** A random SSRC in 1 … 2^32 − 1. */
export function randomSsrc(): number {
  return randomInt(1, 0x1_0000_0000);
}

export class TrunkSsrcs {
  readonly #random: () => number;
  readonly #byKey = new Map<string, number>();
  readonly #used = new Set<number>();

  constructor(random: () => number = randomSsrc) {
    this.#random = random;
  }

  /** The SSRC of an audio track (`rid` undefined) or of one layer of a video track. */
  get(streamId: string, trackId: string, rid?: string): number {
    const key = JSON.stringify([streamId, trackId, rid ?? null]);
    const known = this.#byKey.get(key);
    if (known !== undefined) {
      return known;
    }
    let ssrc = this.#random() >>> 0;
    // Bounded: a fresh draw collides with probability |used| / 2^32.
    for (let i = 0; i < 64 && (ssrc === 0 || this.#used.has(ssrc)); i++) {
      ssrc = this.#random() >>> 0;
    }
    if (ssrc === 0 || this.#used.has(ssrc)) {
      // A broken random source: the smallest free SSRC keeps uniqueness (at most |used| + 1 steps).
      ssrc = 1;
      while (this.#used.has(ssrc)) {
        ssrc++;
      }
    }
    this.#used.add(ssrc);
    this.#byKey.set(key, ssrc);
    return ssrc;
  }

  get size(): number {
    return this.#byKey.size;
  }
}

/**
 * The samples the page keeps: per poll, a time and one value per series (a track's, a subscription's or a
 * link's bit rate), for the last `windowMs` only. `aligned()` turns them into uPlot's column form — times in
 * seconds, then one column per series with null where the series had no sample. No DOM: unit-tested in Node.
 */

export interface SeriesInfo {
  readonly key: string;
  readonly label: string;
}

interface Sample {
  readonly t: number;
  readonly values: ReadonlyMap<string, number>;
}

export class History {
  readonly #windowMs: number;
  readonly #maxSamples: number;
  #samples: Sample[] = [];
  /** Labels of every series still in the window, by key, in first-seen order. */
  readonly #labels = new Map<string, string>();

  constructor(windowMs: number, maxSamples = 1000) {
    this.#windowMs = windowMs;
    this.#maxSamples = maxSamples;
  }

  get size(): number {
    return this.#samples.length;
  }

  /** Adds one poll's values at `t` (ms) and drops what left the window. */
  add(t: number, values: ReadonlyMap<string, { label: string; value: number }>): void {
    const row = new Map<string, number>();
    for (const [key, v] of values) {
      row.set(key, v.value);
      this.#labels.set(key, v.label);
    }
    this.#samples.push({ t, values: row });
    const from = t - this.#windowMs;
    let drop = 0;
    while (drop < this.#samples.length - 1 && (this.#samples[drop]?.t ?? t) < from) {
      drop++;
    }
    drop = Math.max(drop, this.#samples.length - this.#maxSamples);
    if (drop > 0) {
      this.#samples = this.#samples.slice(drop);
    }
    const live = new Set<string>();
    for (const s of this.#samples) {
      for (const key of s.values.keys()) {
        live.add(key);
      }
    }
    for (const key of [...this.#labels.keys()]) {
      if (!live.has(key)) {
        this.#labels.delete(key);
      }
    }
  }

  /** The series in the window, in first-seen order. */
  series(): SeriesInfo[] {
    return [...this.#labels].map(([key, label]) => ({ key, label }));
  }

  /** [times in s, ...one column per `series()` entry] with null where a series has no sample. */
  aligned(): [number[], ...(number | null)[][]] {
    const keys = [...this.#labels.keys()];
    const xs = this.#samples.map((s) => s.t / 1000);
    const cols = keys.map((k) => this.#samples.map((s) => s.values.get(k) ?? null));
    return [xs, ...cols];
  }
}

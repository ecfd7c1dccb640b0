/** Small statistics helpers for bench results. */

export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) {
    return undefined;
  }
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

/** min / median / max over repeats (NaN-free input). */
export function spread(values: readonly number[]): Spread | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { min: r(s[0]!), median: r(median), max: r(s[s.length - 1]!) };
}

export function round(v: number | undefined, digits = 1): number | undefined {
  if (v === undefined || !Number.isFinite(v)) {
    return undefined;
  }
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export type QuantileKey = 'p50' | 'p95' | 'p99' | 'max';

/** The named quantiles of an ascending list (absent when it is empty), rounded to `digits` when given. */
export function quantiles<K extends QuantileKey>(
  sorted: readonly number[],
  keys: readonly K[],
  digits?: number,
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const k of keys) {
    const v = k === 'max' ? sorted.at(-1) : percentile(sorted, Number(k.slice(1)));
    const r = digits === undefined ? v : round(v, digits);
    if (r !== undefined) {
      out[k] = r;
    }
  }
  return out;
}

/**
 * GC pauses of the focus over a window, from two readings of its `nodejs_gc_duration_seconds` histogram (every
 * kind summed): how many, their total, and how many took longer than 5 ms (issue 16's goal: none at 20
 * subscribers). The 5-ms bucket exists because the SFU sets the histogram's buckets (GC_BUCKETS_S).
 */
export interface GcPauses {
  count: number;
  totalMs: number;
  over5ms: number;
}

const PREFIX = 'nodejs_gc_duration_seconds';

function sum(c: Record<string, number>, match: (key: string) => boolean): number {
  let n = 0;
  for (const [k, v] of Object.entries(c)) {
    if (match(k)) {
      n += v;
    }
  }
  return n;
}

export function gcPauses(
  before: Record<string, number>,
  after: Record<string, number>,
): GcPauses | undefined {
  const isCount = (k: string) => k.startsWith(`${PREFIX}_count`);
  if (!Object.keys(after).some(isCount)) {
    return undefined;
  }
  const isSum = (k: string) => k.startsWith(`${PREFIX}_sum`);
  const isLe5 = (k: string) => k.startsWith(`${PREFIX}_bucket`) && /[{,]le=0\.005[,}]/.test(k);
  const d = (m: (k: string) => boolean) => sum(after, m) - sum(before, m);
  const count = d(isCount);
  return {
    count,
    totalMs: Math.round(d(isSum) * 1000 * 10) / 10,
    over5ms: count - d(isLe5),
  };
}

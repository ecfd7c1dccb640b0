/**
 * `node --import @tapjs/typescript/import bench/profile.ts <file.cpuprofile> [top]`: the functions with the
 * most self time in a V8 CPU profile (as written by `BENCH_PROFILE_DIR=… npm run bench -- fanout …`), with
 * their share of all samples, grouped by function and location. Prints a Markdown table.
 * `--between=<fromUs>-<toUs>`: only the samples taken in that span of the monotonic clock (µs, the base of
 * `process.hrtime` and of a profile's `startTime`: e.g. the span `fanout` logs for its idle window).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime?: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** The profile with only the samples taken in [fromUs, toUs] of the monotonic clock. */
export function between(p: Profile, fromUs: number, toUs: number): Profile {
  const samples: number[] = [];
  const deltas: number[] = [];
  let t = p.startTime ?? 0;
  const all = p.samples ?? [];
  for (let i = 0; i < all.length; i++) {
    t += p.timeDeltas?.[i] ?? 0;
    if (t >= fromUs && t <= toUs) {
      samples.push(all[i] as number);
      deltas.push(0);
    }
  }
  return { ...p, samples, timeDeltas: deltas };
}

const IDLE = new Set(['(idle)', '(program)']);

/** Where busy self time goes, by area: our code, werift, Node crypto, dgram, GC, other. */
export function byArea(rows: { name: string; where: string; n: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    if (IDLE.has(r.name)) {
      continue;
    }
    const area =
      r.name === '(garbage collector)'
        ? 'gc'
        : r.where.startsWith('src/')
          ? 'sfu (src/)'
          : r.where.startsWith('werift/')
            ? 'werift'
            : r.where.includes('crypto')
              ? 'node crypto'
              : r.where.startsWith('node:dgram') || r.name === 'writev' || r.name === 'send'
                ? 'node dgram'
                : r.where.startsWith('node:buffer') || r.where.startsWith('node:internal/buffer')
                  ? 'node buffer'
                  : r.where.includes('typescript') ||
                      r.where.includes('modules') ||
                      r.where.includes('ts-node')
                    ? 'startup (loader)'
                    : 'other';
    out[area] = (out[area] ?? 0) + r.n;
    total += r.n;
  }
  for (const k of Object.keys(out)) {
    out[k] = Math.round(((out[k] ?? 0) / Math.max(1, total)) * 1000) / 10;
  }
  return out;
}

export function topSelfTime(p: Profile, top: number): { name: string; where: string; pct: number }[] {
  const rows = selfTimes(p).filter((r) => !IDLE.has(r.name));
  const total = rows.reduce((n, r) => n + r.n, 0);
  return rows
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, pct: Math.round((e.n / Math.max(1, total)) * 1000) / 10 }));
}

/** Self-time samples per function and location, most first. */
export function selfTimes(p: Profile): { name: string; where: string; n: number }[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { name: string; where: string; n: number }>();
  const add = (node: ProfileNode | undefined, count: number) => {
    if (node === undefined || count === 0) {
      return;
    }
    const f = node.callFrame;
    const where = `${f.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(src|test|bench)\//, '$1/')}:${f.lineNumber + 1}`;
    const name = f.functionName === '' ? '(anonymous)' : f.functionName;
    const key = `${name} ${where}`;
    const e = self.get(key) ?? { name, where, n: 0 };
    e.n += count;
    self.set(key, e);
  };
  if (p.samples !== undefined && p.samples.length > 0) {
    const counts = new Map<number, number>();
    for (const id of p.samples) {
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, c] of counts) {
      add(byId.get(id), c);
    }
  } else {
    for (const n of p.nodes) {
      add(n, n.hitCount ?? 0);
    }
  }
  return [...self.values()].sort((a, b) => b.n - a.n);
}

const file = process.argv[2];
if (file !== undefined && process.argv[1]?.endsWith('profile.ts') === true) {
  const args = process.argv.slice(3);
  const span = args.find((a) => a.startsWith('--between='));
  const top = Number(args.find((a) => !a.startsWith('--')) ?? 25);
  const whole = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const m = span === undefined ? null : /^--between=(\d+)-(\d+)$/.exec(span);
  if (span !== undefined && m === null) {
    throw new Error(`--between wants <fromUs>-<toUs>, got ${span}`);
  }
  const profile = m === null ? whole : between(whole, Number(m[1]), Number(m[2]));
  if (m !== null) {
    process.stdout.write(`${profile.samples?.length ?? 0} samples in the span\n`);
  }
  const rows = topSelfTime(profile, top);
  process.stdout.write(`busy self time by area (%): ${JSON.stringify(byArea(selfTimes(profile)))}\n\n`);
  process.stdout.write('| self % of busy | function | where |\n| --- | --- | --- |\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.pct} | ${r.name} | ${r.where} |\n`);
  }
}

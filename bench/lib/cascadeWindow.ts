/**
 * One measurement window of a multi-focus bench (`cascade`, `cascade-cpu`): every focus process's CPU from
 * /proc, the cascade host's counters before and after, and each load process's `windowEnd`.
 */
import type { CascadeFocus } from './processes.js';
import type { Child } from './rpc.js';
import { cpuMs, cpuSplitMs, threadCpuMs } from './procStat.js';
import type { WindowEnd } from './worker.js';

/** A window's counters are read this long after its end, so late packets are still counted by the loads. */
const GRACE_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sum of a counter's series (any labels) whose labels include every `label`. */
export function counter(
  c: Record<string, number> | undefined,
  name: string,
  ...labels: string[]
): number | undefined {
  if (c === undefined) {
    return undefined;
  }
  let sum: number | undefined;
  for (const [k, v] of Object.entries(c)) {
    if ((k === name || k.startsWith(`${name}{`)) && labels.every((l) => k.includes(l))) {
      sum = (sum ?? 0) + v;
    }
  }
  return sum;
}

export interface Win {
  wallMs: number;
  /** The window on the machine's monotonic clock (ms; a focus CPU profile's sample times can be cut by it). */
  fromMs: number;
  toMs: number;
  cpuMs: Record<string, number>;
  /** The kernel-mode part of `cpuMs` (system calls, and on loopback the receiving side's delivery). */
  systemMs: Record<string, number>;
  /** Scheduler run time of each focus's main thread and of its other threads (ns-precise, `threadCpuMs`). */
  mainMs: Record<string, number>;
  helpersMs: Record<string, number>;
  before: Record<string, Record<string, number>>;
  after: Record<string, Record<string, number>>;
  ends: WindowEnd[];
}

export async function measure(
  host: Child,
  foci: CascadeFocus[],
  loads: Child[],
  seconds: number,
): Promise<Win> {
  const before = await host.call<Record<string, Record<string, number>>>('counters');
  await Promise.all(loads.map((w) => w.call('windowStart')));
  const cpu0 = foci.map((f) => cpuMs(f.pid) ?? 0);
  const sys0 = foci.map((f) => cpuSplitMs(f.pid)?.system ?? 0);
  const th0 = foci.map((f) => threadCpuMs(f.pid) ?? { main: 0, helpers: 0 });
  const t0 = performance.now();
  const fromMs = Number(process.hrtime.bigint()) / 1e6;
  await sleep(seconds * 1000);
  const cpu1 = foci.map((f) => cpuMs(f.pid) ?? 0);
  const sys1 = foci.map((f) => cpuSplitMs(f.pid)?.system ?? 0);
  const th1 = foci.map((f) => threadCpuMs(f.pid) ?? { main: 0, helpers: 0 });
  const wallMs = performance.now() - t0;
  const toMs = Number(process.hrtime.bigint()) / 1e6;
  const after = await host.call<Record<string, Record<string, number>>>('counters');
  await sleep(GRACE_MS);
  const ends = await Promise.all(loads.map((w) => w.call<WindowEnd>('windowEnd', { fromMs, toMs })));
  return {
    wallMs,
    fromMs,
    toMs,
    cpuMs: Object.fromEntries(foci.map((f, i) => [f.serverName, cpu1[i]! - cpu0[i]!])),
    systemMs: Object.fromEntries(foci.map((f, i) => [f.serverName, sys1[i]! - sys0[i]!])),
    mainMs: Object.fromEntries(foci.map((f, i) => [f.serverName, th1[i]!.main - th0[i]!.main])),
    helpersMs: Object.fromEntries(foci.map((f, i) => [f.serverName, th1[i]!.helpers - th0[i]!.helpers])),
    before,
    after,
    ends,
  };
}

export const delta = (w: Win, server: string, name: string, ...labels: string[]): number | undefined => {
  const a = counter(w.after[server], name, ...labels);
  const b = counter(w.before[server], name, ...labels);
  return a === undefined ? undefined : a - (b ?? 0);
};

/** A counter's change over a window, summed over every label set (e.g. every `reason`). */
export const deltaAll = (w: Win, server: string, name: string): number => {
  let sum = 0;
  for (const [key, after] of Object.entries(w.after[server] ?? {})) {
    if (key === name || key.startsWith(`${name}{`)) {
      sum += after - (w.before[server]?.[key] ?? 0);
    }
  }
  return sum;
};

/** A counter's change over a window per label set (`{path="direct"}` → n), zero changes left out. */
export const deltaByLabels = (w: Win, server: string, name: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [key, after] of Object.entries(w.after[server] ?? {})) {
    if (key.startsWith(`${name}{`)) {
      const d = after - (w.before[server]?.[key] ?? 0);
      if (d !== 0) {
        out[key.slice(name.length)] = d;
      }
    }
  }
  return out;
};

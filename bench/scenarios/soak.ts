/**
 * `soak --minutes M [--participants N]` (issue 17): the `meeting` load (N participants, each publishing the
 * synthetic 3-layer simulcast + Opus and watching every other at 640×360) held for M minutes against one focus in
 * its own process (the cascade host with one server name, so the focus's heap and RSS are its own). Default N = 6:
 * about 70 % of the meeting's measured capacity (8 on this machine, bench/README.md). Back-to-back windows of
 * WINDOW_S each give the focus's CPU, RSS, heap, handles, event-loop lag and GC, and the clients' latency
 * percentiles and loss. Met when, between the first and the last third of the windows (at least MIN_COMPARED
 * each; medians), heap and RSS grew by at most 5 %, handles by at most 4, and p99 latency by at most 20 % + 1 ms.
 * (Three windows each proved too few: p99 moves 3–16 ms between windows of a steady run.)
 */
import { BenchProcesses } from '../lib/processes.js';
import { joinMeeting, meetingWindowStats } from '../lib/meetingLoad.js';
import { round } from '../lib/stats.js';
import { measureWindow } from '../lib/window.js';
import type { Env } from '../lib/worker.js';

const WINDOW_S = 30;
const WARMUP_S = 10;
const MIN_COMPARED = 3;
export const SOAK_TARGETS = { growth: 0.05, handlesGrowth: 4, p99Growth: 0.2, p99SlackMs: 1 } as const;

export interface SoakWindow {
  /** Seconds since the load started, at the window's end. */
  atS: number;
  sfuCpuPct: number;
  rssMiB: number;
  heapMiB: number;
  handles: number;
  lagMaxMs: number;
  latencyMs: { p50?: number; p99?: number; max?: number };
  loss: number;
  gcPauses: number;
}

export interface SoakResult {
  participants: number;
  minutes: number;
  windowSeconds: number;
  windows: SoakWindow[];
  growth: { heap: number | undefined; rss: number | undefined; handles: number; p99: number | undefined };
  met: { heap: boolean; rss: boolean; handles: boolean; latency: boolean };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number | undefined) => round((bytes ?? 0) / 2 ** 20, 1) ?? 0;

function median(xs: readonly number[]): number | undefined {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : s[Math.floor((s.length - 1) / 2)];
}

/** GC pauses counted in a window: the `_count` of the focus's GC histogram, over every kind. */
function gcCount(counters: Record<string, number>): number {
  return Object.entries(counters)
    .filter(([k]) => k.startsWith('nodejs_gc_duration_seconds_count'))
    .reduce((n, [, v]) => n + v, 0);
}

export async function soak(
  participants: number,
  minutes: number,
  log: (s: string) => void,
): Promise<SoakResult> {
  const procs = new BenchProcesses();
  try {
    const { host, roomId, foci } = await procs.cascadeHost(['a.example']);
    const f = foci[0]!;
    const env: Env = { hsUrl: f.hsUrl, roomId, focus: f.focus };
    const { workers } = await joinMeeting(procs, host, env, f.serverName, participants, 'soak');
    log(
      `soak: ${participants} participants on ${f.serverName} (pid ${f.pid}); ${minutes} min of ${WINDOW_S}-s windows`,
    );
    await sleep(WARMUP_S * 1000);
    const t0 = performance.now();
    const windows: SoakWindow[] = [];
    const count = Math.max(1, Math.round((minutes * 60) / WINDOW_S));
    for (let i = 0; i < count; i++) {
      const w = await measureWindow({ pid: f.pid, loads: workers, host, seconds: WINDOW_S });
      const m = await host.call<Record<string, number>>('process', { serverName: f.serverName });
      const stats = meetingWindowStats(w, participants);
      const row: SoakWindow = {
        atS: round((performance.now() - t0) / 1000, 0) ?? 0,
        sfuCpuPct: round((w.serverCpuMs / w.wallMs) * 100) ?? 0,
        rssMiB: mib(w.serverRssBytes),
        heapMiB: mib(m['nodejs_heap_size_used_bytes']),
        handles: m['nodejs_active_handles_total'] ?? 0,
        lagMaxMs: round(w.hostEnd?.lagMaxMs) ?? 0,
        latencyMs: stats.latencyMs,
        loss: stats.loss,
        gcPauses: gcCount(w.hostEnd?.counters ?? {}) - gcCount(w.hostStart),
      };
      windows.push(row);
      log(`soak window ${i + 1}/${count}: ${JSON.stringify(row)}`);
    }
    const compared = Math.max(MIN_COMPARED, Math.floor(windows.length / 3));
    const first = windows.slice(0, compared);
    const last = windows.slice(-compared);
    const grew = (f: (w: SoakWindow) => number | undefined) => {
      const a = median(first.map(f).filter((v): v is number => v !== undefined));
      const b = median(last.map(f).filter((v): v is number => v !== undefined));
      return a === undefined || b === undefined || a <= 0 ? undefined : round(b / a - 1, 3);
    };
    const heap = grew((w) => w.heapMiB);
    const rss = grew((w) => w.rssMiB);
    const p99First = median(first.map((w) => w.latencyMs.p99 ?? Infinity)) ?? Infinity;
    const p99Last = median(last.map((w) => w.latencyMs.p99 ?? Infinity)) ?? Infinity;
    const handles = (median(last.map((w) => w.handles)) ?? 0) - (median(first.map((w) => w.handles)) ?? 0);
    const within = (g: number | undefined) => g !== undefined && g <= SOAK_TARGETS.growth;
    return {
      participants,
      minutes,
      windowSeconds: WINDOW_S,
      windows,
      growth: { heap, rss, handles, p99: grew((w) => w.latencyMs.p99) },
      met: {
        heap: within(heap),
        rss: within(rss),
        handles: handles <= SOAK_TARGETS.handlesGrowth,
        latency: p99Last <= p99First * (1 + SOAK_TARGETS.p99Growth) + SOAK_TARGETS.p99SlackMs,
      },
    };
  } finally {
    await procs.stopAll();
  }
}

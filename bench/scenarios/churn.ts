/**
 * `churn --cycles N` (issue 17): N join/leave cycles (churnLoad.ts: invite → answer → connected → data channel
 * open, then a hangup or a vanish) on LANES devices at once, against one focus in its own process (the cascade
 * host with one server name: the homeserver and the clients are elsewhere, so the focus's heap and RSS are its
 * own). After WARMUP cycles and IDLE_MS of quiet the focus's heap, RSS, handles and sessions are read as the
 * start, its heap after a full GC (the focus runs with `--heapsnapshot-signal`: a heap snapshot, taken on
 * SIGUSR2, collects first; the snapshot files go to a temporary directory, kept with BENCH_KEEP_SNAPSHOTS=1 for
 * attribution, else deleted); then every STEP cycles (no pause, no GC: the plot's line), and after the last
 * cycle and another IDLE_MS, with a full GC again, as the end. Met when the end's heap and RSS are within 5 % of the start's,
 * no session or media-range UDP port of the focus remains, and its handles did not grow by more than 4.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { udpPortsInRange } from '../../harness/net.js';
import { BenchProcesses } from '../lib/processes.js';
import { quantiles, round } from '../lib/stats.js';
import type { ChurnProgress } from '../lib/churnLoad.js';
import type { Env, UserCreds } from '../lib/worker.js';

export const LANES = 4;
const WARMUP = 100;
const STEP = 100;
const IDLE_MS = 15_000;
/** The cascade host's first focus's media ports (bench/lib/cascadeHost.ts, BENCH_PORT_MIN). */
const PORT_MIN = Number(process.env['BENCH_PORT_MIN'] ?? 40000);
export const CHURN_TARGETS = { growth: 0.05, handlesGrowth: 4 } as const;

export interface ChurnSample {
  cycles: number;
  /** Seconds since the first cycle. */
  atS: number;
  heapMiB: number;
  rssMiB: number;
  handles: number;
  sessions: number;
  udpPorts: number;
}

export interface ChurnResult {
  cycles: number;
  lanes: number;
  seconds: number;
  start: ChurnSample;
  end: ChurnSample;
  samples: ChurnSample[];
  /** end ÷ start − 1. */
  heapGrowth: number | undefined;
  rssGrowth: number | undefined;
  cycleMs: { p50?: number; p95?: number; max?: number };
  failed: number;
  errors: string[];
  met: { heap: boolean; rss: boolean; nothingLeft: boolean; handles: boolean };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number | undefined) => round((bytes ?? 0) / 2 ** 20, 1) ?? 0;

export async function churn(cycles: number, log: (s: string) => void): Promise<ChurnResult> {
  const procs = new BenchProcesses();
  const snapshots = mkdtempSync(join(tmpdir(), 'churn-heap-'));
  try {
    // Each device re-invites several times a second here, far above a real client's pace (and the default
    // invite budget, whose refusals would be most of the run): the budget is raised, as in churn.test.ts.
    const { host, roomId, foci } = await procs.cascadeHost(['a.example'], {
      invitesPerSecond: 100,
      focusFlags: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`],
    });
    const f = foci[0]!;
    const env: Env = { hsUrl: f.hsUrl, roomId, focus: f.focus };
    const users: UserCreds[] = [];
    for (let l = 0; l < LANES; l++) {
      users.push(await host.call<UserCreds>('user', { localpart: `churn${l}`, serverName: f.serverName }));
    }
    const [w] = await procs.workers(['churn-0']);
    let t0 = 0;
    /** A full GC in the focus: a heap snapshot on SIGUSR2 (done once the snapshot file stops growing). */
    const fullGc = async (): Promise<void> => {
      const before = new Set(readdirSync(snapshots));
      process.kill(f.pid, 'SIGUSR2');
      const until = performance.now() + 120_000;
      let file: string | undefined;
      let size = -1;
      while (performance.now() < until) {
        await sleep(500);
        file ??= readdirSync(snapshots).find((n) => !before.has(n));
        if (file === undefined) {
          continue;
        }
        const now = statSync(join(snapshots, file)).size;
        if (now === size && now > 0) {
          return;
        }
        size = now;
      }
      log(`churn: no heap snapshot from pid ${f.pid} within 120 s (heap read without a full GC)`);
    };
    const sample = async (done: number, gc = false): Promise<ChurnSample> => {
      if (gc) {
        await fullGc();
      }
      const m = await host.call<Record<string, number>>('process', { serverName: f.serverName });
      return {
        cycles: done,
        atS: t0 === 0 ? 0 : (round((performance.now() - t0) / 1000, 1) ?? 0),
        heapMiB: mib(m['nodejs_heap_size_used_bytes']),
        rssMiB: mib(m['process_resident_memory_bytes']),
        handles: m['nodejs_active_handles_total'] ?? 0,
        sessions: m['sfu_sessions'] ?? 0,
        udpPorts: (await udpPortsInRange(PORT_MIN, PORT_MIN + 999, f.pid)).length,
      };
    };
    const all: ChurnProgress = { done: 0, cycleMs: [], failed: 0, errors: [] };
    const run = async (n: number) => {
      const p = await w!.call<ChurnProgress>(
        'churn',
        { env, users, cycles: n, offset: all.done },
        120_000 + n * 2000,
      );
      all.done += p.done;
      all.cycleMs.push(...p.cycleMs);
      all.failed += p.failed;
      all.errors.push(...p.errors.slice(0, Math.max(0, 20 - all.errors.length)));
    };
    const warmup = Math.min(WARMUP, Math.max(LANES, Math.floor(cycles / 10)));
    log(
      `churn: ${cycles} cycles on ${LANES} devices against ${f.serverName} (pid ${f.pid}); warm-up ${warmup}`,
    );
    t0 = performance.now();
    await run(warmup);
    await sleep(IDLE_MS);
    const start = await sample(all.done, true);
    log(`churn: start after ${all.done} cycles and ${IDLE_MS / 1000} s idle: ${JSON.stringify(start)}`);
    const samples = [start];
    while (all.done < cycles) {
      await run(Math.min(STEP, cycles - all.done));
      const s = await sample(all.done);
      samples.push(s);
      log(`churn: ${JSON.stringify(s)}${all.failed > 0 ? ` (${all.failed} failed)` : ''}`);
    }
    const seconds = round((performance.now() - t0) / 1000, 1) ?? 0;
    await sleep(IDLE_MS);
    const end = await sample(all.done, true);
    samples.push(end);
    log(`churn: end after ${IDLE_MS / 1000} s idle: ${JSON.stringify(end)}`);
    const growth = (a: number, b: number) => (a > 0 ? round(b / a - 1, 3) : undefined);
    const heapGrowth = growth(start.heapMiB, end.heapMiB);
    const rssGrowth = growth(start.rssMiB, end.rssMiB);
    const within = (g: number | undefined) => g !== undefined && g <= CHURN_TARGETS.growth;
    return {
      cycles: all.done,
      lanes: LANES,
      seconds,
      start,
      end,
      samples,
      heapGrowth,
      rssGrowth,
      cycleMs: quantiles(
        all.cycleMs.sort((a, b) => a - b),
        ['p50', 'p95', 'max'],
        0,
      ),
      failed: all.failed,
      errors: all.errors,
      met: {
        heap: within(heapGrowth),
        rss: within(rssGrowth),
        nothingLeft: end.sessions === 0 && end.udpPorts === 0,
        handles: end.handles - start.handles <= CHURN_TARGETS.handlesGrowth,
      },
    };
  } finally {
    await procs.stopAll();
    if (process.env['BENCH_KEEP_SNAPSHOTS'] === '1') {
      log(`churn: heap snapshots kept in ${snapshots}`);
    } else {
      rmSync(snapshots, { recursive: true, force: true });
    }
  }
}

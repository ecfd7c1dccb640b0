/**
 * `meeting`: N participants, each publishing synthetic 3-layer VP8 simulcast (q 320×180 at 25 pkt/s, h
 * 640×360 at 60 pkt/s, f 1280×720 at 270 pkt/s) + Opus (50 pkt/s), each subscribing to every other one at
 * 640×360 + audio: N × (N − 1) forwarded video streams on the h layer, against a focus in its own process (the
 * test homeserver apart, idle while media flows). N steps up until a point fails — p99 latency > 20 ms, loss >
 * 0.1 %, or SFU CPU > 95 % of one core — and the largest passing N is reported. A point where the load was
 * saturated measures the load, not the SFU: the step ends there too and the result says so.
 *
 * `pin` (issue 16's one-core meeting): the focus runs pinned to CPU 0 (every thread, `taskset`), the homeserver,
 * the load processes and the bench itself on the other CPUs; the participants receive through the cheap path
 * (bench/lib/cheapReceive.ts: decryption with one cipher per association, werift's receive path skipped) so
 * the whole load fits on one core, and the load counts as saturated when its processes together take more
 * than 90 % of the CPUs they have. Each point says which side limited it.
 */
import { gcPauses, type GcPauses } from '../lib/gcPauses.js';
import { joinMeeting, WANTED } from '../lib/meetingLoad.js';
import { loadCpus, pin } from '../lib/pin.js';
import { BenchProcesses } from '../lib/processes.js';
import { quantiles, round } from '../lib/stats.js';
import { measureWindow } from '../lib/window.js';
import type { Env } from '../lib/worker.js';
import { DEFAULT_EVENT_LOOP_RESOLUTION_MS } from '../../src/observability/metrics.js';

/** A load over this share of the CPUs it has measured itself, not the SFU. */
const SATURATED = 0.9;
/** Load processes when pinned: few, so the one load core does not switch between many event loops. */
const PINNED_WORKERS = 3;
export const LIMITS = { latencyP99Ms: 20, loss: 0.001, sfuCpu: 0.95 };

export interface MeetingPoint {
  participants: number;
  seconds: number;
  /** The focus pinned to CPU 0 and the load (cheap receive path) on the others. */
  pinned: boolean;
  forwardedStreams: number;
  inPps: number;
  outPps: number;
  sfuCpuPct: number;
  /** The focus's CPU per participant, % of one core. */
  sfuCpuPctPerParticipant: number;
  usPerForwarded: number | undefined;
  expected: number;
  deliveredInWindow: number;
  /** Video packets of a layer other than the one subscribed (by the width in the synthetic payload). */
  otherLayerPackets: number;
  loss: number;
  latencyMs: { p50?: number; p95?: number; p99?: number; max?: number };
  /**
   * The same packets' latency to their arrival in the subscriber's socket (the kernel's receive timestamp), so
   * without the time they then waited for the load process to read them; absent when the load's sockets were not
   * read in batches (no native add-on, or not pinned). `latencyMs` is what the pass/fail reads.
   */
  latencyAtSocketMs?: { p50?: number; p95?: number; p99?: number; max?: number };
  clientCpuPct: number[];
  /** The load processes' CPU together, % of one core. */
  loadCpuPct: number;
  /** Pinned: packets the load's cheap receive path refused in the window (retransmitted copies, forgeries). */
  loadRefused: number;
  sfuRssBytes?: number;
  sfuLagMaxMs: number;
  /** The longest a datagram waited in the focus's sockets before it read it (add-on reads; else absent). */
  sfuReceiveWaitMaxMs?: number;
  valid: boolean;
  passed: boolean;
  /** The focus's GC pauses in the window. */
  sfuGc?: GcPauses;
  /** The load processes' event-loop delay in the window, the worst of them (ms). */
  loadLagMs: { p99: number; max: number };
  /** The longest GC pause of any load process in the window (ms). */
  loadGcMaxMs: number;
  /**
   * The longest event-loop stall in the window (lag max less the timer's own interval; for the focus also the
   * longest a datagram waited in its sockets, when larger), focus and load (ms).
   */
  sfuStallMs: number;
  loadStallMs: number;
  /**
   * What a failed point ran out of: the load when it was saturated; for a failed latency alone, `latencySide`'s
   * reading (of the latency at the socket when measured, else of the stalls); else (loss, wrong layer, CPU) the
   * SFU.
   */
  limitedBy: 'sfu' | 'load' | 'both' | 'unknown' | undefined;
  failed: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The focus's lag max comes from prom-client's event-loop monitor, whose figures include its timer interval
 * (the focus's `http.event_loop_resolution_ms`, 100 ms by default: its minimum reads ≈ 100 ms on an idle loop;
 * a stall shorter than that is seen only when it spans a sample, so a short one can read as `unknown`); the
 * load processes' monitor runs at 2 ms.
 */
const SFU_LAG_RESOLUTION_MS = DEFAULT_EVENT_LOOP_RESOLUTION_MS;
const LOAD_LAG_RESOLUTION_MS = 2;

/**
 * Which side a failed p99 latency is on, from each side's longest event-loop stall: a packet waits in a process
 * about as long as that process's loop stalls (and a stall there is also where a packet waits in its socket).
 * A side whose stall stayed under half the limit cannot account for the tail; when both stalled longer, both;
 * when neither did, the tail is elsewhere (the kernel, the scheduler) and the reading says so.
 * With the p99 of the latency at the subscribers' sockets (`atSocketP99Ms`) the load's part is measured instead:
 * within the limit there, the load read the packets late (`load`); over it, the wait was before the socket — the
 * focus when it stalled half the limit or longer, else `unknown`.
 */
export function latencySide(
  sfuStallMs: number,
  loadStallMs: number,
  atSocketP99Ms?: number,
): 'sfu' | 'load' | 'both' | 'unknown' {
  const half = LIMITS.latencyP99Ms / 2;
  const sfu = sfuStallMs >= half;
  const load = loadStallMs >= half;
  if (atSocketP99Ms !== undefined) {
    // Measured: the packets reached the subscribers' sockets in time, and the load read them late; or they did
    // not, and the wait was before the subscriber's socket (the focus, or the kernel and scheduler between).
    return atSocketP99Ms <= LIMITS.latencyP99Ms ? 'load' : sfu ? 'sfu' : 'unknown';
  }
  return sfu && load ? 'both' : sfu ? 'sfu' : load ? 'load' : 'unknown';
}

export async function meetingPoint(
  n: number,
  seconds: number,
  log: (s: string) => void,
  opts: { pin?: boolean; warmupS?: number } = {},
): Promise<MeetingPoint> {
  const pinned = opts.pin === true;
  const warmupS = opts.warmupS ?? 3;
  const procs = new BenchProcesses();
  try {
    const { host, roomId, foci } = await procs.cascadeHost(['a.example']);
    const f = foci[0]!;
    const env: Env = { hsUrl: f.hsUrl, roomId, focus: f.focus };
    const others = pinned ? loadCpus() : undefined;
    if (others !== undefined) {
      pin(f.pid, '0');
      pin(host.pid, others);
      pin(process.pid, others);
    }
    const { workers } = await joinMeeting(procs, host, env, f.serverName, n, 'meeting', {
      cheap: pinned,
      ...(pinned ? { workers: PINNED_WORKERS } : {}),
      onWorkers: (ws) => {
        for (const w of ws) {
          if (others !== undefined) {
            pin(w.pid, others);
          }
        }
      },
    });
    log(
      `meeting ${n}: ${n} participants subscribed to each other${pinned ? ` (focus pid ${f.pid} on CPU 0, the load on CPU ${others})` : ''}, warming up ${warmupS} s`,
    );
    await sleep(warmupS * 1000);

    const {
      ends,
      wallMs,
      serverCpuMs: cpu,
      serverRssBytes: rss,
      hostStart,
      hostEnd,
    } = await measureWindow({
      pid: f.pid,
      loads: workers,
      host,
      seconds,
    });

    const received = ends.flatMap((e) => e.received);
    const delivered = received.reduce((k, r) => k + r.audio + r.video, 0);
    // Every participant's h layer goes to the n − 1 others.
    const expected = ends.reduce((k, e) => k + (e.simulcastSentInWindow[WANTED.rid] ?? 0), 0) * (n - 1);
    const deliveredInWindow = received.reduce((k, r) => k + r.videoInWindow, 0);
    const loss = expected > 0 ? Math.max(0, 1 - deliveredInWindow / expected) : 1;
    // Every subscription asked for 640×360: packets of another layer (by the width in their payload) are a
    // wrong layer choice, and would also hide loss in the count above.
    const otherLayer = received.reduce(
      (k, r) =>
        k +
        Object.entries(r.videoByWidth)
          .filter(([w]) => Number(w) !== WANTED.width)
          .reduce((a, [, v]) => a + v, 0),
      0,
    );
    const clientCpuPct = ends.map((e) => round((e.cpuMs / e.wallMs) * 100) ?? 0);
    const loadCpu = ends.reduce((k, e) => k + e.cpuMs / e.wallMs, 0);
    const loadCores = others === undefined ? 1 : others.includes('-') ? Number(others.split('-')[1]) : 1;
    const lat = ends.flatMap((e) => e.latencyMs).sort((a, b) => a - b);
    const latencyMs = quantiles(lat, ['p50', 'p95', 'p99', 'max'], 2);
    // At the socket only when every load process measured it for every sample (the lists are paired).
    const atSocket = ends.every((e) => e.socketLatencyMs.length === e.latencyMs.length)
      ? ends.flatMap((e) => e.socketLatencyMs).sort((a, b) => a - b)
      : [];
    const latencyAtSocketMs =
      atSocket.length > 0 ? quantiles(atSocket, ['p50', 'p95', 'p99', 'max'], 2) : undefined;
    const sfuCpu = cpu / wallMs;
    const failed: string[] = [];
    if ((latencyMs.p99 ?? Infinity) > LIMITS.latencyP99Ms) {
      failed.push(`p99 latency ${latencyMs.p99} ms > ${LIMITS.latencyP99Ms} ms`);
    }
    if (loss > LIMITS.loss) {
      failed.push(`loss ${(loss * 100).toFixed(3)} % > ${LIMITS.loss * 100} %`);
    }
    if (otherLayer > 0) {
      failed.push(`${otherLayer} packets of another layer than ${WANTED.width}×${WANTED.height} received`);
    }
    if (sfuCpu > LIMITS.sfuCpu) {
      failed.push(`SFU CPU ${(sfuCpu * 100).toFixed(1)} % > ${LIMITS.sfuCpu * 100} %`);
    }
    const sfuFailed = failed.length > 0;
    const sfuLagMaxMs = round(hostEnd?.lagMaxMs) ?? 0;
    const sfuGc = hostEnd !== undefined ? gcPauses(hostStart, hostEnd.counters) : undefined;
    const loadLagMs = {
      p99: round(Math.max(0, ...ends.map((e) => e.lagMs.p99))) ?? 0,
      max: round(Math.max(0, ...ends.map((e) => e.lagMs.max))) ?? 0,
    };
    const sfuReceiveWaitMaxMs = round(hostEnd?.receiveWaitMaxMs);
    // Two lower bounds of the focus's longest stall: the lag histogram (which sees a stall only when it spans
    // a sample) and the longest any datagram waited in its sockets (every stall a packet sat through).
    const sfuStallMs = Math.max(0, sfuLagMaxMs - SFU_LAG_RESOLUTION_MS, sfuReceiveWaitMaxMs ?? 0);
    const loadStallMs = Math.max(0, loadLagMs.max - LOAD_LAG_RESOLUTION_MS);
    const latencyOnly = failed.length === 1 && failed[0]!.startsWith('p99 latency');
    const latencyBy = latencyOnly ? latencySide(sfuStallMs, loadStallMs, latencyAtSocketMs?.p99) : undefined;
    const valid = pinned ? loadCpu <= SATURATED * loadCores : clientCpuPct.every((p) => p <= SATURATED * 100);
    if (!valid) {
      failed.push(
        pinned
          ? `the load was saturated (${round(loadCpu * 100)} % of its ${loadCores} CPU(s)): the load, not the SFU, was measured`
          : 'a load process was saturated (> 90 % of a core): the load, not the SFU, was measured',
      );
    }
    return {
      participants: n,
      seconds: round(wallMs / 1000, 2) ?? seconds,
      pinned,
      forwardedStreams: n * (n - 1),
      inPps:
        round(
          ends.reduce((k, e) => k + Object.values(e.simulcastSentInWindow).reduce((a, b) => a + b, 0), 0) /
            (wallMs / 1000) +
            n * 50,
        ) ?? 0,
      outPps: round((delivered * 1000) / wallMs) ?? 0,
      sfuCpuPct: round(sfuCpu * 100) ?? 0,
      sfuCpuPctPerParticipant: round((sfuCpu * 100) / n, 2) ?? 0,
      usPerForwarded: round(delivered > 0 ? (cpu * 1000) / delivered : undefined),
      expected,
      deliveredInWindow,
      otherLayerPackets: otherLayer,
      loss: round(loss, 5) ?? 1,
      latencyMs,
      ...(latencyAtSocketMs !== undefined ? { latencyAtSocketMs } : {}),
      clientCpuPct,
      loadCpuPct: round(loadCpu * 100) ?? 0,
      loadRefused: ends.reduce((k, e) => k + e.cheapRefused, 0),
      ...(rss !== undefined ? { sfuRssBytes: rss } : {}),
      sfuLagMaxMs,
      ...(sfuReceiveWaitMaxMs !== undefined ? { sfuReceiveWaitMaxMs } : {}),
      ...(sfuGc !== undefined ? { sfuGc } : {}),
      loadLagMs,
      loadGcMaxMs: round(Math.max(0, ...ends.map((e) => e.gcMaxMs))) ?? 0,
      valid,
      passed: failed.length === 0,
      limitedBy: !valid ? 'load' : (latencyBy ?? (sfuFailed ? 'sfu' : undefined)),
      sfuStallMs: round(sfuStallMs) ?? 0,
      loadStallMs: round(loadStallMs) ?? 0,
      failed,
    };
  } finally {
    await procs.stopAll();
  }
}

/** Steps N through `steps` until a point fails; the largest passing N (0 if none). */
export async function meetingSteps(
  steps: readonly number[],
  seconds: number,
  log: (s: string) => void,
  opts: { pin?: boolean; warmupS?: number } = {},
): Promise<{ points: MeetingPoint[]; largestPassing: number; limitedBy: string | undefined }> {
  const points: MeetingPoint[] = [];
  let largestPassing = 0;
  let limitedBy: string | undefined;
  for (const n of steps) {
    const p = await meetingPoint(n, seconds, log, opts);
    points.push(p);
    log(
      `meeting ${n}: ${p.outPps} pkt/s out, SFU ${p.sfuCpuPct} % CPU (${p.sfuCpuPctPerParticipant} % per participant), ` +
        `${p.usPerForwarded ?? '-'} µs/forwarded, load ${p.loadCpuPct} % CPU, stall max SFU/load ${p.sfuStallMs}/${p.loadStallMs} ms, ` +
        `GC max load ${p.loadGcMaxMs} ms, SFU >5 ms ${p.sfuGc?.over5ms ?? '-'} of ${p.sfuGc?.count ?? '-'}, ` +
        `loss ${(p.loss * 100).toFixed(3)} %, latency p50/p99 ${p.latencyMs.p50}/${p.latencyMs.p99} ms` +
        (p.latencyAtSocketMs !== undefined
          ? ` (at the socket ${p.latencyAtSocketMs.p50}/${p.latencyAtSocketMs.p99} ms)`
          : '') +
        (p.passed ? ' — pass' : ` — FAIL: ${p.failed.join('; ')}`),
    );
    if (!p.passed) {
      limitedBy = `${p.limitedBy ?? 'sfu'}: ${p.failed.join('; ')}`;
      break;
    }
    largestPassing = n;
  }
  return { points, largestPassing, limitedBy };
}

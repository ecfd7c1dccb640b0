/**
 * `meeting`: N participants, each publishing synthetic 3-layer VP8 simulcast (q 320×180 at 25 pkt/s, h
 * 640×360 at 60 pkt/s, f 1280×720 at 270 pkt/s) + Opus (50 pkt/s), each subscribing to every other one at
 * 640×360 + audio: N × (N − 1) forwarded video streams on the h layer. N steps up until a point fails — p99
 * latency > 20 ms, loss > 0.1 %, or SFU CPU > 95 % of one core — and the largest passing N is reported. A
 * point where a load process was saturated (> 90 % of a core) measures the load, not the SFU: the step ends
 * there too and the result says so.
 */
import { BenchProcesses } from '../lib/processes.js';
import { quantiles, round } from '../lib/stats.js';
import type { SyntheticVideo } from '../../harness/peers/weriftPeer.js';
import { measureWindow } from '../lib/window.js';
import type { UserCreds } from '../lib/worker.js';

const KEYFRAME_MS = 3000;
export const LAYERS: (SyntheticVideo & { rid: string })[] = [
  {
    rid: 'q',
    fps: 25,
    packetsPerFrame: 1,
    payloadBytes: 800,
    keyframeIntervalMs: KEYFRAME_MS,
    width: 320,
    height: 180,
  },
  {
    rid: 'h',
    fps: 30,
    packetsPerFrame: 2,
    payloadBytes: 1000,
    keyframeIntervalMs: KEYFRAME_MS,
    width: 640,
    height: 360,
  },
  {
    rid: 'f',
    fps: 30,
    packetsPerFrame: 9,
    payloadBytes: 1150,
    keyframeIntervalMs: KEYFRAME_MS,
    width: 1280,
    height: 720,
  },
];
/** The layer every subscription asks for (640×360), and its packet rate. */
export const WANTED = LAYERS[1]!;
const STREAM_PPS = WANTED.fps * WANTED.packetsPerFrame + 50;
const PUBLISH_PPS = LAYERS.reduce((n, l) => n + l.fps * l.packetsPerFrame, 0) + 50;
/** Packets per second (received + half the sent ones) one werift load process is given at most. */
const PPS_PER_WORKER = 6000;
const SATURATED = 0.9;
export const LIMITS = { latencyP99Ms: 20, loss: 0.001, sfuCpu: 0.95 };

export interface MeetingPoint {
  participants: number;
  seconds: number;
  forwardedStreams: number;
  inPps: number;
  outPps: number;
  sfuCpuPct: number;
  usPerForwarded: number | undefined;
  expected: number;
  deliveredInWindow: number;
  /** Video packets of a layer other than the one subscribed (by the width in the synthetic payload). */
  otherLayerPackets: number;
  loss: number;
  latencyMs: { p50?: number; p95?: number; p99?: number; max?: number };
  clientCpuPct: number[];
  sfuRssBytes?: number;
  sfuLagMaxMs: number;
  valid: boolean;
  passed: boolean;
  failed: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Load processes for `n` participants (each takes at most PPS_PER_WORKER packets per second). */
export function meetingWorkers(n: number): number {
  const perParticipant = (n - 1) * STREAM_PPS + PUBLISH_PPS / 2;
  return Math.min(n, Math.max(1, Math.ceil((n * perParticipant) / PPS_PER_WORKER)));
}

export async function meetingPoint(
  n: number,
  seconds: number,
  log: (s: string) => void,
  warmupS = 3,
): Promise<MeetingPoint> {
  const procs = new BenchProcesses();
  try {
    const { host, env } = await procs.sfu();
    const nWorkers = meetingWorkers(n);
    const workers = await procs.workers(Array.from({ length: nWorkers }, (_, i) => `meeting-${i}`));
    const owners = (
      await Promise.all(
        workers.map(async (w, i) => {
          const users: UserCreds[] = [];
          for (let j = i; j < n; j += nWorkers) {
            users.push(await host.call<UserCreds>('user', { localpart: `p${j}` }));
          }
          return w.call<string[]>('meetingJoin', { env, users, layers: LAYERS }, 120_000);
        }),
      )
    ).flat();
    await Promise.all(
      workers.map((w) =>
        w.call('meetingSubscribe', { owners, width: WANTED.width, height: WANTED.height }, 120_000),
      ),
    );
    log(`meeting ${n}: ${n} participants subscribed to each other, warming up ${warmupS} s`);
    await sleep(warmupS * 1000);

    const {
      ends,
      wallMs,
      serverCpuMs: cpu,
      serverRssBytes: rss,
      hostEnd,
    } = await measureWindow({
      pid: host.pid,
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
    const lat = ends.flatMap((e) => e.latencyMs).sort((a, b) => a - b);
    const latencyMs = quantiles(lat, ['p50', 'p95', 'p99', 'max'], 2);
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
    const valid = clientCpuPct.every((p) => p <= SATURATED * 100);
    if (!valid) {
      failed.push('a load process was saturated (> 90 % of a core): the load, not the SFU, was measured');
    }
    return {
      participants: n,
      seconds: round(wallMs / 1000, 2) ?? seconds,
      forwardedStreams: n * (n - 1),
      inPps:
        round(
          ends.reduce((k, e) => k + Object.values(e.simulcastSentInWindow).reduce((a, b) => a + b, 0), 0) /
            (wallMs / 1000) +
            n * 50,
        ) ?? 0,
      outPps: round((delivered * 1000) / wallMs) ?? 0,
      sfuCpuPct: round(sfuCpu * 100) ?? 0,
      usPerForwarded: round(delivered > 0 ? (cpu * 1000) / delivered : undefined),
      expected,
      deliveredInWindow,
      otherLayerPackets: otherLayer,
      loss: round(loss, 5) ?? 1,
      latencyMs,
      clientCpuPct,
      ...(rss !== undefined ? { sfuRssBytes: rss } : {}),
      sfuLagMaxMs: round(hostEnd?.lagMaxMs) ?? 0,
      valid,
      passed: failed.length === 0,
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
): Promise<{ points: MeetingPoint[]; largestPassing: number; limitedBy: string | undefined }> {
  const points: MeetingPoint[] = [];
  let largestPassing = 0;
  let limitedBy: string | undefined;
  for (const n of steps) {
    const p = await meetingPoint(n, seconds, log);
    points.push(p);
    log(
      `meeting ${n}: ${p.outPps} pkt/s out, SFU ${p.sfuCpuPct} % CPU, ${p.usPerForwarded ?? '-'} µs/forwarded, ` +
        `loss ${(p.loss * 100).toFixed(3)} %, latency p50/p99 ${p.latencyMs.p50}/${p.latencyMs.p99} ms` +
        (p.passed ? ' — pass' : ` — FAIL: ${p.failed.join('; ')}`),
    );
    if (!p.passed) {
      limitedBy = p.failed.join('; ');
      break;
    }
    largestPassing = n;
  }
  return { points, largestPassing, limitedBy };
}

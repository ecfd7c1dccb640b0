/**
 * The `meeting` load against a focus in its own process (`soak`, `flood`): N participants over as many load
 * processes as `meetingWorkers` says, each publishing the synthetic 3-layer simulcast + Opus and watching every
 * other at the WANTED layer's size; and what a measurement window of it says (latency, loss).
 */
import type { SyntheticVideo } from '../../harness/peers/weriftPeer.js';
import type { BenchProcesses } from './processes.js';
import type { Child } from './rpc.js';
import { quantiles, round } from './stats.js';
import type { WindowResult } from './window.js';
import type { Env, UserCreds } from './worker.js';

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
/** Load processes for `n` participants (each takes at most PPS_PER_WORKER packets per second). */
export function meetingWorkers(n: number): number {
  const perParticipant = (n - 1) * STREAM_PPS + PUBLISH_PPS / 2;
  return Math.min(n, Math.max(1, Math.ceil((n * perParticipant) / PPS_PER_WORKER)));
}

/**
 * Starts the load processes (`name-0`, `name-1`, …; as many as `meetingWorkers` says unless `opts.workers`) and
 * joins the participants `p0` … on `serverName`; `opts.cheap`: they receive through the cheap path
 * (cheapReceive.ts); `opts.onWorkers`: called with the load processes once they run (before anyone joins).
 */
export async function joinMeeting(
  procs: BenchProcesses,
  host: Child,
  env: Env,
  serverName: string,
  participants: number,
  name: string,
  opts: { cheap?: boolean; workers?: number; onWorkers?: (ws: readonly Child[]) => void } = {},
): Promise<{ workers: Child[]; owners: string[] }> {
  const nWorkers = Math.min(participants, opts.workers ?? meetingWorkers(participants));
  const workers = await procs.workers(Array.from({ length: nWorkers }, (_, i) => `${name}-${i}`));
  opts.onWorkers?.(workers);
  const owners = (
    await Promise.all(
      workers.map(async (w, i) => {
        const users: UserCreds[] = [];
        for (let j = i; j < participants; j += nWorkers) {
          users.push(await host.call<UserCreds>('user', { localpart: `p${j}`, serverName }));
        }
        return w.call<string[]>(
          'meetingJoin',
          { env, users, layers: LAYERS, cheap: opts.cheap === true },
          120_000,
        );
      }),
    )
  ).flat();
  await Promise.all(
    workers.map((w) =>
      w.call('meetingSubscribe', { owners, width: WANTED.width, height: WANTED.height }, 120_000),
    ),
  );
  return { workers, owners };
}

/** A window's latency percentiles over every participant, and the WANTED layer's loss (sent × watchers). */
export function meetingWindowStats(
  w: WindowResult,
  participants: number,
): { latencyMs: { p50?: number; p99?: number; max?: number }; loss: number } {
  const received = w.ends.flatMap((e) => e.received);
  const expected =
    w.ends.reduce((k, e) => k + (e.simulcastSentInWindow[WANTED.rid] ?? 0), 0) * (participants - 1);
  const inWindow = received.reduce((k, r) => k + r.videoInWindow, 0);
  const lat = w.ends.flatMap((e) => e.latencyMs).sort((a, b) => a - b);
  return {
    latencyMs: quantiles(lat, ['p50', 'p99', 'max'], 2),
    loss: expected > 0 ? (round(Math.max(0, 1 - inWindow / expected), 5) ?? 1) : 1,
  };
}

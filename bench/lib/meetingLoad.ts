/**
 * The `meeting` load against a focus in its own process (`soak`, `flood`): N participants over as many load
 * processes as `meetingWorkers` says, each publishing the synthetic 3-layer simulcast + Opus and watching every
 * other at the WANTED layer's size; and what a measurement window of it says (latency, loss).
 */
import { LAYERS, meetingWorkers, WANTED } from '../scenarios/meeting.js';
import type { BenchProcesses } from './processes.js';
import type { Child } from './rpc.js';
import { quantiles, round } from './stats.js';
import type { WindowResult } from './window.js';
import type { Env, UserCreds } from './worker.js';

/** Starts the load processes (`name-0`, `name-1`, …) and joins the participants `p0` … on `serverName`. */
export async function joinMeeting(
  procs: BenchProcesses,
  host: Child,
  env: Env,
  serverName: string,
  participants: number,
  name: string,
): Promise<{ workers: Child[]; owners: string[] }> {
  const nWorkers = meetingWorkers(participants);
  const workers = await procs.workers(Array.from({ length: nWorkers }, (_, i) => `${name}-${i}`));
  const owners = (
    await Promise.all(
      workers.map(async (w, i) => {
        const users: UserCreds[] = [];
        for (let j = i; j < participants; j += nWorkers) {
          users.push(await host.call<UserCreds>('user', { localpart: `p${j}`, serverName }));
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

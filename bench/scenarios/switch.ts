/**
 * `switch`: a libwebrtc (@roamhq/wrtc) publisher sends real 3-layer VP8 simulcast; one subscriber alternates
 * between 320×180 and 1280×720. Per change: the time from its `subscribe` to the first keyframe of the new
 * layer at the subscriber — where the SFU switches (PLI to the publisher, keyframe, switch on it) — so it
 * includes the publisher's keyframe time. The first round (the top layer ramping up) is not counted.
 */
import { BenchProcesses } from '../lib/processes.js';
import { quantiles } from '../lib/stats.js';
import type { UserCreds } from '../lib/worker.js';

export interface SwitchResult {
  rounds: number;
  upMs: { p50?: number; p95?: number; max?: number; all: number[] };
  downMs: { p50?: number; p95?: number; max?: number; all: number[] };
  continuityProblems: string[];
}

function summary(v: number[]): { p50?: number; p95?: number; max?: number; all: number[] } {
  return {
    ...quantiles(
      [...v].sort((a, b) => a - b),
      ['p50', 'p95', 'max'],
    ),
    all: v,
  };
}

export async function switchRounds(rounds: number, log: (s: string) => void): Promise<SwitchResult> {
  const procs = new BenchProcesses();
  try {
    const { host, env } = await procs.sfu();
    const [pub, sub] = await Promise.all([procs.worker('publisher'), procs.worker('subscriber')]);
    const pubUser = await host.call<UserCreds>('user', { localpart: 'pub' });
    await pub.call('simulcastPublisher', { env, user: pubUser }, 60_000);
    const user = await host.call<UserCreds>('user', { localpart: 'sub' });
    log(`switch: ${rounds} rounds of 320×180 ↔ 1280×720`);
    const r = await sub.call<{ upMs: number[]; downMs: number[]; problems: string[] }>(
      'switcher',
      { env, user, owner: pubUser.userId, rounds },
      60_000 + rounds * 70_000,
    );
    return { rounds, upMs: summary(r.upMs), downMs: summary(r.downMs), continuityProblems: r.problems };
  } finally {
    await procs.stopAll();
  }
}

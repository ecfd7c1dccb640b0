/**
 * `switch`: a libwebrtc (@roamhq/wrtc) publisher sends real 3-layer VP8 simulcast; one subscriber alternates
 * between 320×180 and 1280×720. Per change: the time from its `subscribe` to the first keyframe of the new
 * layer at the subscriber — where the SFU switches (PLI to the publisher, keyframe, switch on it) — so it
 * includes the publisher's keyframe time. The first round (the top layer ramping up) is not counted.
 */
import { fileURLToPath } from 'node:url';
import { Child } from '../lib/rpc.js';
import { percentile } from '../lib/stats.js';
import type { Env, UserCreds } from '../lib/worker.js';

const HOST = fileURLToPath(new URL('../lib/host.ts', import.meta.url));
const WORKER = fileURLToPath(new URL('../lib/worker.ts', import.meta.url));

export interface SwitchResult {
  rounds: number;
  upMs: { p50?: number; p95?: number; max?: number; all: number[] };
  downMs: { p50?: number; p95?: number; max?: number; all: number[] };
  continuityProblems: string[];
}

function summary(v: number[]): { p50?: number; p95?: number; max?: number; all: number[] } {
  const s = [...v].sort((a, b) => a - b);
  const out: { p50?: number; p95?: number; max?: number; all: number[] } = { all: v };
  const p50 = percentile(s, 50);
  const p95 = percentile(s, 95);
  const max = s.at(-1);
  if (p50 !== undefined) {
    out.p50 = p50;
  }
  if (p95 !== undefined) {
    out.p95 = p95;
  }
  if (max !== undefined) {
    out.max = max;
  }
  return out;
}

export async function switchRounds(rounds: number, log: (s: string) => void): Promise<SwitchResult> {
  const children: Child[] = [];
  try {
    const host = new Child(HOST, 'sfu');
    children.push(host);
    await host.ready;
    const info = await host.call<{ hsUrl: string; roomId: string; focus: Env['focus'] }>('info');
    const env: Env = { hsUrl: info.hsUrl, roomId: info.roomId, focus: info.focus };
    const pub = new Child(WORKER, 'publisher');
    const sub = new Child(WORKER, 'subscriber');
    children.push(pub, sub);
    await Promise.all([pub.ready, sub.ready]);
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
    await Promise.all(children.reverse().map((c) => c.stop().catch(() => undefined)));
  }
}

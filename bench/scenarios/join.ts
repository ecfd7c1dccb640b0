/**
 * `join` and `memory`: one publisher, then N subscribers joining ONE AT A TIME (membership, invite, data
 * channel, subscribe to audio + video, as a client does). Per join: the time from the invite to the first
 * RTP packet at that subscriber (and from its `subscribe`), and the SFU process's RSS / V8 heap after it,
 * so the memory per participant is the slope. A fresh SFU process per run.
 */
import { fileURLToPath } from 'node:url';
import { rssBytes } from '../lib/procStat.js';
import { Child } from '../lib/rpc.js';
import { percentile, round } from '../lib/stats.js';
import type { Env, UserCreds } from '../lib/worker.js';
import { VIDEO } from './fanout.js';

const HOST = fileURLToPath(new URL('../lib/host.ts', import.meta.url));
const WORKER = fileURLToPath(new URL('../lib/worker.ts', import.meta.url));

export interface JoinSample {
  n: number;
  joinToFirstRtpMs: number;
  subscribeToFirstRtpMs: number;
  sfuRssBytes: number | undefined;
  sfuHeapUsedBytes: number;
}

export interface JoinResult {
  joins: number;
  joinToFirstRtpMs: { p50?: number; p95?: number; max?: number };
  subscribeToFirstRtpMs: { p50?: number; p95?: number; max?: number };
  /** Least-squares slope of RSS over participants (bytes per subscriber). */
  rssPerSubscriberBytes: number | undefined;
  heapPerSubscriberBytes: number | undefined;
  baseline: { sfuRssBytes: number | undefined; sfuHeapUsedBytes: number };
  samples: JoinSample[];
}

function slope(xs: number[], ys: number[]): number | undefined {
  const n = xs.length;
  if (n < 2) {
    return undefined;
  }
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

export async function sequentialJoins(joins: number, log: (s: string) => void): Promise<JoinResult> {
  const children: Child[] = [];
  try {
    const host = new Child(HOST, 'sfu', {}, ['--expose-gc']);
    children.push(host);
    await host.ready;
    const info = await host.call<{ hsUrl: string; roomId: string; focus: Env['focus'] }>('info');
    const env: Env = { hsUrl: info.hsUrl, roomId: info.roomId, focus: info.focus };
    const pub = new Child(WORKER, 'publisher');
    const subs = new Child(WORKER, 'subscribers');
    children.push(pub, subs);
    await Promise.all([pub.ready, subs.ready]);
    const pubUser = await host.call<UserCreds>('user', { localpart: 'pub' });
    await pub.call('publisher', { env, user: pubUser, video: VIDEO });
    const mem = async () => {
      const m = await host.call<{ memory: NodeJS.MemoryUsage }>('memory');
      return { sfuRssBytes: rssBytes(host.pid), sfuHeapUsedBytes: m.memory.heapUsed };
    };
    const baseline = await mem();
    const samples: JoinSample[] = [];
    for (let i = 0; i < joins; i++) {
      const user = await host.call<UserCreds>('user', { localpart: `sub${i}` });
      const [r] = await subs.call<{ joinToFirstRtpMs: number; subscribeToFirstRtpMs: number }[]>(
        'subscribers',
        { env, users: [user], owner: pubUser.userId, width: 640, height: 360 },
        60_000,
      );
      samples.push({ n: i + 1, ...r!, ...(await mem()) });
      if ((i + 1) % 10 === 0) {
        log(`join ${i + 1}/${joins}: last ${r!.joinToFirstRtpMs} ms`);
      }
    }
    const sorted = (f: (s: JoinSample) => number) => samples.map(f).sort((a, b) => a - b);
    const j = sorted((s) => s.joinToFirstRtpMs);
    const sub = sorted((s) => s.subscribeToFirstRtpMs);
    const withRss = samples.filter((s) => s.sfuRssBytes !== undefined);
    return {
      joins,
      joinToFirstRtpMs: spreadOf(j),
      subscribeToFirstRtpMs: spreadOf(sub),
      rssPerSubscriberBytes: round(
        slope(
          withRss.map((s) => s.n),
          withRss.map((s) => s.sfuRssBytes!),
        ),
        0,
      ),
      heapPerSubscriberBytes: round(
        slope(
          samples.map((s) => s.n),
          samples.map((s) => s.sfuHeapUsedBytes),
        ),
        0,
      ),
      baseline,
      samples,
    };
  } finally {
    await Promise.all(children.reverse().map((c) => c.stop().catch(() => undefined)));
  }
}

function spreadOf(sorted: number[]): { p50?: number; p95?: number; max?: number } {
  const out: { p50?: number; p95?: number; max?: number } = {};
  const p50 = percentile(sorted, 50);
  const p95 = percentile(sorted, 95);
  if (p50 !== undefined) {
    out.p50 = p50;
  }
  if (p95 !== undefined) {
    out.p95 = p95;
  }
  const max = sorted.at(-1);
  if (max !== undefined) {
    out.max = max;
  }
  return out;
}

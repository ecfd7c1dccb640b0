/**
 * `join` and `memory`: one publisher, then N subscribers joining ONE AT A TIME (membership, invite, data
 * channel, subscribe to audio + video, as a client does). Per join: the time from the invite to the first
 * RTP packet at that subscriber (and from its `subscribe`), and the SFU process's RSS / V8 heap after it,
 * so the memory per participant is the slope. A fresh SFU process per run.
 */
import { rssBytes } from '../lib/procStat.js';
import { BenchProcesses } from '../lib/processes.js';
import { quantiles, round } from '../lib/stats.js';
import type { UserCreds } from '../lib/worker.js';
import { VIDEO } from './fanout.js';

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
  const procs = new BenchProcesses();
  try {
    const { host, env } = await procs.sfu(['--expose-gc']);
    const [pub, subs] = await Promise.all([procs.worker('publisher'), procs.worker('subscribers')]);
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
      joinToFirstRtpMs: quantiles(j, ['p50', 'p95', 'max']),
      subscribeToFirstRtpMs: quantiles(sub, ['p50', 'p95', 'max']),
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
    await procs.stopAll();
  }
}

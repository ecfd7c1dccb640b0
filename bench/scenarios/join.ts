/**
 * `join` and `memory`: one publisher, then N subscribers joining ONE AT A TIME (membership, invite, data
 * channel, subscribe to audio + video, as a client does). Per join: the time from the invite to the first
 * RTP packet at that subscriber (and from its `subscribe`), and the SFU process's RSS / V8 heap after it,
 * so the memory per participant is the slope. A fresh SFU process per run; the publisher sends 360p-like
 * video (JOIN_VIDEO) + Opus.
 */
import { rssBytes } from '../lib/procStat.js';
import { BenchProcesses } from '../lib/processes.js';
import { quantiles, round } from '../lib/stats.js';
import type { UserCreds } from '../lib/worker.js';
import type { SyntheticVideo } from '../../harness/peers/weriftPeer.js';

/**
 * The publisher's video: a 360p-like stream (30 fps × 2 packets of 1,000 B ≈ 60 pkt/s, the layer a meeting
 * subscribes to), so 50 subscribers stay within what the SFU forwards on this machine (a 720p stream to 40
 * collapses it, see `fanout`) and the figures are per participant, not per overload.
 */
export const JOIN_VIDEO: SyntheticVideo = {
  fps: 30,
  packetsPerFrame: 2,
  payloadBytes: 1000,
  keyframeIntervalMs: 3000,
  width: 640,
  height: 360,
};

/** Subscribers per load process (each receives ≈ 110 pkt/s). */
const SUBSCRIBERS_PER_WORKER = 15;

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
    // Subscribers spread round-robin over load processes, so late joins do not measure a saturated client.
    const nSubWorkers = Math.max(1, Math.ceil(joins / SUBSCRIBERS_PER_WORKER));
    const [pub, ...subWorkers] = await procs.workers([
      'publisher',
      ...Array.from({ length: nSubWorkers }, (_, i) => `subscribers-${i}`),
    ]);
    const pubUser = await host.call<UserCreds>('user', { localpart: 'pub' });
    await pub!.call('publisher', { env, user: pubUser, video: JOIN_VIDEO });
    const mem = async () => {
      const m = await host.call<{ memory: NodeJS.MemoryUsage }>('memory');
      return { sfuRssBytes: rssBytes(host.pid), sfuHeapUsedBytes: m.memory.heapUsed };
    };
    const baseline = await mem();
    const samples: JoinSample[] = [];
    for (let i = 0; i < joins; i++) {
      const user = await host.call<UserCreds>('user', { localpart: `sub${i}` });
      const [r] = await subWorkers[i % nSubWorkers]!.call<
        { joinToFirstRtpMs: number; subscribeToFirstRtpMs: number }[]
      >('subscribers', { env, users: [user], owner: pubUser.userId, width: 640, height: 360 }, 60_000);
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

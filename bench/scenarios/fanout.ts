/**
 * `fanout`: one publisher (synthetic VP8 at 270 pkt/s — 30 fps × 9 packets of 1,150 B — plus Opus at
 * 50 pkt/s) and N subscribers of both tracks. Per N: a fresh SFU process, the publisher in one load process,
 * the subscribers spread over load processes (at most ≈ 6k received pkt/s each), a warm-up, then a window in
 * which the SFU's CPU (/proc/<pid>/stat), the load processes' CPU, packets sent and delivered, and the
 * latency the SFU adds (send time in the payload, same monotonic clock) are measured. Then the publisher stops
 * its media and, every connection still up, the server's idle CPU is measured (IDLE_SECONDS after IDLE_SETTLE_MS):
 * the fixed cost of holding N + 1 peers, and what the packets cost above it. With `--vs janus` the same load
 * runs against Janus's VideoRoom in the same invocation (bench/lib/janusLoad.ts).
 */
import { JANUS_HTTP, JanusServer } from '../lib/janusServer.js';
import { BenchNetns, CLIENT_ADDRESS } from '../lib/netns.js';
import { cpuMs } from '../lib/procStat.js';
import { BenchProcesses } from '../lib/processes.js';
import type { Child } from '../lib/rpc.js';
import { quantiles, round } from '../lib/stats.js';
import type { SyntheticVideo } from '../../harness/peers/weriftPeer.js';
import { measureWindow } from '../lib/window.js';
import type { UserCreds } from '../lib/worker.js';
import { gcPauses, type GcPauses } from '../lib/gcPauses.js';

export const VIDEO: SyntheticVideo = {
  fps: 30,
  packetsPerFrame: 9,
  payloadBytes: 1150,
  keyframeIntervalMs: 3000,
  width: 1280,
  height: 720,
};
const IN_PPS = VIDEO.fps * VIDEO.packetsPerFrame + 50;
/** Received packets per second one werift load process is given at most (performance.md §2). */
const PPS_PER_WORKER = 6000;
/** A load process above this share of one core is saturated: its figures are not trusted. */
const SATURATED = 0.9;
/** A server that delivers less than this share of what was sent in the window has fallen behind. */
const OVERLOADED_BELOW = 0.99;

export interface FanoutPoint {
  /** Which server was measured: our SFU, or Janus (`--vs janus`). */
  target: 'sfu' | 'janus';
  subs: number;
  seconds: number;
  inPps: number;
  outPps: number;
  /** The server's CPU (our SFU or Janus) over the window, % of one core. */
  sfuCpuPct: number;
  usPerForwarded: number | undefined;
  usPerReceived: number | undefined;
  /** Distinct packets the subscribers received in the window (retransmitted copies not counted). */
  delivered: number;
  duplicates: number;
  /** Video packets the publisher sent within the window × subscribers (what `deliveredRatio` is judged on). */
  expected: number;
  deliveredRatio: number;
  latencyMs: { p50?: number; p95?: number; p99?: number; max?: number };
  subscribeToFirstRtpMs: { p50?: number; max?: number };
  clientCpuPct: number[];
  valid: boolean;
  invalidReason?: string;
  /** The server fell behind: it delivered under 99 % of what was sent in the window (valid, but saturated). */
  overloaded: boolean;
  sfuRssBytes?: number;
  /**
   * Datagrams the kernel dropped at full socket receive buffers during the window, in the namespaces of the
   * run (ours: the whole machine's default namespace; Janus: its and the load's): loss at a socket, not in a
   * server.
   */
  kernelUdpDrops?: number;
  /** Our SFU only (its own event-loop lag and counters). */
  sfuLagMaxMs?: number;
  /** The longest a datagram waited in the focus's sockets before it read it, in the window (add-on reads). */
  sfuReceiveWaitMaxMs?: number;
  /** The focus's GC pauses in the window (its `nodejs_gc_duration_seconds`): count, total, over 5 ms. */
  gc?: GcPauses;
  nackSent?: number;
  nackReceived?: number;
  retransmitted?: number;
  /** Datagrams the focus sent in segmented messages in the window (UDP GSO: `sfu_udp_gso_total`), and those messages. */
  segmented?: { datagrams: number; messages: number };
  /** The server's CPU with the same peers connected and no media (% of one core; the idle window). */
  idleCpuPct?: number;
  /** CPU µs per forwarded packet above that idle cost: (window CPU − idle rate × window) ÷ delivered. */
  usPerForwardedAboveIdle?: number;
}

/** The server name of our SFU's homeserver in `fanout`. */
const SERVER = 'a.example';
/** The idle window: how long after the publisher stops, and for how long. */
const IDLE_SETTLE_MS = 2000;
/** BENCH_IDLE_SECONDS lengthens the idle window (to attach a profiler to it). */
const IDLE_SECONDS = Number(process.env['BENCH_IDLE_SECONDS'] ?? 5);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function delta(a: Record<string, number>, b: Record<string, number>, key: string): number {
  return (b[key] ?? 0) - (a[key] ?? 0);
}

/** One target's processes, ready for the window: the server's pid, the load (publisher first), joins. */
interface Prepared {
  pid: number;
  loads: Child[];
  joins: number[];
  /** Our SFU's own counters and event-loop lag over the window (Janus has none we read). */
  host?: Child;
  /** Network namespaces whose kernel UDP drops count (undefined: the bench's own). */
  namespaces?: string[];
}

function workersFor(subs: number): number {
  return Math.max(1, Math.ceil((subs * IN_PPS) / PPS_PER_WORKER));
}

/**
 * Our SFU as it is deployed: one focus process (src/main.ts, or dist/ when built after the last change) whose CPU
 * is measured alone, the strict test homeserver in the cascade host's process apart from it (the clients' /sync
 * long-polls are the homeserver's work, not the SFU's: in one process they were most of the idle cost).
 */
async function prepareSfu(procs: BenchProcesses, subs: number): Promise<Prepared> {
  // BENCH_PROFILE_DIR (inherited): the focus process writes a CPU profile of its life there (cascadeHost.ts).
  const { host, roomId, foci } = await procs.cascadeHost([SERVER]);
  const focus = foci[0];
  if (focus === undefined) {
    throw new Error('the cascade host started no focus');
  }
  const env = { hsUrl: focus.hsUrl, roomId, focus: focus.focus };
  const user = (localpart: string) => host.call<UserCreds>('user', { localpart, serverName: SERVER });
  const pub = await procs.worker('publisher');
  const pubUser = await user('pub');
  await pub.call('publisher', { env, user: pubUser, video: VIDEO });
  const nWorkers = workersFor(subs);
  const workers = await procs.workers(Array.from({ length: nWorkers }, (_, i) => `subscribers-${i}`));
  const joins: number[] = [];
  await Promise.all(
    workers.map(async (w, i) => {
      const users: UserCreds[] = [];
      for (let j = i; j < subs; j += nWorkers) {
        users.push(await user(`sub${j}`));
      }
      const r = await w.call<{ subscribeToFirstRtpMs: number }[]>(
        'subscribers',
        { env, users, owner: pubUser.userId, width: 1280, height: 720 },
        120_000,
      );
      joins.push(...r.map((x) => x.subscribeToFirstRtpMs));
    }),
  );
  return { pid: focus.pid, loads: [pub, ...workers], joins, host };
}

/** Janus in its namespace, the same publisher and subscribers in theirs (performance.md §2). */
async function prepareJanus(procs: BenchProcesses, subs: number, ns: BenchNetns): Promise<Prepared> {
  const janus = await JanusServer.start(ns);
  procs.onStop(() => janus.stop());
  const inClients = BenchNetns.exec(ns.clients);
  const pub = await procs.worker('janus-publisher', inClients);
  const room = 1000 + subs;
  const base = { url: JANUS_HTTP, address: CLIENT_ADDRESS, room };
  const { feed } = await pub.call<{ feed: number }>('janusPublisher', { ...base, video: VIDEO });
  const nWorkers = workersFor(subs);
  const workers = await procs.workers(
    Array.from({ length: nWorkers }, (_, i) => `janus-subscribers-${i}`),
    inClients,
  );
  const joins: number[] = [];
  await Promise.all(
    workers.map(async (w, i) => {
      const count = Math.floor(subs / nWorkers) + (i < subs % nWorkers ? 1 : 0);
      const r = await w.call<{ subscribeToFirstRtpMs: number }[]>(
        'janusSubscribers',
        { ...base, feed, count },
        120_000,
      );
      joins.push(...r.map((x) => x.subscribeToFirstRtpMs));
    }),
  );
  return { pid: janus.pid, loads: [pub, ...workers], joins, namespaces: [ns.server, ns.clients] };
}

/**
 * One data point: a fresh server with `subs` subscribers, a warm-up, a `seconds` window. `target` is our
 * SFU, or Janus (then `ns` is the bench's namespace pair).
 */
export async function fanoutPoint(
  subs: number,
  seconds: number,
  log: (s: string) => void,
  warmupS = 2,
  target: Target = { name: 'sfu' },
): Promise<FanoutPoint> {
  const procs = new BenchProcesses();
  try {
    const prep =
      target.name === 'sfu' ? await prepareSfu(procs, subs) : await prepareJanus(procs, subs, target.ns);
    log(`fanout ${subs} (${target.name}): ${subs} subscribers receiving, warming up ${warmupS} s`);
    await sleep(warmupS * 1000);
    const { raw, ...point } = await measure(prep, subs, seconds);
    const idle = await idleCpu(prep, log);
    // From the raw figures (CPU ms and wall ms of each window), not the rounded percentages.
    const idleMs = idle.cpuPerWallMs * raw.wallMs;
    return {
      target: target.name,
      ...point,
      idleCpuPct: idle.pct,
      ...(point.delivered > 0
        ? { usPerForwardedAboveIdle: round(((raw.cpuMs - idleMs) * 1000) / point.delivered) ?? 0 }
        : {}),
    };
  } finally {
    await procs.stopAll();
  }
}

export type Target = { name: 'sfu' } | { name: 'janus'; ns: BenchNetns };

/** The publisher stops its media; after IDLE_SETTLE_MS the server's CPU over IDLE_SECONDS (% of one core). */
async function idleCpu(
  prep: Prepared,
  log: (s: string) => void,
): Promise<{ pct: number; cpuPerWallMs: number }> {
  await prep.loads[0]?.call('stopMedia');
  await sleep(IDLE_SETTLE_MS);
  log(`  idle window starts (focus pid ${prep.pid}, ${IDLE_SECONDS} s)`);
  const cpu0 = cpuMs(prep.pid) ?? 0;
  const t0 = performance.now();
  const fromUs = process.hrtime.bigint() / 1000n;
  await sleep(IDLE_SECONDS * 1000);
  const cpuPerWallMs = ((cpuMs(prep.pid) ?? 0) - cpu0) / (performance.now() - t0);
  const pct = round(cpuPerWallMs * 100, 2) ?? 0;
  const toUs = process.hrtime.bigint() / 1000n;
  // The span, for `bench/profile.ts <focus profile> --between=…` (BENCH_PROFILE_DIR).
  log(`  idle (peers connected, no media): CPU ${pct} % (monotonic µs ${fromUs}-${toUs})`);
  return { pct, cpuPerWallMs };
}

/** The window's point, and its raw CPU and wall milliseconds (for the figures above the idle cost). */
async function measure(
  prep: Prepared,
  subs: number,
  seconds: number,
): Promise<Omit<FanoutPoint, 'target'> & { raw: { cpuMs: number; wallMs: number } }> {
  const { joins } = prep;
  const w = await measureWindow({ ...prep, seconds });
  const { ends, wallMs, hostEnd } = w;
  const c0 = w.hostStart;

  const pubEnd = ends[0]!;
  const sent = pubEnd.sent.audio + pubEnd.sent.video;
  const received = ends.slice(1).flatMap((e) => e.received);
  const delivered = received.reduce((n, r) => n + r.audio + r.video, 0);
  const duplicates = received.reduce((n, r) => n + r.duplicates, 0);
  // Delivery is judged on video packets SENT within the window (their send time is in the payload), so
  // the processes' windows need not line up; CPU per packet uses every packet delivered in the window.
  const expected = pubEnd.videoSentInWindow * subs;
  const deliveredInWindow = received.reduce((n, r) => n + r.videoInWindow, 0);
  const serverCpu = w.serverCpuMs;
  const clientCpuPct = ends.map((e) => round((e.cpuMs / e.wallMs) * 100) ?? 0);
  const saturated = clientCpuPct.some((p) => p > SATURATED * 100);
  const lat = ends
    .slice(1)
    .flatMap((e) => e.latencyMs)
    .sort((a, b) => a - b);
  const sortedJoins = [...joins].sort((a, b) => a - b);
  const c1 = hostEnd?.counters;
  return {
    raw: { cpuMs: serverCpu, wallMs },
    subs,
    seconds: round(wallMs / 1000, 2) ?? seconds,
    inPps: round((sent * 1000) / wallMs) ?? 0,
    outPps: round((delivered * 1000) / wallMs) ?? 0,
    sfuCpuPct: round((serverCpu / wallMs) * 100) ?? 0,
    usPerForwarded: round(delivered > 0 ? (serverCpu * 1000) / delivered : undefined),
    usPerReceived: round(sent > 0 ? (serverCpu * 1000) / sent : undefined),
    delivered,
    duplicates,
    expected,
    deliveredRatio: round(expected > 0 ? deliveredInWindow / expected : 0, 4) ?? 0,
    latencyMs: quantiles(lat, ['p50', 'p95', 'p99', 'max'], 2),
    subscribeToFirstRtpMs: quantiles(sortedJoins, ['p50', 'max']),
    clientCpuPct,
    valid: !saturated,
    overloaded: expected > 0 && deliveredInWindow / expected < OVERLOADED_BELOW,
    ...(saturated ? { invalidReason: 'a load process was saturated (> 90 % of a core)' } : {}),
    ...(w.serverRssBytes !== undefined ? { sfuRssBytes: w.serverRssBytes } : {}),
    ...(w.kernelUdpDrops !== undefined ? { kernelUdpDrops: w.kernelUdpDrops } : {}),
    ...(hostEnd !== undefined && c1 !== undefined
      ? {
          sfuLagMaxMs: round(hostEnd.lagMaxMs) ?? 0,
          ...(hostEnd.receiveWaitMaxMs !== undefined
            ? { sfuReceiveWaitMaxMs: round(hostEnd.receiveWaitMaxMs) ?? 0 }
            : {}),
          nackSent: delta(c0, c1, 'sfu_nack_sent_total'),
          nackReceived: delta(c0, c1, 'sfu_nack_received_total'),
          retransmitted: delta(c0, c1, 'sfu_retransmitted_packets_total{result=sent}'),
          segmented: {
            datagrams: delta(c0, c1, 'sfu_udp_gso_total{kind=datagrams}'),
            messages: delta(c0, c1, 'sfu_udp_gso_total{kind=messages}'),
          },
          ...gcOf(c0, c1),
        }
      : {}),
  };
}

function gcOf(c0: Record<string, number>, c1: Record<string, number>): { gc?: GcPauses } {
  const gc = gcPauses(c0, c1);
  return gc === undefined ? {} : { gc };
}

/**
 * `cascade`: one publisher on focus A (synthetic 3-layer VP8 simulcast + Opus, the `meeting` layers), N
 * subscribers at 1280×720 on each remote focus (B; with `--mesh` also C) and N on A. Each point is a fresh
 * homeserver serving a.example, b.example[, c.example] with one real focus process per name
 * (bench/lib/cascadeHost.ts), and three windows:
 *
 * - w0: the publisher alone (A's ingest cost);
 * - w1: + the remote subscribers: A now sends the demanded layers on its link(s). CPU per trunk packet at A =
 *   (A's CPU rate in w1 − in w0) ÷ trunk packet rate; trunk packets (A's `sfu_link_rtp_packets_total`
 *   direction out, else the remote foci's direction in) ÷ the demanded layers' packets (the publisher's packets of
 *   every layer the remote subscribers received, + audio);
 * - w2: + the local subscribers on A: CPU per locally forwarded packet = (A's CPU rate in w2 − in w1) ÷ the
 *   rate of distinct packets A's subscribers received. The added latency of the hop is measured here: a probe
 *   process holds one subscriber on A and one on B; per packet (by the send time in its payload) the B arrival
 *   minus the A arrival, both on the machine's monotonic clock. Delivery per side: distinct video packets sent in
 *   the window and received ÷ what was sent × subscribers.
 *
 * In the mesh, the remote foci must send nothing on their links (the loop rule: B and C have no publisher).
 * Until links between foci work, the first remote subscriber finds no relayed stream and the point fails with
 * CascadeUnavailableError, within about 30 s.
 */
import { setPriority } from 'node:os';
import { delta, deltaAll, deltaByLabels, measure, type Win } from '../lib/cascadeWindow.js';
import { BenchProcesses } from '../lib/processes.js';
import type { Child } from '../lib/rpc.js';
import { quantiles, round } from '../lib/stats.js';
import type { Env, UserCreds, WindowEnd } from '../lib/worker.js';
import { LAYERS } from '../lib/meetingLoad.js';

export class CascadeUnavailableError extends Error {
  override name = 'CascadeUnavailableError';
}

const WANT = { width: 1280, height: 720 };
/** Received packets per second one werift load process is given at most (performance.md §2). */
const PPS_PER_WORKER = 6000;
const SUB_PPS = 270 + 50;
const SATURATED = 0.9;
const LINK_PACKETS = 'sfu_link_rtp_packets_total';

export interface CascadePoint {
  foci: number;
  /** Subscribers on A, and on each remote focus. */
  subsNear: number;
  subsFar: number;
  seconds: number;
  cpu: {
    /** Focus A's CPU, % of one core, per window. */
    aPct: { w0: number; w1: number; w2: number };
    usPerTrunkPacket: number | undefined;
    usPerLocalPacket: number | undefined;
    /**
     * usPerTrunkPacket ÷ usPerLocalPacket (target ≤ 0.8); undefined when either is not positive (the CPU
     * difference between two windows was within measurement noise: use longer windows).
     */
    trunkOverLocal: number | undefined;
    /** Every focus's CPU in w2, % of one core. */
    fociPctW2: Record<string, number>;
    /**
     * Packets A sent in w2 on its trunk and to its local subscribers (received by them): with a CPU profile of A
     * (BENCH_PROFILE_DIR) and `bench/pathCost.ts <profile> <w2 from> <w2 to>`, each path's µs per packet from
     * the same window.
     */
    w2Packets: { trunk: number | undefined; local: number };
    /** The windows' bounds, monotonic ms (the CPU profile's clock). */
    windowsMs: { w0: number[]; w1: number[]; w2: number[] };
  };
  trunk: {
    /** RTP packets A sent on its links in w1 (undefined: the focus exports no link counter). */
    packets: number | undefined;
    /** Where `packets` came from. */
    source: string;
    /** Packets of the layers the remote subscribers received (+ audio), sent by the publisher in w1. */
    demandedPackets: number;
    demandedLayers: string[];
    /** What the publisher sent in w1, per layer and audio (for reading `ratio`). */
    sentInW1: Record<string, number>;
    /** RTP packets the remote foci counted in on their links in w1 (a cross-check of `packets`). */
    remoteIn: number | undefined;
    /** packets ÷ (demandedPackets × links) (target ≤ 1.02). */
    ratio: number | undefined;
    /** Mesh: link packets the remote foci SENT in w2 (the loop rule says 0). */
    remoteSent?: Record<string, number>;
  };
  hopMs: { p50?: number; p95?: number; max?: number; samples: number };
  /**
   * The same hop read at the probe's two sockets (far − near arrival by the kernel's receive timestamps: without
   * the probe process's own delay in reading either); absent when not measured (no native add-on).
   */
  hopAtSocketMs?: { p50?: number; p95?: number; max?: number; samples: number };
  delivered: { near: number; far: number };
  /** Relinks (§8.7) per focus in w1 and w2: a link that broke while measured explains a dark far side. */
  relinks: { w1: Record<string, number>; w2: Record<string, number> };
  /** Call sessions ended per focus in w2 (any reason: revocation, keep-alive, hangup). */
  endedW2: Record<string, number>;
  /** RTP sends per focus in w2 by outcome (`sfu_rtp_sends_total{path}`): where forwarded packets went. */
  sendsW2: Record<string, Record<string, number>>;
  /** Membership revocations per focus in w2. */
  revokedW2: Record<string, number>;
  /**
   * For reading a dark far side: per focus, w2's change of the packet counters (link packets by direction,
   * received and dropped RTP by reason, keyframe requests, layer switches) and the link gauges at w2's end.
   */
  diagW2: Record<string, { deltas: Record<string, number>; gauges: Record<string, number> }>;
  /** w2: subscribers by the layer most of their video came on (`none`: no video), per side. */
  layersW2: { near: Record<string, number>; far: Record<string, number> };
  clientCpuPct: number[];
  valid: boolean;
  invalidReason?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function workersFor(subs: number): number {
  return Math.max(1, Math.ceil((subs * SUB_PPS) / PPS_PER_WORKER));
}

const DIAG_COUNTERS = [
  LINK_PACKETS,
  'sfu_rtp_packets_total',
  'sfu_rtp_dropped_total',
  'sfu_keyframe_requests_total',
  'sfu_layer_switches_total',
];
const DIAG_GAUGES = ['sfu_link_estimate_bps', 'sfu_link_bitrate_bps', 'sfu_links'];

function diagnostics(w: Win, server: string): CascadePoint['diagW2'][string] {
  const deltas: Record<string, number> = {};
  for (const name of DIAG_COUNTERS) {
    for (const [labels, d] of Object.entries(deltaByLabels(w, server, name))) {
      deltas[`${name}${labels}`] = d;
    }
  }
  const gauges: Record<string, number> = {};
  for (const [key, v] of Object.entries(w.after[server] ?? {})) {
    if (DIAG_GAUGES.some((g) => key === g || key.startsWith(`${g}{`))) {
      gauges[key] = v;
    }
  }
  return { deltas, gauges };
}

/** Joins `users` as subscribers of `owner` through `env`, spread over `workers`. */
async function joinSubscribers(
  workers: Child[],
  env: Env,
  users: UserCreds[],
  owner: string,
  hop?: 'near' | 'far',
): Promise<void> {
  await Promise.all(
    workers.map((w, i) => {
      const mine = users.filter((_, j) => j % workers.length === i);
      return mine.length === 0
        ? Promise.resolve()
        : w.call('subscribers', { env, users: mine, owner, ...WANT, ...(hop ? { hop } : {}) }, 120_000);
    }),
  );
}

export async function cascadePoint(
  subs: number,
  seconds: number,
  log: (s: string) => void,
  opts: { mesh?: boolean; warmupS?: number; niceLoad?: number } = {},
): Promise<CascadePoint> {
  const warmupS = opts.warmupS ?? 3;
  const names = opts.mesh === true ? ['a.example', 'b.example', 'c.example'] : ['a.example', 'b.example'];
  const [nearName, ...farNames] = names as [string, ...string[]];
  const procs = new BenchProcesses();
  try {
    const { host, roomId, foci } = await procs.cascadeHost(names);
    const envOf = (name: string): Env => {
      const f = foci.find((x) => x.serverName === name)!;
      return { hsUrl: f.hsUrl, roomId, focus: f.focus };
    };
    const user = (localpart: string, serverName: string) =>
      host.call<UserCreds>('user', { localpart, serverName });
    // Every load process starts at once (each takes seconds to load werift): publisher, probe, far, near.
    const farCount = (name: string) => (name === farNames[0] ? subs - 1 : subs);
    const farNamesWithSubs = farNames.filter((name) => farCount(name) > 0);
    const loadNames = [
      'cascade-publisher',
      'cascade-hop-probe',
      ...farNamesWithSubs.flatMap((name) =>
        Array.from({ length: workersFor(farCount(name)) }, (_, i) => `far-${name}-${i}`),
      ),
      ...(subs > 1 ? Array.from({ length: workersFor(subs - 1) }, (_, i) => `near-${i}`) : []),
    ];
    const all = await procs.workers(loadNames);
    const byName = (prefix: string) => all.filter((w) => w.name.startsWith(prefix));
    const pub = byName('cascade-publisher')[0]!;
    const probe = byName('cascade-hop-probe')[0]!;
    const pubUser = await user('pub', nearName);
    await pub.call('cascadePublisher', { env: envOf(nearName), user: pubUser, layers: LAYERS }, 120_000);
    log(
      `cascade ${subs} (${names.length} foci: ${foci.map((f) => `${f.serverName} pid ${f.pid}`).join(', ')}): ` +
        `publisher on ${nearName}; w0 (publisher alone) ${seconds} s`,
    );
    await sleep(warmupS * 1000);
    const w0 = await measure(host, foci, [pub], seconds);
    log(`cascade ${subs}: w0 monotonic ms ${Math.round(w0.fromMs)}–${Math.round(w0.toMs)}`);

    // The far side of the probe first: the first sign that links work (or not).
    try {
      await joinSubscribers(
        [probe],
        envOf(farNames[0]!),
        [await user('probefar', farNames[0]!)],
        pubUser.userId,
        'far',
      );
    } catch (e) {
      const cause = e instanceof Error ? e.message : String(e);
      const tail = await host.call<string>('output', { serverName: farNames[0]! }).catch(() => '');
      const log = tail === '' ? '' : `\n--- ${farNames[0]!} focus output (tail) ---\n${tail}`;
      if (/in the metadata/.test(cause)) {
        throw new CascadeUnavailableError(
          `no relayed stream of ${pubUser.userId} (on ${nearName}) reached a subscriber on ${farNames[0]!}: ` +
            `links between foci (protocol.md §8) do not work in this build (${cause})${log}`,
        );
      }
      throw new Error(`the first subscriber on ${farNames[0]!} could not join: ${cause}${log}`, { cause: e });
    }
    const farWorkers: Child[] = [];
    for (const name of farNamesWithSubs) {
      const count = farCount(name);
      const ws = byName(`far-${name}-`);
      farWorkers.push(...ws);
      const users: UserCreds[] = [];
      for (let j = 0; j < count; j++) {
        users.push(await user(`far${j}`, name));
      }
      await joinSubscribers(ws, envOf(name), users, pubUser.userId);
    }
    log(`cascade ${subs}: ${subs} subscriber(s) on each of ${farNames.join(', ')}; w1 ${seconds} s`);
    await sleep(warmupS * 1000);
    const w1 = await measure(host, foci, [pub, probe, ...farWorkers], seconds);
    log(`cascade ${subs}: w1 monotonic ms ${Math.round(w1.fromMs)}–${Math.round(w1.toMs)}`);

    await joinSubscribers(
      [probe],
      envOf(nearName),
      [await user('probenear', nearName)],
      pubUser.userId,
      'near',
    );
    const nearWorkers = byName('near-');
    if (subs > 1) {
      const users: UserCreds[] = [];
      for (let j = 0; j < subs - 1; j++) {
        users.push(await user(`near${j}`, nearName));
      }
      await joinSubscribers(nearWorkers, envOf(nearName), users, pubUser.userId);
    }
    const niceLoad = opts.niceLoad ?? 0;
    if (niceLoad !== 0) {
      // w2 only (everyone has joined: reniced earlier, a worker's ten handshakes at once could starve past the
      // 20-s connect timeout); the probe measures, so it stays at the foci's priority.
      for (const w of all) {
        if (w.name !== 'cascade-hop-probe') {
          setPriority(w.pid, niceLoad);
        }
      }
    }
    log(
      `cascade ${subs}: + ${subs} subscriber(s) on ${nearName}; w2 ${seconds} s${niceLoad !== 0 ? ` (load at nice ${niceLoad})` : ''}`,
    );
    await sleep(warmupS * 1000);
    const loads2 = [pub, probe, ...farWorkers, ...nearWorkers];
    const w2 = await measure(host, foci, loads2, seconds);
    log(`cascade ${subs}: w2 monotonic ms ${Math.round(w2.fromMs)}–${Math.round(w2.toMs)}`);
    const point = summarise({ subs, seconds, names, w0, w1, w2, farWorkers, nearWorkers });
    if (point.delivered.far < 0.5) {
      for (const n of names) {
        const lines = await host.call<string>('warnings', { serverName: n }).catch(() => '');
        log(
          `cascade ${subs}: far side dark; ${n}'s warnings and errors:\n${lines === '' ? '(none)' : lines}`,
        );
      }
    }
    return point;
  } finally {
    await procs.stopAll();
  }
}

function summarise(o: {
  subs: number;
  seconds: number;
  names: string[];
  w0: Win;
  w1: Win;
  w2: Win;
  farWorkers: Child[];
  nearWorkers: Child[];
}): CascadePoint {
  const { w0, w1, w2, names } = o;
  const [near, ...far] = names as [string, ...string[]];
  const rate = (w: Win, name: string) => (w.cpuMs[name] ?? 0) / w.wallMs; // ms CPU per ms
  // w1 loads: [pub, probe, ...far]; w2 loads: [pub, probe, ...far, ...near]. The probe's received[0] is its
  // far subscriber, received[1] (w2) its near one.
  const pubEnd1 = w1.ends[0]!;
  const farReceived1 = w1.ends.slice(1).flatMap((e) => e.received);
  const layerByWidth = new Map(LAYERS.map((l) => [l.width, l.rid]));
  const demandedLayers = new Set<string>();
  for (const r of farReceived1) {
    const total = Object.values(r.videoByWidth).reduce((a, b) => a + b, 0);
    for (const [w, n] of Object.entries(r.videoByWidth)) {
      if (n > total * 0.01) {
        demandedLayers.add(layerByWidth.get(Number(w)) ?? `width ${w}`);
      }
    }
  }
  const demandedPackets =
    [...demandedLayers].reduce((n, rid) => n + (pubEnd1.simulcastSentInWindow[rid] ?? 0), 0) +
    pubEnd1.sent.audio;
  let packets = delta(w1, near, LINK_PACKETS, 'direction=out');
  let source = `${near} ${LINK_PACKETS}{direction=out}`;
  if (packets === undefined) {
    const ins = far.map((f) => delta(w1, f, LINK_PACKETS, 'direction=in'));
    packets = ins.every((x) => x !== undefined) ? ins.reduce((a, b) => a + b, 0) : undefined;
    source =
      packets === undefined ? `no ${LINK_PACKETS} exported` : `remote foci ${LINK_PACKETS}{direction=in}`;
  }
  const trunkRate = packets === undefined ? undefined : packets / w1.wallMs;
  const usPerTrunkPacket =
    trunkRate === undefined || trunkRate === 0
      ? undefined
      : ((rate(w1, near) - rate(w0, near)) / trunkRate) * 1000;
  const nearEnds = w2.ends.slice(2 + o.farWorkers.length);
  const probe2 = w2.ends[1]!;
  const nearReceived = [
    ...(probe2.received[1] !== undefined ? [probe2.received[1]] : []),
    ...nearEnds.flatMap((e) => e.received),
  ];
  const localRate = nearReceived.reduce((n, r) => n + r.audio + r.video, 0) / w2.wallMs;
  const usPerLocalPacket =
    localRate === 0 ? undefined : ((rate(w2, near) - rate(w1, near)) / localRate) * 1000;
  const fSent2 = w2.ends[0]!.simulcastSentInWindow['f'] ?? 0;
  const farReceived2 = [
    probe2.received[0]!,
    ...w2.ends.slice(2, 2 + o.farWorkers.length).flatMap((e) => e.received),
  ];
  const deliveredRatio = (rs: WindowEnd['received']) =>
    fSent2 === 0 || rs.length === 0
      ? 0
      : (round(rs.reduce((n, r) => n + r.videoInWindow, 0) / (fSent2 * rs.length), 4) ?? 0);
  const byMainLayer = (rs: WindowEnd['received']): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of rs) {
      const top = Object.entries(r.videoByWidth).sort((x, y) => y[1] - x[1])[0];
      const rid = top === undefined ? 'none' : (layerByWidth.get(Number(top[0])) ?? `width ${top[0]}`);
      out[rid] = (out[rid] ?? 0) + 1;
    }
    return out;
  };
  const hop = probe2.hopMs.slice().sort((a, b) => a - b);
  const hopAtSocket = probe2.hopAtSocketMs.slice().sort((a, b) => a - b);
  const clientCpuPct = w2.ends.map((e) => round((e.cpuMs / e.wallMs) * 100) ?? 0);
  const saturated = clientCpuPct.some((p) => p > SATURATED * 100);
  const remoteSent =
    far.length > 1
      ? Object.fromEntries(far.map((f) => [f, delta(w2, f, LINK_PACKETS, 'direction=out') ?? -1]))
      : undefined;
  return {
    foci: names.length,
    subsNear: o.subs,
    subsFar: o.subs,
    seconds: round(w2.wallMs / 1000, 2) ?? o.seconds,
    cpu: {
      aPct: {
        w0: round(rate(w0, near) * 100) ?? 0,
        w1: round(rate(w1, near) * 100) ?? 0,
        w2: round(rate(w2, near) * 100) ?? 0,
      },
      usPerTrunkPacket: round(usPerTrunkPacket),
      usPerLocalPacket: round(usPerLocalPacket),
      trunkOverLocal:
        usPerTrunkPacket === undefined ||
        usPerLocalPacket === undefined ||
        usPerTrunkPacket <= 0 ||
        usPerLocalPacket <= 0
          ? undefined
          : round(usPerTrunkPacket / usPerLocalPacket, 2),
      fociPctW2: Object.fromEntries(names.map((n) => [n, round(rate(w2, n) * 100) ?? 0])),
      w2Packets: {
        trunk: delta(w2, near, LINK_PACKETS, 'direction=out'),
        local: nearReceived.reduce((n, r) => n + r.audio + r.video, 0),
      },
      windowsMs: {
        w0: [Math.round(w0.fromMs), Math.round(w0.toMs)],
        w1: [Math.round(w1.fromMs), Math.round(w1.toMs)],
        w2: [Math.round(w2.fromMs), Math.round(w2.toMs)],
      },
    },
    trunk: {
      packets,
      source,
      demandedPackets,
      demandedLayers: [...demandedLayers].sort(),
      sentInW1: { ...pubEnd1.simulcastSentInWindow, audio: pubEnd1.sent.audio },
      remoteIn: far.reduce<number | undefined>((n, f) => {
        const v = delta(w1, f, LINK_PACKETS, 'direction=in');
        return n === undefined || v === undefined ? undefined : n + v;
      }, 0),
      ratio:
        packets === undefined || demandedPackets === 0
          ? undefined
          : round(packets / (demandedPackets * far.length), 3),
      ...(remoteSent !== undefined ? { remoteSent } : {}),
    },
    hopMs: { ...quantiles(hop, ['p50', 'p95', 'max'], 2), samples: hop.length },
    ...(hopAtSocket.length > 0
      ? {
          hopAtSocketMs: { ...quantiles(hopAtSocket, ['p50', 'p95', 'max'], 2), samples: hopAtSocket.length },
        }
      : {}),
    delivered: { near: deliveredRatio(nearReceived), far: deliveredRatio(farReceived2) },
    layersW2: { near: byMainLayer(nearReceived), far: byMainLayer(farReceived2) },
    relinks: {
      w1: Object.fromEntries(names.map((n) => [n, deltaAll(w1, n, 'sfu_link_relinks_total')])),
      w2: Object.fromEntries(names.map((n) => [n, deltaAll(w2, n, 'sfu_link_relinks_total')])),
    },
    endedW2: Object.fromEntries(names.map((n) => [n, deltaAll(w2, n, 'sfu_sessions_ended_total')])),
    sendsW2: Object.fromEntries(names.map((n) => [n, deltaByLabels(w2, n, 'sfu_rtp_sends_total')])),
    revokedW2: Object.fromEntries(names.map((n) => [n, deltaAll(w2, n, 'sfu_membership_revocations_total')])),
    diagW2: Object.fromEntries(names.map((n) => [n, diagnostics(w2, n)])),
    clientCpuPct,
    valid: !saturated,
    ...(saturated ? { invalidReason: 'a load process was saturated (> 90 % of a core)' } : {}),
  };
}

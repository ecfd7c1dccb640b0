/**
 * `cascade-cpu`: the sending focus's CPU per trunk packet against its CPU per locally forwarded packet, measured
 * with the rest of the machine's load held still (the `cascade` scenario's windows add the far side's whole load
 * between its CPU windows, and on a 2-core host that moves A's own figure by more than the trunk costs).
 *
 * Two foci, A and B. K publishers on A (the `meeting` layers: synthetic 3-layer VP8 simulcast + Opus) and K decoy
 * publishers on B (the same layers); K subscribers on B ("far") and K on A ("near"), each at 1280×720 (f + audio).
 * Three arrangements, measured in rotating order in every round:
 *
 * - base:  far j watches decoy j (on B); near j watches nothing;
 * - trunk: far j watches publisher j (on A, through the trunk); near j watches nothing;
 * - local: far j watches decoy j; near j watches publisher j.
 *
 * Between base and trunk, A adds only the trunk (the far subscribers receive as much either way, B ingests the
 * trunk instead of nothing extra: it ingests the decoys in every arrangement); between base and local, A adds
 * only the local forwarding (the near subscribers' receiving is the one load that moves elsewhere). That holds
 * when A reads publisher j's 1280×720 layer in base too, where nobody watches it: so the foci run with
 * `media.skip_unwatched_layers` off unless `--skip-unwatched` (then both differences also carry the layer's
 * decryption and ingest, the first viewer's cost, which trunk and local share). Per round:
 * µs per trunk packet = (A's CPU rate in trunk − in base) ÷ trunk packet rate (A's `sfu_link_rtp_packets_total`
 * out); µs per local packet = (A's CPU rate in local − in base) ÷ the rate of distinct packets the near subscribers
 * received. The ratio is reported per round and pooled (every round's differences summed).
 *
 * Before each window both foci run a full GC (SIGUSR2 to bench/lib/gcOnSignal.js, loaded with `--expose-gc`),
 * so the garbage of the arrangement before is not collected inside it; each window's GC is reported.
 * BENCH_DEBUG_COUNTERS=1 logs A's send, retransmission, NACK and drop counters per window (what a path did).
 */
import { fileURLToPath } from 'node:url';
import { delta, measure, type Win } from '../lib/cascadeWindow.js';
import { loadCpus, pin } from '../lib/pin.js';
import { BenchProcesses } from '../lib/processes.js';
import { round, spread, type Spread } from '../lib/stats.js';
import type { Env, UserCreds } from '../lib/worker.js';
import { LAYERS } from '../lib/meetingLoad.js';

const LINK_PACKETS = 'sfu_link_rtp_packets_total';
const GC = 'nodejs_gc_duration_seconds';
/** Loaded into the foci: a full GC on SIGUSR2, asked for before each window. */
const GC_ON_SIGNAL = fileURLToPath(new URL('../lib/gcOnSignal.js', import.meta.url));
/**
 * After the full GC, before the window: its concurrent sweeping done, and the optimized code it invalidated
 * compiled again. A full GC frees the maps and objects that optimized code embeds weakly, and V8 throws that
 * code away: with `--trace-deopt`, 22–44 functions of A (the hot path's among them) were marked for
 * deoptimization at every window's GC, their recompiles on V8's helper threads inside a window 0.5 s later.
 */
const GC_SETTLE_MS = 3000;
/** After a retarget, before a window: keyframe, layer choice and the trunk's demand settle. */
const SETTLE_MS = 3000;
const ARRANGEMENTS = ['base', 'trunk', 'local'] as const;
/** `cascade.max_link_bps` of both foci unless BENCH_MAX_LINK_BPS is set. */
const UNCAPPED_LINK_BPS = 100_000_000;
type Arrangement = (typeof ARRANGEMENTS)[number];

export interface CascadeCpuRound {
  order: Arrangement[];
  /** Focus A's and B's CPU, % of one core, per arrangement. */
  aPct: Record<Arrangement, number>;
  bPct: Record<Arrangement, number>;
  trunkPps: number;
  localPps: number;
  usPerTrunkPacket: number | undefined;
  usPerLocalPacket: number | undefined;
  trunkOverLocal: number | undefined;
  /**
   * The same split by mode: user (the focus's own code) and system (its system calls — on loopback a send also
   * delivers the datagram to the receiving socket and wakes its process, charged to the sender).
   */
  split: { user: PathUs; system: PathUs };
  /**
   * The same difference by thread (scheduler run time): the main thread (the event loop: forwarding, the
   * encryption, the sends) and the others (V8's GC and compiler helpers) — where a gap between the paths lives.
   */
  threads: { main: PathUs; helpers: PathUs };
  /**
   * Focus A's garbage collection in each arrangement's window (prom-client's `nodejs_gc_duration_seconds`):
   * pauses and their total, ms per second of the window — all kinds, and the young generation's (`minor`).
   */
  gc: Record<Arrangement, { perS: number; msPerS: number; minorMsPerS: number }>;
  /** Each arrangement's window, monotonic ms (a focus CPU profile's clock, for `bench/profile.ts --window`). */
  windowsMs: Record<Arrangement, [number, number]>;
}

export interface PathUs {
  trunk: number | undefined;
  local: number | undefined;
}

export interface CascadeCpuResult {
  pairs: number;
  /** The foci's `media.skip_unwatched_layers` (false: base reads the layer trunk and local then forward). */
  skipUnwatched: boolean;
  /** A on CPU 0 alone, everything else on the other CPUs (`--pin`). */
  pinned: boolean;
  seconds: number;
  rounds: CascadeCpuRound[];
  /** Over the rounds' ratios (only rounds where both differences were positive). */
  trunkOverLocal: Spread | undefined;
  /** Every round's CPU differences and packets summed, then divided. */
  pooled: {
    usPerTrunkPacket: number | undefined;
    usPerLocalPacket: number | undefined;
    trunkOverLocal: number | undefined;
    user: PathUs & { trunkOverLocal: number | undefined };
    system: PathUs;
    main: PathUs & { trunkOverLocal: number | undefined };
    helpers: PathUs;
  };
  /** Client load processes' CPU in the last window, % of one core (over 90 %: the figure is suspect). */
  clientCpuPct: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rotates the arrangements by the round number, so no arrangement is always first (drift cancels). */
export function orderOf(roundIndex: number): Arrangement[] {
  const k = roundIndex % ARRANGEMENTS.length;
  return [...ARRANGEMENTS.slice(k), ...ARRANGEMENTS.slice(0, k)];
}

/** µs of CPU per packet: the CPU rate difference (ms per ms) over the packet rate (per ms); undefined if not positive. */
export function usPerPacket(cpuRateDiff: number, packetsPerMs: number): number | undefined {
  if (packetsPerMs <= 0 || cpuRateDiff <= 0) {
    return undefined;
  }
  return (cpuRateDiff / packetsPerMs) * 1000;
}

export async function cascadeCpu(
  pairs: number,
  seconds: number,
  rounds: number,
  log: (s: string) => void,
  opts: { skipUnwatched: boolean; pin?: boolean },
): Promise<CascadeCpuResult> {
  const procs = new BenchProcesses();
  try {
    const { host, roomId, foci } = await procs.cascadeHost(['a.example', 'b.example'], {
      ...opts,
      focusFlags: ['--expose-gc', `--import=${GC_ON_SIGNAL}`],
      // The trunk's cap lifted unless BENCH_MAX_LINK_BPS says otherwise: 8 pairs demand ≈ 21 Mbit/s, over the
      // 20-Mbit/s default, and a paused layer would make this measure congestion control, not forwarding.
      ...(process.env['BENCH_MAX_LINK_BPS'] === undefined ? { maxLinkBps: UNCAPPED_LINK_BPS } : {}),
    });
    const [a, b] = foci as [(typeof foci)[number], (typeof foci)[number]];
    const env = (f: typeof a): Env => ({ hsUrl: f.hsUrl, roomId, focus: f.focus });
    const user = (localpart: string, serverName: string) =>
      host.call<UserCreds>('user', { localpart, serverName });
    const [pubA, pubB, far, near] = await procs.workers(['cpu-pub-a', 'cpu-pub-b', 'cpu-far', 'cpu-near']);
    if (opts.pin === true) {
      // A alone on CPU 0; B, the homeserver, the load and the bench on the others: A's figures then hold
      // no other process's contention for its core (its own V8 helper threads share it).
      const others = loadCpus();
      pin(a.pid, '0');
      for (const pid of [b.pid, host.pid, process.pid, pubA!.pid, pubB!.pid, far!.pid, near!.pid]) {
        pin(pid, others);
      }
    }
    const users = async (prefix: string, serverName: string) => {
      const out: UserCreds[] = [];
      for (let j = 0; j < pairs; j++) {
        out.push(await user(`${prefix}${j}`, serverName));
      }
      return out;
    };
    const pubs = await users('pub', a.serverName);
    const decoys = await users('decoy', b.serverName);
    // One group after the other (with `--pin` all of the load shares one core: joins at once missed their waits).
    await pubA!.call('meetingJoin', { env: env(a), users: pubs, layers: LAYERS }, 120_000);
    await pubB!.call('meetingJoin', { env: env(b), users: decoys, layers: LAYERS }, 120_000);
    await far!.call('targetSubscribers', { env: env(b), users: await users('far', b.serverName) }, 120_000);
    await near!.call('targetSubscribers', { env: env(a), users: await users('near', a.serverName) }, 120_000);
    const ids = (us: UserCreds[]) => us.map((u) => u.userId);
    const none = pubs.map(() => null);
    const arrange = async (x: Arrangement) => {
      // Stop before start: the near side first when it stops, the far side first when the trunk starts.
      const farOwners = x === 'trunk' ? ids(pubs) : ids(decoys);
      const nearOwners = x === 'local' ? ids(pubs) : none;
      await near!.call('retarget', { owners: nearOwners }, 120_000);
      await far!.call('retarget', { owners: farOwners }, 120_000);
    };
    const loads = [pubA!, pubB!, far!, near!];
    const out: CascadeCpuRound[] = [];
    const sums = { trunkCpu: 0, trunkSys: 0, trunkPkts: 0, localCpu: 0, localSys: 0, localPkts: 0 };
    const thSums = { trunkMain: 0, trunkHelpers: 0, localMain: 0, localHelpers: 0 };
    let clientCpuPct: number[] = [];
    log(
      `cascade-cpu: ${pairs} publisher(s) on A (pid ${a.pid}), ${pairs} decoy(s) on B (pid ${b.pid}); ${rounds} round(s) of 3 × ${seconds} s`,
    );
    for (let r = 0; r < rounds; r++) {
      const order = orderOf(r);
      const wins = {} as Record<Arrangement, Win>;
      for (const x of order) {
        try {
          await arrange(x);
        } catch (e) {
          const c = await host.call<Record<string, Record<string, number>>>('counters').catch(() => ({}));
          for (const w of [far!, near!]) {
            const st = await w.call<unknown>('targetState').catch((err: unknown) => String(err));
            log(`cascade-cpu: ${w.name} subscribers: ${JSON.stringify(st, null, 1)}`);
          }
          for (const [server, m] of Object.entries(c)) {
            const keep = Object.entries(m).filter(([k]) => /link|dropped|keyframe|switch/.test(k));
            log(`cascade-cpu: ${server} counters: ${JSON.stringify(Object.fromEntries(keep))}`);
          }
          for (const f of foci) {
            const lines = await host.call<string>('warnings', { serverName: f.serverName }).catch(() => '');
            log(
              `cascade-cpu: ${x} failed; ${f.serverName}'s warnings and errors:\n${lines === '' ? '(none)' : lines}`,
            );
          }
          throw e;
        }
        await sleep(SETTLE_MS);
        // A full GC in both foci first: the garbage of the arrangement before is not collected in this window.
        for (const f of foci) {
          process.kill(f.pid, 'SIGUSR2');
        }
        await sleep(GC_SETTLE_MS);
        wins[x] = await measure(host, foci, loads, seconds);
      }
      const rate = (x: Arrangement, name: string) => (wins[x].cpuMs[name] ?? 0) / wins[x].wallMs;
      const sysRate = (x: Arrangement) => (wins[x].systemMs[a.serverName] ?? 0) / wins[x].wallMs;
      const trunkPkts = delta(wins.trunk, a.serverName, LINK_PACKETS, 'direction=out') ?? 0;
      if (process.env['BENCH_DEBUG_COUNTERS'] === '1') {
        for (const x of ARRANGEMENTS) {
          const w = wins[x];
          const keys = Object.keys(w.after[a.serverName] ?? {}).filter((k) =>
            /retransmit|nack|rtx|probe|send|udp|link|dropped|rtcp|keyframe/.test(k),
          );
          const d = Object.fromEntries(
            keys
              .map(
                (k) => [k, (w.after[a.serverName]?.[k] ?? 0) - (w.before[a.serverName]?.[k] ?? 0)] as const,
              )
              .filter(([, v]) => v !== 0),
          );
          log(`cascade-cpu debug ${x}: A ${JSON.stringify(d)}`);
        }
      }
      const nearEnd = wins.local.ends[3]!;
      const localPkts = nearEnd.received.reduce((n, x) => n + x.audio + x.video, 0);
      const trunkDiff = rate('trunk', a.serverName) - rate('base', a.serverName);
      const localDiff = rate('local', a.serverName) - rate('base', a.serverName);
      const usT = usPerPacket(trunkDiff, trunkPkts / wins.trunk.wallMs);
      const usL = usPerPacket(localDiff, localPkts / wins.local.wallMs);
      const sysT = sysRate('trunk') - sysRate('base');
      const sysL = sysRate('local') - sysRate('base');
      const split = {
        user: {
          trunk: round(usPerPacket(trunkDiff - sysT, trunkPkts / wins.trunk.wallMs)),
          local: round(usPerPacket(localDiff - sysL, localPkts / wins.local.wallMs)),
        },
        system: {
          trunk: round(usPerPacket(sysT, trunkPkts / wins.trunk.wallMs)),
          local: round(usPerPacket(sysL, localPkts / wins.local.wallMs)),
        },
      };
      const thRate = (x: Arrangement, kind: 'mainMs' | 'helpersMs') =>
        (wins[x][kind][a.serverName] ?? 0) / wins[x].wallMs;
      const thDiff = (x: 'trunk' | 'local', kind: 'mainMs' | 'helpersMs') =>
        thRate(x, kind) - thRate('base', kind);
      const threads = {
        main: {
          trunk: round(usPerPacket(thDiff('trunk', 'mainMs'), trunkPkts / wins.trunk.wallMs)),
          local: round(usPerPacket(thDiff('local', 'mainMs'), localPkts / wins.local.wallMs)),
        },
        helpers: {
          trunk: round(usPerPacket(thDiff('trunk', 'helpersMs'), trunkPkts / wins.trunk.wallMs)),
          local: round(usPerPacket(thDiff('local', 'helpersMs'), localPkts / wins.local.wallMs)),
        },
      };
      thSums.trunkMain += thDiff('trunk', 'mainMs') * wins.trunk.wallMs;
      thSums.trunkHelpers += thDiff('trunk', 'helpersMs') * wins.trunk.wallMs;
      thSums.localMain += thDiff('local', 'mainMs') * wins.local.wallMs;
      thSums.localHelpers += thDiff('local', 'helpersMs') * wins.local.wallMs;
      sums.trunkSys += sysT * wins.trunk.wallMs;
      sums.localSys += sysL * wins.local.wallMs;
      sums.trunkCpu += trunkDiff * wins.trunk.wallMs;
      sums.trunkPkts += trunkPkts;
      sums.localCpu += localDiff * wins.local.wallMs;
      sums.localPkts += localPkts;
      clientCpuPct = wins[order[order.length - 1]!].ends.map((e) => round((e.cpuMs / e.wallMs) * 100) ?? 0);
      const pct = (name: string) =>
        Object.fromEntries(ARRANGEMENTS.map((x) => [x, round(rate(x, name) * 100, 2) ?? 0])) as Record<
          Arrangement,
          number
        >;
      const row: CascadeCpuRound = {
        order,
        aPct: pct(a.serverName),
        bPct: pct(b.serverName),
        trunkPps: round((trunkPkts / wins.trunk.wallMs) * 1000) ?? 0,
        localPps: round((localPkts / wins.local.wallMs) * 1000) ?? 0,
        usPerTrunkPacket: round(usT),
        usPerLocalPacket: round(usL),
        trunkOverLocal: usT === undefined || usL === undefined ? undefined : round(usT / usL, 2),
        split,
        threads,
        gc: Object.fromEntries(
          ARRANGEMENTS.map((x) => {
            const w = wins[x];
            const perS = (v: number | undefined, scale: number) =>
              round(((v ?? 0) * scale * 1000) / w.wallMs, 2) ?? 0;
            return [
              x,
              {
                perS: perS(delta(w, a.serverName, `${GC}_count`), 1),
                msPerS: perS(delta(w, a.serverName, `${GC}_sum`), 1000),
                minorMsPerS: perS(delta(w, a.serverName, `${GC}_sum`, 'kind=minor'), 1000),
              },
            ];
          }),
        ) as CascadeCpuRound['gc'],
        windowsMs: Object.fromEntries(
          ARRANGEMENTS.map((x) => [x, [Math.round(wins[x].fromMs), Math.round(wins[x].toMs)]]),
        ) as Record<Arrangement, [number, number]>,
      };
      log(
        `cascade-cpu round ${r + 1} (${order.join(',')}): A % base/trunk/local ${row.aPct.base}/${row.aPct.trunk}/${row.aPct.local}, ` +
          `B % ${row.bPct.base}/${row.bPct.trunk}/${row.bPct.local}; trunk ${row.trunkPps} pkt/s ${row.usPerTrunkPacket ?? '-'} µs, ` +
          `local ${row.localPps} pkt/s ${row.usPerLocalPacket ?? '-'} µs (×${row.trunkOverLocal ?? '-'}); ` +
          `user µs trunk/local ${split.user.trunk ?? '-'}/${split.user.local ?? '-'}, system ${split.system.trunk ?? '-'}/${split.system.local ?? '-'}; ` +
          `main thread ${threads.main.trunk ?? '-'}/${threads.main.local ?? '-'}, helpers ${threads.helpers.trunk ?? '-'}/${threads.helpers.local ?? '-'}; ` +
          `A's GC ms/s base/trunk/local ${row.gc.base.msPerS}/${row.gc.trunk.msPerS}/${row.gc.local.msPerS} (minor ${row.gc.base.minorMsPerS}/${row.gc.trunk.minorMsPerS}/${row.gc.local.minorMsPerS})`,
      );
      out.push(row);
    }
    const pooledT =
      sums.trunkPkts > 0 && sums.trunkCpu > 0 ? (sums.trunkCpu / sums.trunkPkts) * 1000 : undefined;
    const pooledL =
      sums.localPkts > 0 && sums.localCpu > 0 ? (sums.localCpu / sums.localPkts) * 1000 : undefined;
    const per = (cpu: number, pkts: number) => (pkts > 0 && cpu > 0 ? (cpu / pkts) * 1000 : undefined);
    const userT = per(sums.trunkCpu - sums.trunkSys, sums.trunkPkts);
    const userL = per(sums.localCpu - sums.localSys, sums.localPkts);
    const mainT = per(thSums.trunkMain, sums.trunkPkts);
    const mainL = per(thSums.localMain, sums.localPkts);
    return {
      pairs,
      skipUnwatched: opts.skipUnwatched,
      pinned: opts.pin === true,
      seconds,
      rounds: out,
      trunkOverLocal: spread(out.flatMap((x) => (x.trunkOverLocal === undefined ? [] : [x.trunkOverLocal]))),
      pooled: {
        usPerTrunkPacket: round(pooledT),
        usPerLocalPacket: round(pooledL),
        trunkOverLocal:
          pooledT === undefined || pooledL === undefined ? undefined : round(pooledT / pooledL, 2),
        user: {
          trunk: round(userT),
          local: round(userL),
          trunkOverLocal: userT === undefined || userL === undefined ? undefined : round(userT / userL, 2),
        },
        system: {
          trunk: round(per(sums.trunkSys, sums.trunkPkts)),
          local: round(per(sums.localSys, sums.localPkts)),
        },
        main: {
          trunk: round(mainT),
          local: round(mainL),
          trunkOverLocal: mainT === undefined || mainL === undefined ? undefined : round(mainT / mainL, 2),
        },
        helpers: {
          trunk: round(per(thSums.trunkHelpers, sums.trunkPkts)),
          local: round(per(thSums.localHelpers, sums.localPkts)),
        },
      },
      clientCpuPct,
    };
  } finally {
    await procs.stopAll();
  }
}

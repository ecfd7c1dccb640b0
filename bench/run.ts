/**
 * `npm run bench -- <scenario> [options]`. Prints one JSON document on stdout (logs on stderr) and writes
 * it to bench/results/<scenario>-<time>.json. Everything runs on 127.0.0.1; every run is bounded in
 * participants, time and packet rate, and stops every process it started.
 *
 *   fanout  --subs 1,5,20 --seconds 10 --repeats 1     1 publisher × N subscribers
 *           [--vs janus]                               the same load on Janus's VideoRoom, alternating
 *   join    --joins 20                                 N subscribers joining one at a time: invite → RTP
 *   memory  --joins 50                                 the same, reported as SFU RSS per participant
 *   switch  --rounds 10                                320×180 ↔ 1280×720: subscribe → new layer's keyframe
 *   meeting --participants 2,4,…,16 --seconds 10       everyone publishes simulcast, everyone sees everyone
 *           [--pin]                                    the focus alone on CPU 0, a cheap load on the others
 *   cascade --subs 1,5,20 --seconds 10 [--mesh] [--nice-load N]  a publisher on A, N subscribers on B (and C) and A
 *   cascade-cpu --subs 4 --rounds 3 --seconds 8 [--skip-unwatched] [--pin]  CPU per trunk vs per local packet at A
 *   churn   --cycles 1000                              join/leave cycles; the focus's heap, RSS, handles after
 *   soak    --minutes 10 [--participants 6]            the meeting load held; memory, handles, latency over time
 *   flood   [--participants 4] [--seconds 8]           NACK, PLI and DC floods at 2× the allowance: others' p99
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../src/version.js';
import { JANUS_BIN, JANUS_EVENT_LOOPS, janusInstalled, JanusUnavailableError } from './lib/janusServer.js';
import { BenchNetns, NetnsError } from './lib/netns.js';
import { plotFor } from './lib/plot.js';
import { machine } from './lib/procStat.js';
import { round, spread } from './lib/stats.js';
import { fanoutPoint, VIDEO, type FanoutPoint, type Target } from './scenarios/fanout.js';
import { JOIN_VIDEO, sequentialJoins } from './scenarios/join.js';
import { LAYERS } from './lib/meetingLoad.js';
import { LIMITS, meetingSteps } from './scenarios/meeting.js';
import { switchRounds } from './scenarios/switch.js';
import { CascadeUnavailableError } from './scenarios/cascade.js';
import { runCascade, runCascadeCpu } from './runCascade.js';
import { runChurn, runFlood, runSoak } from './runReliability.js';

const MAX_SUBS = 40;
const MAX_SECONDS = 60;
const MAX_REPEATS = 5;
const MAX_JOINS = 50;
const MAX_ROUNDS = 30;
/** `cascade-cpu`: publisher/subscriber pairs per side (4 load processes carry them all). */
const MAX_CPU_PAIRS = 8;
const MAX_PARTICIPANTS = 30;
const MAX_CYCLES = 5000;
const MAX_MINUTES = 60;
const SCENARIOS = [
  'fanout',
  'join',
  'memory',
  'switch',
  'meeting',
  'cascade',
  'cascade-cpu',
  'churn',
  'soak',
  'flood',
] as const;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface BenchArgs {
  scenario: string;
  subs: number[];
  seconds: number;
  repeats: number;
  joins: number | undefined;
  rounds: number;
  /** `meeting`: the participant counts to step through (until one fails). */
  participants: number[];
  out: string | undefined;
  /** `--vs janus`: also measure Janus in the same run. */
  vs: 'janus' | undefined;
  /** `cascade --mesh`: three foci (A publishes, B and C subscribe). */
  mesh: boolean;
  /**
   * `cascade --nice-load N`: in w2 (where the hop is measured) the load processes (publisher and subscribers,
   * not the hop probe) run at nice N, the foci at 0 — as on a real server, where the clients do not share its
   * cores. 0: everything at 0.
   */
  niceLoad: number;
  /**
   * `cascade-cpu --skip-unwatched`: the foci drop unwatched layers unread (`media.skip_unwatched_layers`, the
   * default in production). Without it they read every layer, so the base arrangement ingests the layer the
   * trunk and the local subscribers then take, and the differences are the forwarding alone.
   */
  skipUnwatched: boolean;
  /** `churn --cycles N`: join/leave cycles (default 1000). */
  cycles: number;
  /** `soak --minutes M` (default 10). */
  minutes: number;
  /**
   * `fanout --warmup S` (default 2): seconds of media before each window. A focus process is fresh at each point,
   * so at N = 1 a short warm-up measures its JIT compiling and its heap growing as much as its forwarding.
   */
  warmup: number;
  /**
   * `meeting --pin`: the focus on CPU 0 alone, the load (cheap receive path) on the others; `cascade-cpu --pin`:
   * focus A on CPU 0 alone, everything else on the others.
   */
  pin: boolean;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const [scenario, ...rest] = argv;
  if (scenario === undefined || scenario.startsWith('-')) {
    throw new UsageError(
      'usage: npm run bench -- fanout [--subs 1,5,20] [--seconds 10] [--repeats 1] [--vs janus] [--warmup 2] | join|memory [--joins N] | switch [--rounds N] | meeting [--participants 2,4,6] [--seconds 10] [--pin] [--warmup 3] | cascade [--subs 1,5,20] [--seconds 10] [--mesh] [--nice-load N] | cascade-cpu [--subs 4] [--rounds 3] [--seconds 8] [--skip-unwatched] [--pin] | churn [--cycles 1000] | soak [--minutes 10] [--participants 6] | flood [--participants 4] [--seconds 8]',
    );
  }
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    throw new UsageError(`unknown scenario ${scenario} (have: ${SCENARIOS.join(', ')})`);
  }
  const a: BenchArgs = {
    scenario,
    subs: [1, 5, 20],
    seconds: 10,
    repeats: 1,
    joins: undefined,
    rounds: 10,
    participants: [2, 4, 6, 8, 10, 12, 14, 16],
    out: undefined,
    vs: undefined,
    mesh: false,
    niceLoad: 0,
    skipUnwatched: false,
    cycles: 1000,
    minutes: 10,
    warmup: 2,
    pin: false,
  };
  let subsGiven = false;
  let roundsGiven = false;
  let secondsGiven = false;
  let participantsGiven = false;
  let warmupGiven = false;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (flag === '--mesh') {
      if (scenario !== 'cascade') {
        throw new UsageError('--mesh: only for `cascade`');
      }
      a.mesh = true;
      continue;
    }
    if (flag === '--pin') {
      if (scenario !== 'meeting' && scenario !== 'cascade-cpu') {
        throw new UsageError('--pin: only for `meeting` and `cascade-cpu`');
      }
      a.pin = true;
      continue;
    }
    if (flag === '--skip-unwatched') {
      if (scenario !== 'cascade-cpu') {
        throw new UsageError('--skip-unwatched: only for `cascade-cpu`');
      }
      a.skipUnwatched = true;
      continue;
    }
    const value = rest[i + 1];
    if (value === undefined) {
      throw new UsageError(`${flag} needs a value`);
    }
    i++;
    switch (flag ?? '') {
      case '--subs':
        a.subs = value.split(',').map((x) => int(x, '--subs', 1, MAX_SUBS));
        subsGiven = true;
        break;
      case '--seconds':
        a.seconds = int(value, '--seconds', 1, MAX_SECONDS);
        secondsGiven = true;
        break;
      case '--repeats':
        a.repeats = int(value, '--repeats', 1, MAX_REPEATS);
        break;
      case '--cycles':
        if (scenario !== 'churn') {
          throw new UsageError('--cycles: only for `churn`');
        }
        a.cycles = int(value, '--cycles', 4, MAX_CYCLES);
        break;
      case '--minutes':
        if (scenario !== 'soak') {
          throw new UsageError('--minutes: only for `soak`');
        }
        a.minutes = int(value, '--minutes', 1, MAX_MINUTES);
        break;
      case '--warmup':
        if (scenario !== 'fanout' && scenario !== 'meeting') {
          throw new UsageError('--warmup: only for `fanout` and `meeting`');
        }
        a.warmup = int(value, '--warmup', 0, 120);
        warmupGiven = true;
        break;
      case '--joins':
        a.joins = int(value, '--joins', 1, MAX_JOINS);
        break;
      case '--rounds':
        a.rounds = int(value, '--rounds', 1, MAX_ROUNDS);
        roundsGiven = true;
        break;
      case '--participants':
        a.participants = value.split(',').map((x) => int(x, '--participants', 2, MAX_PARTICIPANTS));
        participantsGiven = true;
        break;
      case '--out':
        a.out = value;
        break;
      case '--nice-load':
        if (scenario !== 'cascade') {
          throw new UsageError('--nice-load: only for `cascade`');
        }
        a.niceLoad = int(value, '--nice-load', 0, 19);
        break;
      case '--vs':
        if (value !== 'janus' || scenario !== 'fanout') {
          throw new UsageError(`--vs: only \`fanout --vs janus\` is supported, got ${JSON.stringify(value)}`);
        }
        a.vs = value;
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (scenario === 'soak') {
    // One meeting size, held: 6 is about 70 % of the meeting's measured capacity (8) on this machine.
    a.participants = participantsGiven ? a.participants : [6];
    if (a.participants.length !== 1) {
      throw new UsageError('--participants: soak takes one participant count');
    }
  }
  if (scenario === 'meeting') {
    a.warmup = warmupGiven ? a.warmup : 3;
  }
  if (scenario === 'flood') {
    // Quiet participants well inside the meeting's capacity, so a flood's effect is not the load's.
    a.participants = participantsGiven ? a.participants : [4];
    if (a.participants.length !== 1) {
      throw new UsageError('--participants: flood takes one participant count');
    }
    a.seconds = secondsGiven ? a.seconds : 8;
  }
  if (scenario === 'cascade-cpu') {
    // --subs K: K publishers on A and K decoys on B, K subscribers on each (one value).
    if (!subsGiven) {
      a.subs = [4];
    }
    if (a.subs.length !== 1 || a.subs[0]! > MAX_CPU_PAIRS) {
      throw new UsageError(`--subs: cascade-cpu takes one pair count, 1–${MAX_CPU_PAIRS}`);
    }
    a.rounds = roundsGiven ? a.rounds : 3;
    a.seconds = secondsGiven ? a.seconds : 8;
  }
  if (scenario === 'cascade') {
    // Subscribers on A and on every remote focus: at most MAX_SUBS in all.
    const foci = a.mesh ? 3 : 2;
    if (!subsGiven && a.mesh) {
      a.subs = [1, 5, 10];
    }
    const over = a.subs.find((n) => n * foci > MAX_SUBS);
    if (over !== undefined) {
      throw new UsageError(
        `--subs ${over}: cascade puts N subscribers on each of ${foci} foci, at most ${MAX_SUBS} in all (N ≤ ${Math.floor(MAX_SUBS / foci)})`,
      );
    }
  }
  return a;
}

function int(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer ${min}–${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function describe(p: FanoutPoint): string {
  return (
    `fanout ${p.subs} (${p.target}): ${p.outPps} pkt/s out, CPU ${p.sfuCpuPct} %, ${p.usPerForwarded ?? '-'} µs/forwarded, ` +
    `delivered ${(p.deliveredRatio * 100).toFixed(2)} %, latency p50/p99 ${p.latencyMs.p50}/${p.latencyMs.p99} ms, ` +
    `kernel UDP drops ${p.kernelUdpDrops ?? '-'}, idle CPU ${p.idleCpuPct ?? '-'} %` +
    (p.gc === undefined ? '' : `, GC ${p.gc.count} pauses / ${p.gc.totalMs} ms, ${p.gc.over5ms} over 5 ms`) +
    (p.segmented === undefined
      ? ''
      : `, segmented ${p.segmented.datagrams} datagrams in ${p.segmented.messages} messages`) +
    (p.valid ? '' : ` (INVALID: ${p.invalidReason})`) +
    (p.overloaded ? ' (OVERLOADED: under 99 % delivered)' : '')
  );
}

function summarise(subs: readonly number[], runs: readonly FanoutPoint[][]) {
  return subs.map((n, i) => {
    const ps = runs.map((r) => r[i]!).filter((p) => p.valid);
    const of = (f: (p: FanoutPoint) => number | undefined) =>
      spread(ps.map(f).filter((v): v is number => v !== undefined));
    return {
      subs: n,
      validRuns: ps.length,
      overloadedRuns: ps.filter((p) => p.overloaded).length,
      usPerForwarded: of((p) => p.usPerForwarded),
      sfuCpuPct: of((p) => p.sfuCpuPct),
      outPps: of((p) => p.outPps),
      deliveredRatio: of((p) => p.deliveredRatio),
      latencyP50Ms: of((p) => p.latencyMs.p50),
      latencyP99Ms: of((p) => p.latencyMs.p99),
      clientCpuPctMax: of((p) => Math.max(...p.clientCpuPct)),
      idleCpuPct: of((p) => p.idleCpuPct),
      usPerForwardedAboveIdle: of((p) => p.usPerForwardedAboveIdle),
    };
  });
}

/**
 * `fanout`; with `--vs janus` every data point is measured on both servers back to back, alternating which
 * goes first per repeat, and the summary gets Janus's figures and the ratio SFU ÷ Janus of CPU µs per
 * forwarded packet (median over repeats; min–max from pairing the extremes).
 */
export async function runFanout(a: BenchArgs, log: (s: string) => void): Promise<Record<string, unknown>> {
  if (a.vs === 'janus' && !janusInstalled()) {
    throw new JanusUnavailableError(
      `--vs janus: ${JANUS_BIN} not found; install it with \`apt-get install -y janus\``,
    );
  }
  const ns = a.vs === 'janus' ? BenchNetns.create() : undefined;
  const runs: FanoutPoint[][] = [];
  const janusRuns: FanoutPoint[][] = [];
  try {
    for (let r = 0; r < a.repeats; r++) {
      const points: FanoutPoint[] = [];
      const janusPoints: FanoutPoint[] = [];
      for (const n of a.subs) {
        const order: Target[] =
          ns === undefined ? [{ name: 'sfu' }] : [{ name: 'sfu' }, { name: 'janus', ns }];
        if (r % 2 === 1) {
          order.reverse();
        }
        for (const target of order) {
          const p = await fanoutPoint(n, a.seconds, log, a.warmup, target);
          log(describe(p));
          (p.target === 'sfu' ? points : janusPoints).push(p);
        }
      }
      runs.push(points);
      if (ns !== undefined) {
        janusRuns.push(janusPoints);
      }
    }
  } finally {
    ns?.delete();
  }
  const summary = summarise(a.subs, runs);
  const base = {
    scenario: 'fanout',
    target: 'sfu',
    at: new Date().toISOString(),
    machine: machine(),
    versions: {
      sfu: VERSION,
      werift: weriftVersion(),
      ...(ns !== undefined ? { janus: janusVersion() } : {}),
    },
    load: { video: VIDEO, audioPps: 50, inPps: VIDEO.fps * VIDEO.packetsPerFrame + 50 },
    seconds: a.seconds,
    repeats: a.repeats,
    summary,
    runs,
  };
  if (ns === undefined) {
    return base;
  }
  const janusSummary = summarise(a.subs, janusRuns);
  const ratio = summary.map((s, i) => {
    const j = janusSummary[i]!.usPerForwarded;
    const m = s.usPerForwarded;
    return {
      subs: s.subs,
      sfuOverJanus:
        m === undefined || j === undefined
          ? undefined
          : {
              min: round(m.min / j.max, 2),
              median: round(m.median / j.median, 2),
              max: round(m.max / j.min, 2),
            },
    };
  });
  for (const r of ratio) {
    log(`fanout ${r.subs}: SFU ÷ Janus CPU µs per forwarded packet = ${r.sfuOverJanus?.median ?? '-'}`);
  }
  return {
    ...base,
    janus: { eventLoops: JANUS_EVENT_LOOPS, summary: janusSummary, runs: janusRuns },
    ratio,
  };
}

function janusVersion(): string {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'janus'], { timeout: 5000 });
    return out.toString().trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

function weriftVersion(): string {
  try {
    const pkg = readFileSync(new URL('../node_modules/werift/package.json', import.meta.url), 'utf8');
    return (JSON.parse(pkg) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function runJoins(
  scenario: string,
  joins: number,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  const r = await sequentialJoins(joins, log);
  log(
    `${scenario}: invite → first RTP p50/p95/max ${r.joinToFirstRtpMs.p50}/${r.joinToFirstRtpMs.p95}/` +
      `${r.joinToFirstRtpMs.max} ms; SFU RSS ${((r.rssPerSubscriberBytes ?? 0) / 1024).toFixed(0)} KiB and heap ` +
      `${((r.heapPerSubscriberBytes ?? 0) / 1024).toFixed(0)} KiB per subscriber`,
  );
  return {
    scenario,
    target: 'sfu',
    at: new Date().toISOString(),
    machine: machine(),
    versions: { sfu: VERSION, werift: weriftVersion() },
    load: { video: JOIN_VIDEO, audioPps: 50 },
    ...r,
  };
}

export async function runSwitch(rounds: number, log: (s: string) => void): Promise<Record<string, unknown>> {
  const r = await switchRounds(rounds, log);
  log(
    `switch: up p50/p95/max ${r.upMs.p50}/${r.upMs.p95}/${r.upMs.max} ms, ` +
      `down ${r.downMs.p50}/${r.downMs.p95}/${r.downMs.max} ms`,
  );
  return {
    scenario: 'switch',
    target: 'sfu',
    at: new Date().toISOString(),
    machine: machine(),
    versions: { sfu: VERSION, werift: weriftVersion() },
    ...r,
  };
}

export async function runMeeting(a: BenchArgs, log: (s: string) => void): Promise<Record<string, unknown>> {
  const r = await meetingSteps(a.participants, a.seconds, log, { pin: a.pin, warmupS: a.warmup });
  log(
    `meeting: largest passing N = ${r.largestPassing}${r.limitedBy !== undefined ? ` (next: ${r.limitedBy})` : ''}`,
  );
  return {
    scenario: 'meeting',
    target: 'sfu',
    at: new Date().toISOString(),
    machine: machine(),
    versions: { sfu: VERSION, werift: weriftVersion() },
    load: { layers: LAYERS, audioPps: 50, subscribedLayer: '640x360' },
    pinned: a.pin,
    warmupSeconds: a.warmup,
    limits: LIMITS,
    seconds: a.seconds,
    ...r,
  };
}

async function main(): Promise<void> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  // Exit handlers (the bench's network namespaces, with Janus inside) also run on Ctrl-C / SIGTERM; the load
  // and SFU processes stop by themselves when their IPC channel closes.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping`);
      process.exit(130);
    });
  }
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    process.exitCode = 64;
    return;
  }
  let result: Record<string, unknown>;
  try {
    result =
      args.scenario === 'fanout'
        ? await runFanout(args, log)
        : args.scenario === 'switch'
          ? await runSwitch(args.rounds, log)
          : args.scenario === 'meeting'
            ? await runMeeting(args, log)
            : args.scenario === 'cascade'
              ? await runCascade(args, log, { version: VERSION, werift: weriftVersion() })
              : args.scenario === 'cascade-cpu'
                ? await runCascadeCpu(args, log, { version: VERSION, werift: weriftVersion() })
                : args.scenario === 'churn'
                  ? await runChurn(args.cycles, log)
                  : args.scenario === 'soak'
                    ? await runSoak(args.participants[0] ?? 6, args.minutes, log)
                    : args.scenario === 'flood'
                      ? await runFlood(args.participants[0] ?? 4, args.seconds, log)
                      : await runJoins(
                          args.scenario,
                          args.joins ?? (args.scenario === 'join' ? 20 : 50),
                          log,
                        );
  } catch (e) {
    if (
      e instanceof JanusUnavailableError ||
      e instanceof NetnsError ||
      e instanceof CascadeUnavailableError
    ) {
      log(e.message);
      process.exitCode = 69; // EX_UNAVAILABLE
      return;
    }
    throw e;
  }
  const text = JSON.stringify(result, null, 2);
  process.stdout.write(`${text}\n`);
  const dir = args.out ?? fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir.replace(/\/$/, '')}/${args.scenario}-${String(result['at']).replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, text);
  log(`wrote ${file}`);
  const svg = await plotFor(result);
  if (svg !== undefined) {
    const svgFile = file.replace(/\.json$/, '.svg');
    writeFileSync(svgFile, svg);
    log(`wrote ${svgFile}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}

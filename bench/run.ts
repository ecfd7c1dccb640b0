/**
 * `npm run bench -- <scenario> [options]`. Prints one JSON document on stdout (logs on stderr) and writes
 * it to bench/results/<scenario>-<time>.json. Everything runs on 127.0.0.1; every run is bounded in
 * participants, time and packet rate, and stops every process it started.
 *
 *   fanout  --subs 1,5,20 --seconds 10 --repeats 1     1 publisher × N subscribers
 *   join    --joins 20                                 N subscribers joining one at a time: invite → RTP
 *   memory  --joins 50                                 the same, reported as SFU RSS per participant
 *   switch  --rounds 10                                320×180 ↔ 1280×720: subscribe → new layer's keyframe
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../src/version.js';
import { fanoutPlot } from './lib/plot.js';
import { machine } from './lib/procStat.js';
import { spread } from './lib/stats.js';
import { fanoutPoint, VIDEO, type FanoutPoint } from './scenarios/fanout.js';
import { sequentialJoins } from './scenarios/join.js';
import { switchRounds } from './scenarios/switch.js';

const MAX_SUBS = 40;
const MAX_SECONDS = 60;
const MAX_REPEATS = 5;
const MAX_JOINS = 50;
const MAX_ROUNDS = 30;
const SCENARIOS = ['fanout', 'join', 'memory', 'switch'] as const;

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
  out: string | undefined;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const [scenario, ...rest] = argv;
  if (scenario === undefined || scenario.startsWith('-')) {
    throw new UsageError(
      'usage: npm run bench -- fanout [--subs 1,5,20] [--seconds 10] [--repeats 1] | join|memory [--joins N] | switch [--rounds N]',
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
    out: undefined,
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = rest[i + 1];
    if (value === undefined) {
      throw new UsageError(`${flag} needs a value`);
    }
    i++;
    switch (flag ?? '') {
      case '--subs':
        a.subs = value.split(',').map((x) => int(x, '--subs', 1, MAX_SUBS));
        break;
      case '--seconds':
        a.seconds = int(value, '--seconds', 1, MAX_SECONDS);
        break;
      case '--repeats':
        a.repeats = int(value, '--repeats', 1, MAX_REPEATS);
        break;
      case '--joins':
        a.joins = int(value, '--joins', 1, MAX_JOINS);
        break;
      case '--rounds':
        a.rounds = int(value, '--rounds', 1, MAX_ROUNDS);
        break;
      case '--out':
        a.out = value;
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
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

export async function runFanout(a: BenchArgs, log: (s: string) => void): Promise<Record<string, unknown>> {
  const runs: FanoutPoint[][] = [];
  for (let r = 0; r < a.repeats; r++) {
    const points: FanoutPoint[] = [];
    for (const n of a.subs) {
      const p = await fanoutPoint(n, a.seconds, log);
      log(
        `fanout ${n}: ${p.outPps} pkt/s out, SFU ${p.sfuCpuPct} % CPU, ${p.usPerForwarded ?? '-'} µs/forwarded, ` +
          `delivered ${(p.deliveredRatio * 100).toFixed(2)} %, latency p50/p99 ${p.latencyMs.p50}/${p.latencyMs.p99} ms` +
          (p.valid ? '' : ` (INVALID: ${p.invalidReason})`),
      );
      points.push(p);
    }
    runs.push(points);
  }
  const summary = a.subs.map((n, i) => {
    const ps = runs.map((r) => r[i]!).filter((p) => p.valid);
    const of = (f: (p: FanoutPoint) => number | undefined) =>
      spread(ps.map(f).filter((v): v is number => v !== undefined));
    return {
      subs: n,
      validRuns: ps.length,
      usPerForwarded: of((p) => p.usPerForwarded),
      sfuCpuPct: of((p) => p.sfuCpuPct),
      outPps: of((p) => p.outPps),
      deliveredRatio: of((p) => p.deliveredRatio),
      latencyP50Ms: of((p) => p.latencyMs.p50),
      latencyP99Ms: of((p) => p.latencyMs.p99),
      clientCpuPctMax: of((p) => Math.max(...p.clientCpuPct)),
    };
  });
  return {
    scenario: 'fanout',
    target: 'sfu',
    at: new Date().toISOString(),
    machine: machine(),
    versions: { sfu: VERSION, werift: weriftVersion() },
    load: { video: VIDEO, audioPps: 50, inPps: VIDEO.fps * VIDEO.packetsPerFrame + 50 },
    seconds: a.seconds,
    repeats: a.repeats,
    summary,
    runs,
  };
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

async function main(): Promise<void> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    process.exitCode = 64;
    return;
  }
  const result =
    args.scenario === 'fanout'
      ? await runFanout(args, log)
      : args.scenario === 'switch'
        ? await runSwitch(args.rounds, log)
        : await runJoins(args.scenario, args.joins ?? (args.scenario === 'join' ? 20 : 50), log);
  const text = JSON.stringify(result, null, 2);
  process.stdout.write(`${text}\n`);
  const dir = args.out ?? fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir.replace(/\/$/, '')}/${args.scenario}-${String(result['at']).replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, text);
  log(`wrote ${file}`);
  const svg = await fanoutPlot(result);
  if (svg !== undefined) {
    const svgFile = file.replace(/\.json$/, '.svg');
    writeFileSync(svgFile, svg);
    log(`wrote ${svgFile}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}

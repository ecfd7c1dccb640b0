/**
 * `npm run bench -- churn --cycles N`, `soak --minutes M [--participants N]` and `flood [--participants N]
 * [--seconds S]`: the result documents of bench/scenarios/churn.ts, soak.ts and flood.ts.
 */
import { VERSION } from '../src/version.js';
import { machine } from './lib/procStat.js';
import { churn, CHURN_TARGETS } from './scenarios/churn.js';
import { flood, FLOOD_TARGET } from './scenarios/flood.js';
import { soak, SOAK_TARGETS } from './scenarios/soak.js';

export async function runChurn(cycles: number, log: (s: string) => void): Promise<Record<string, unknown>> {
  const r = await churn(cycles, log);
  log(
    `churn: ${r.cycles} cycles in ${r.seconds} s (${r.failed} failed); heap ${r.start.heapMiB} → ${r.end.heapMiB} MiB ` +
      `(${r.heapGrowth ?? '-'}), RSS ${r.start.rssMiB} → ${r.end.rssMiB} MiB (${r.rssGrowth ?? '-'}), handles ` +
      `${r.start.handles} → ${r.end.handles}, sessions ${r.end.sessions}, UDP ports ${r.end.udpPorts}; cycle ms ` +
      `p50/p95/max ${r.cycleMs.p50 ?? '-'}/${r.cycleMs.p95 ?? '-'}/${r.cycleMs.max ?? '-'}`,
  );
  return {
    scenario: 'churn',
    target: 'sfu',
    at: new Date().toISOString(),
    machine: machine(),
    versions: { sfu: VERSION },
    targets: CHURN_TARGETS,
    ...r,
  };
}

export async function runSoak(
  participants: number,
  minutes: number,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  const r = await soak(participants, minutes, log);
  log(
    `soak: ${r.participants} participants, ${r.windows.length} windows of ${r.windowSeconds} s; growth first → last ` +
      `windows: heap ${r.growth.heap ?? '-'}, RSS ${r.growth.rss ?? '-'}, handles ${r.growth.handles}, p99 ${r.growth.p99 ?? '-'}; ` +
      `met ${JSON.stringify(r.met)}`,
  );
  return {
    scenario: 'soak',
    target: 'sfu',
    at: new Date().toISOString(),
    machine: machine(),
    versions: { sfu: VERSION },
    targets: SOAK_TARGETS,
    ...r,
  };
}

export async function runFlood(
  participants: number,
  seconds: number,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  const r = await flood(participants, seconds, log);
  const quiet = r.quiet.map((q) => q.latencyMs.p99 ?? '-').join(', ');
  for (const f of r.floods) {
    log(
      `flood ${f.kind}: quiet participants' p99 ${f.window.latencyMs.p99 ?? '-'} ms (quiet ${quiet}; ×${f.p99Ratio ?? '-'}), ` +
        `loss ${f.window.loss}; flooder sent ${f.flooder.sent}, hung up after ${f.flooder.hungUpAfterMs ?? '-'} ms ` +
        `(${JSON.stringify(f.flooder.hangup ?? null)}); met ${f.met}`,
    );
  }
  return {
    scenario: 'flood',
    target: 'sfu',
    at: new Date().toISOString(),
    machine: machine(),
    versions: { sfu: VERSION },
    targets: FLOOD_TARGET,
    ...r,
  };
}

/** `npm run bench -- churn --cycles N`: the result document of bench/scenarios/churn.ts. */
import { VERSION } from '../src/version.js';
import { machine } from './lib/procStat.js';
import { churn, CHURN_TARGETS } from './scenarios/churn.js';

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

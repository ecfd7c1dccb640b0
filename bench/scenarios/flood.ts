/**
 * `flood [--participants 4] [--seconds 8]` (issue 17: "a flooding client is limited and, past a bound, hung up,
 * and the others' p99 latency stays within 2× of a quiet run"): the `meeting` load (N quiet participants, each
 * publishing the synthetic 3-layer simulcast + Opus and watching every other at 640×360) against one focus in
 * its own process, and one more client in a process of its own that floods (bench/lib/floodLoad.ts): NACKs,
 * then PLIs, then data-channel requests, each at twice what the focus allows a client (so each is limited
 * first and hung up only once the ignored pile passes its bound: feedback 20,000 units/s, DC
 * `limits.dc_messages_per_second` 100). A window of `seconds` is measured quiet before the floods and after
 * them, and from the start of each flood; the flooder then floods on until it is hung up (at most 60 s). The
 * quiet participants' p99 latency in each flood window is compared with the quiet windows' (their mean).
 */
import { BenchProcesses } from '../lib/processes.js';
import { joinMeeting, meetingWindowStats } from '../lib/meetingLoad.js';
import { round } from '../lib/stats.js';
import { measureWindow, type WindowResult } from '../lib/window.js';
import type { Child } from '../lib/rpc.js';
import { FLOOD_KINDS, type FloodKind, type FloodResult } from '../lib/floodLoad.js';
import type { Env, UserCreds } from '../lib/worker.js';

/** What the focus allows one client (its defaults), and twice it: the flood rates. */
const ALLOWED: Record<FloodKind, { perSecond: number; what: string }> = {
  nack: { perSecond: 20_000 / 512, what: 'NACK packets of 512 sequence numbers a second (20,000 units)' },
  pli: { perSecond: 20_000 / 50, what: 'PLIs a second (50 units each)' },
  dc: { perSecond: 100, what: 'data-channel messages a second' },
};
const WARMUP_S = 5;
const HANGUP_WAIT_MS = 60_000;
export const FLOOD_TARGET = { p99Ratio: 2 } as const;

export interface FloodWindow {
  label: 'quiet' | FloodKind;
  sfuCpuPct: number;
  latencyMs: { p50?: number; p99?: number; max?: number };
  loss: number;
}

export interface FloodRow {
  kind: FloodKind;
  window: FloodWindow;
  flooder: FloodResult;
  /** This flood window's p99 over the quiet windows' mean p99. */
  p99Ratio: number | undefined;
  met: boolean;
}

export interface FloodScenarioResult {
  participants: number;
  seconds: number;
  quiet: FloodWindow[];
  floods: FloodRow[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function summarize(label: FloodWindow['label'], w: WindowResult, participants: number): FloodWindow {
  return {
    label,
    sfuCpuPct: round((w.serverCpuMs / w.wallMs) * 100) ?? 0,
    ...meetingWindowStats(w, participants),
  };
}

export async function flood(
  participants: number,
  seconds: number,
  log: (s: string) => void,
): Promise<FloodScenarioResult> {
  const procs = new BenchProcesses();
  try {
    const { host, roomId, foci } = await procs.cascadeHost(['a.example']);
    const f = foci[0]!;
    const env: Env = { hsUrl: f.hsUrl, roomId, focus: f.focus };
    const user = (localpart: string) => host.call<UserCreds>('user', { localpart, serverName: f.serverName });
    const { workers, owners } = await joinMeeting(
      procs,
      host,
      env,
      f.serverName,
      participants,
      'flood-quiet',
    );
    const [flooder] = (await procs.workers(['flood-hostile'])) as [Child];
    log(
      `flood: ${participants} quiet participants on ${f.serverName} (pid ${f.pid}); windows of ${seconds} s`,
    );
    await sleep(WARMUP_S * 1000);
    const measure = async (label: FloodWindow['label']) => {
      const w = summarize(
        label,
        await measureWindow({ pid: f.pid, loads: workers, host, seconds }),
        participants,
      );
      log(`flood window ${label}: ${JSON.stringify(w)}`);
      return w;
    };
    const quiet = [await measure('quiet')];
    const rows: { kind: FloodKind; window: FloodWindow; flooder: FloodResult }[] = [];
    for (const [i, kind] of FLOOD_KINDS.entries()) {
      const perSecond = 2 * ALLOWED[kind].perSecond;
      await flooder.call(
        'floodStart',
        { env, user: await user(`mallory${i}`), owner: owners[0], kind, perSecond },
        120_000,
      );
      const window = await measure(kind);
      const result = await flooder.call<FloodResult>(
        'floodStop',
        { waitHangupMs: HANGUP_WAIT_MS },
        HANGUP_WAIT_MS + 30_000,
      );
      log(`flood ${kind} at 2 × ${ALLOWED[kind].what}: ${JSON.stringify(result)}`);
      rows.push({ kind, window, flooder: result });
      await sleep(2000);
    }
    quiet.push(await measure('quiet'));
    const p99s = quiet.map((q) => q.latencyMs.p99).filter((v): v is number => v !== undefined);
    const quietP99 = p99s.length === 0 ? undefined : p99s.reduce((a, b) => a + b, 0) / p99s.length;
    return {
      participants,
      seconds,
      quiet,
      floods: rows.map((r) => {
        const ratio =
          quietP99 === undefined || r.window.latencyMs.p99 === undefined
            ? undefined
            : round(r.window.latencyMs.p99 / quietP99, 2);
        return {
          ...r,
          p99Ratio: ratio,
          met: ratio !== undefined && ratio <= FLOOD_TARGET.p99Ratio && r.flooder.hungUpAfterMs !== undefined,
        };
      }),
    };
  } finally {
    await procs.stopAll();
  }
}

/**
 * The bench's cascade host process: the strict test homeserver serving 2 or 3 server names (a.example,
 * b.example[, c.example]) and one real focus PROCESS per name (harness/multiStack.ts, running src/main.ts under
 * the TypeScript loader, so each focus's CPU is its own /proc/<pid>/stat), all foci joined to one room created
 * on a.example. The homeserver is idle while media flows. Answers over IPC: `info` (per server name: its
 * homeserver URL, focus and focus pid; the room), `user` (a user of a server name, joined to the room),
 * `counters` (every focus's `sfu_*` counters and GC histogram from its /metrics), `windowStart` / `windowEnd` (the first
 * focus's counters and event-loop lag over a window: `fanout` runs one focus this way, the homeserver apart),
 * `output`, `warnings` and `stop`.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMultiCallStack, type MultiCallStack } from '../../harness/multiCallStack.js';
import { serve } from './rpc.js';

const teardowns: (() => unknown)[] = [];
const shim = {
  teardown(fn: () => unknown): void {
    teardowns.push(fn);
  },
};

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const MAIN_TS = join(SRC, 'main.ts');
const MAIN_JS = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

/** The newest modification time of any file under `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * `dist/src/main.js` when it is newer than every file of src/ (`npm run build` after the last change), else
 * src/main.ts under the TypeScript loader (slower to start, the same code once running).
 */
function focusEntry(): { main: string; execArgv?: string[] } {
  try {
    if (statSync(MAIN_JS).mtimeMs >= newest(SRC)) {
      return { main: MAIN_JS };
    }
  } catch {
    // no build
  }
  return { main: MAIN_TS, execArgv: ['--import', '@tapjs/typescript/import'] };
}
const base = focusEntry();
/**
 * BENCH_PROFILE_DIR: every focus process records a V8 CPU profile of its whole life (`--cpu-prof`), written
 * there when it stops (`CPU.<date>.<time>.<pid>.0.001.cpuprofile`; the pids are in the scenario's stderr).
 * BENCH_PROFILE_INTERVAL_US: the sampling interval (V8's default 1000 µs; finer gives path costs from shorter runs).
 */
const profileDir = process.env['BENCH_PROFILE_DIR'];
const profileInterval = Number(process.env['BENCH_PROFILE_INTERVAL_US'] ?? 0);
/** BENCH_FOCUS_NODE_FLAGS: more Node flags for every focus, space-separated (e.g. `--perf-basic-prof` for perf). */
const extraFlags = (process.env['BENCH_FOCUS_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
const profiled =
  profileDir === undefined || profileDir === ''
    ? base
    : {
        ...base,
        execArgv: [
          ...(base.execArgv ?? []),
          '--cpu-prof',
          `--cpu-prof-dir=${profileDir}`,
          ...(profileInterval > 0 ? [`--cpu-prof-interval=${Math.round(profileInterval)}`] : []),
        ],
      };
const entry = { ...profiled, execArgv: [...(profiled.execArgv ?? []), ...extraFlags] };
process.stderr.write(
  `cascade host: foci run ${entry.main === MAIN_JS ? 'dist (fresh build)' : 'src/main.ts (no fresh build)'}\n`,
);
const names = (process.env['BENCH_CASCADE_SERVERS'] ?? 'a.example,b.example').split(',');
const portMin = Number(process.env['BENCH_PORT_MIN'] ?? 40000);
/** BENCH_SKIP_UNWATCHED=0: `media.skip_unwatched_layers` off in every focus (processes.ts `cascadeHost`). */
const skipUnwatched = process.env['BENCH_SKIP_UNWATCHED'] !== '0';
/** BENCH_INVITES_PER_SECOND: `limits.device_invites_per_second` of every focus (processes.ts `cascadeHost`). */
const invitesPerSecond = Number(process.env['BENCH_INVITES_PER_SECOND'] ?? 0);
/** BENCH_MAX_LINK_BPS: `cascade.max_link_bps` of every focus (default: the config's, 20 Mbit/s). */
const maxLinkBps = Number(process.env['BENCH_MAX_LINK_BPS'] ?? 0);

const ms: MultiCallStack = await startMultiCallStack(shim, {
  serverNames: names,
  entry,
  config: {
    limits: {
      max_participants: 200,
      ...(invitesPerSecond > 0 ? { device_invites_per_second: invitesPerSecond } : {}),
    },
  },
  configFor: (serverName) => {
    const i = names.indexOf(serverName);
    return {
      media: {
        bind_address: '127.0.0.1',
        port_range: { min: portMin + i * 1000, max: portMin + i * 1000 + 999 },
        skip_unwatched_layers: skipUnwatched,
      },
      ...(maxLinkBps > 0 ? { cascade: { max_link_bps: maxLinkBps } } : {}),
    };
  },
});

/** `name{labels} value` lines of a Prometheus text exposition, `sfu_*` only (and those starting with `also`). */
function parseMetrics(text: string, ...also: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('sfu_') && !also.some((a) => line.startsWith(a))) {
      continue;
    }
    const cut = line.lastIndexOf(' ');
    const value = Number(line.slice(cut + 1));
    if (Number.isFinite(value)) {
      out[line.slice(0, cut).replace(/"/g, '')] = value;
    }
  }
  return out;
}

const LAG_MAX = 'nodejs_eventloop_lag_max_seconds';
/** The longest a datagram waited in a socket before the focus read it, since the last scrape (add-on reads). */
const WAIT_MAX = 'sfu_udp_receive_wait_max_seconds';
/** The GC pause histogram (its buckets: src/observability/metrics.ts GC_BUCKETS_S). */
const GC = 'nodejs_gc_duration_seconds';

async function firstMetrics(): Promise<string> {
  const n = ms.nodes[0];
  if (n === undefined) {
    throw new Error('no focus');
  }
  const res = await fetch(`http://127.0.0.1:${n.httpPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

serve(
  {
    info: () => ({
      roomId: ms.roomId,
      foci: ms.nodes.map((n) => ({
        serverName: n.serverName,
        hsUrl: n.hsUrl,
        focus: n.focus,
        pid: n.child?.pid ?? 0,
        httpPort: n.httpPort,
      })),
    }),
    user: (a: { localpart: string; serverName: string }) => {
      const deviceId = `${a.localpart.toUpperCase()}DEV`;
      const u = ms.hs.createUser(a.localpart, { deviceId, serverName: a.serverName });
      ms.hs.join(u.userId, ms.roomId);
      return { userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId };
    },
    /**
     * `fanout` (one server name): the focus's `sfu_*` counters at the start of a window; reading /metrics also
     * restarts its event-loop lag histogram (prom-client resets it per scrape).
     */
    windowStart: async () => parseMetrics(await firstMetrics(), GC),
    /**
     * The focus's counters, its event-loop lag max and the longest any datagram waited in its sockets before it
     * read them, both since `windowStart` (each scrape restarts both).
     */
    windowEnd: async () => {
      const text = await firstMetrics();
      const lag = parseMetrics(text, LAG_MAX)[LAG_MAX];
      const wait = parseMetrics(text, WAIT_MAX)[WAIT_MAX];
      return {
        lagMaxMs: lag === undefined ? 0 : lag * 1000,
        ...(wait !== undefined ? { receiveWaitMaxMs: wait * 1000 } : {}),
        counters: parseMetrics(text, GC),
      };
    },
    counters: async () => {
      const out: Record<string, Record<string, number>> = {};
      for (const n of ms.nodes) {
        const res = await fetch(`http://127.0.0.1:${n.httpPort}/metrics`, {
          signal: AbortSignal.timeout(5000),
        });
        out[n.serverName] = parseMetrics(await res.text(), GC);
      }
      return out;
    },
    /**
     * `churn`: one focus's process figures from its /metrics — heap, RSS, handles and resources (prom-client's
     * defaults) and its sessions.
     */
    process: async (a: { serverName: string }) => {
      const res = await fetch(`http://127.0.0.1:${ms.node(a.serverName).httpPort}/metrics`, {
        signal: AbortSignal.timeout(5000),
      });
      return parseMetrics(await res.text(), 'nodejs_', 'process_');
    },
    output: (a: { serverName: string }) => ms.node(a.serverName).output().slice(-4000),
    /** The focus's log lines at warn level or above (pino's JSON `"level":40` and up), the last `max`. */
    warnings: (a: { serverName: string; max?: number }) =>
      ms
        .node(a.serverName)
        .output()
        .split('\n')
        .filter((l) => /"level":(4|5|6)\d/.test(l))
        .slice(-(a.max ?? 400))
        .join('\n'),
  },
  async () => {
    for (const fn of teardowns.reverse()) {
      await Promise.resolve(fn()).catch(() => undefined);
    }
  },
);
process.send?.({ id: 0, ok: true, result: 'ready' });

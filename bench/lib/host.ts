/**
 * The bench's SFU process: the strict test homeserver and the SFU, in one child process (so its CPU is
 * measured apart from the load; the homeserver is idle while media flows). Answers over IPC: `info`
 * (homeserver URL, room, focus), `user` (a user with a device, joined to the room), `window` (start/stop a
 * measurement window: event-loop lag, SFU counters) and `stop`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startCallStack, type CallStack } from '../../harness/callStack.js';
import { serve } from './rpc.js';

const teardowns: (() => unknown)[] = [];
const shim = {
  teardown(fn: () => unknown): void {
    teardowns.push(fn);
  },
};

const range = { min: Number(process.env['BENCH_PORT_MIN'] ?? 40000), max: 0 };
range.max = range.min + 999;

const cs: CallStack = await startCallStack(shim, {
  config: {
    media: { bind_address: '127.0.0.1', port_range: range },
    limits: { max_participants: 200 },
  },
});
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
let n = 0;
/** BENCH_PROFILE_DIR: a V8 CPU profile of the measurement window only, written there. */
const profileDir = process.env['BENCH_PROFILE_DIR'];
const inspector = profileDir === undefined ? undefined : new Session();
inspector?.connect();

async function counters(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await cs.sfu.metrics.registry.getMetricsAsJSON()) {
    if (!m.name.startsWith('sfu_')) {
      continue;
    }
    for (const v of m.values as {
      value: number;
      labels: Record<string, string | number>;
      metricName?: string;
    }[]) {
      const labels = Object.entries(v.labels)
        .map(([k, x]) => `${k}=${x}`)
        .join(',');
      out[`${v.metricName ?? m.name}${labels === '' ? '' : `{${labels}}`}`] = v.value;
    }
  }
  return out;
}

serve(
  {
    info: () => ({ hsUrl: cs.hs.url, roomId: cs.roomId, focus: cs.focusRef, pid: process.pid }),
    user: (a: { localpart: string }) => {
      n++;
      const deviceId = `${a.localpart.toUpperCase()}DEV`;
      const u = cs.hs.createUser(a.localpart, { deviceId });
      cs.hs.join(u.userId, cs.roomId);
      return { userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId };
    },
    memory: () => {
      globalThis.gc?.();
      return { memory: process.memoryUsage() };
    },
    windowStart: async () => {
      lag.reset();
      if (inspector !== undefined) {
        await inspector.post('Profiler.enable');
        await inspector.post('Profiler.start');
      }
      return counters();
    },
    windowEnd: async () => {
      let profile: string | undefined;
      if (inspector !== undefined && profileDir !== undefined) {
        const r = await inspector.post('Profiler.stop');
        profile = `${profileDir}/sfu-window-${process.pid}.cpuprofile`;
        writeFileSync(profile, JSON.stringify(r.profile));
      }
      return {
        lagMaxMs: lag.max / 1e6,
        counters: await counters(),
        memory: process.memoryUsage(),
        users: n,
        ...(profile !== undefined ? { profile } : {}),
      };
    },
  },
  async () => {
    for (const fn of teardowns.reverse()) {
      await Promise.resolve(fn()).catch(() => undefined);
    }
  },
);
process.send?.({ id: 0, ok: true, result: 'ready' });

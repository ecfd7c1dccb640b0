/**
 * The measurement window every load scenario uses: counters and CPU start on the server and the load
 * processes, `seconds` pass, the server's CPU (/proc/<pid>/stat) and the kernel's UDP receive-buffer drops are
 * read at the end, then, after a grace for packets still on their way, each load process's `windowEnd`
 * (judged by the send times in the window), our SFU's own counters, and the server's RSS.
 */
import type { Child } from './rpc.js';
import { cpuMs, rssBytes, udpRcvbufErrors } from './procStat.js';
import type { WindowEnd } from './worker.js';

/** After the window, wait this long for packets sent in it before counting. */
const GRACE_MS = 300;

/** Our SFU's figures at a window's end (its host process's `windowEnd`). */
export interface HostWindowEnd {
  /** The event-loop lag histogram's maximum over the window (its sampling period included). */
  lagMaxMs: number;
  /** The longest any datagram waited in the focus's sockets before it read it (add-on reads; else absent). */
  receiveWaitMaxMs?: number;
  counters: Record<string, number>;
}

export interface WindowResult {
  wallMs: number;
  /** The server's CPU ms over the window. */
  serverCpuMs: number;
  serverRssBytes: number | undefined;
  /** Kernel UDP receive-buffer drops in the window (undefined where unreadable). */
  kernelUdpDrops: number | undefined;
  /** One per load process, in the order given. */
  ends: WindowEnd[];
  /** Our SFU (`host`): counters at the start, and its lag and counters at the end. */
  hostStart: Record<string, number>;
  hostEnd: HostWindowEnd | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureWindow(o: {
  /** The server process measured (our SFU's host process, or Janus). */
  pid: number;
  loads: readonly Child[];
  /** Our SFU's host process, for its counters (absent for Janus). */
  host?: Child;
  seconds: number;
  /** Network namespaces whose UDP drops count (default: the bench's own). */
  namespaces?: readonly string[];
}): Promise<WindowResult> {
  const drops = () =>
    (o.namespaces ?? [undefined]).reduce<number | undefined>((n, ns) => {
      const v = udpRcvbufErrors(ns);
      return n === undefined || v === undefined ? undefined : n + v;
    }, 0);
  const hostStart = (await o.host?.call<Record<string, number>>('windowStart')) ?? {};
  const drops0 = drops();
  await Promise.all(o.loads.map((w) => w.call('windowStart')));
  const cpu0 = cpuMs(o.pid) ?? 0;
  const t0 = performance.now();
  const fromMs = Number(process.hrtime.bigint()) / 1e6;
  await sleep(o.seconds * 1000);
  const cpu1 = cpuMs(o.pid) ?? 0;
  const wallMs = performance.now() - t0;
  const toMs = Number(process.hrtime.bigint()) / 1e6;
  const drops1 = drops();
  await sleep(GRACE_MS); // packets sent before the end are still on their way
  const ends = await Promise.all(o.loads.map((w) => w.call<WindowEnd>('windowEnd', { fromMs, toMs })));
  const hostEnd = await o.host?.call<HostWindowEnd>('windowEnd');
  return {
    wallMs,
    serverCpuMs: cpu1 - cpu0,
    serverRssBytes: rssBytes(o.pid),
    kernelUdpDrops: drops0 !== undefined && drops1 !== undefined ? drops1 - drops0 : undefined,
    ends,
    hostStart,
    hostEnd,
  };
}

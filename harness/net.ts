/** Loopback helpers for tests: free ports, polling an URL, waiting for a child process to exit. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Whether a TCP server can listen on 127.0.0.1:`port` now (it is closed again before this resolves). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => {
      resolve(false);
    });
    srv.listen(port, '127.0.0.1', () => {
      srv.close(() => {
        resolve(true);
      });
    });
  });
}

/**
 * The TCP ports this process hands out: a slice of [20000, 32000) picked by pid, below the kernel's ephemeral range
 * (32768–60999 by default), so no client socket of any process can take one between this check and the server
 * that listens on it (a port from `listen(0)` could be, and a focus then failed with EADDRINUSE). Two test
 * processes share a slice only when their pids do modulo PORT_SLICES, and then the check still sees ports in use.
 */
const PORT_BASE = 20_000;
const PORT_SLICE = 60;
const PORT_SLICES = 200;
let portCursor = 0;

/** A free TCP port on 127.0.0.1 for a server this test starts (from this process's slice; else any). */
export async function freePort(): Promise<number> {
  const start = PORT_BASE + (process.pid % PORT_SLICES) * PORT_SLICE;
  for (let i = 0; i < PORT_SLICE; i++) {
    const port = start + (portCursor++ % PORT_SLICE);
    if (await canListen(port)) {
      return port;
    }
  }
  return ephemeralPort();
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => {
        resolve(port);
      });
    });
  });
}

/** Polls `url` until `accept(status)` holds or `timeoutMs` passes; returns the last status (0 = no answer). */
export async function pollUntil(
  url: string,
  accept: (status: number) => boolean,
  timeoutMs: number,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  let status = 0;
  while (Date.now() < end) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      status = res.status;
      await res.arrayBuffer();
      if (accept(status)) {
        return status;
      }
    } catch {
      status = 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

export function waitExit(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) {
      resolve({ code: child.exitCode, signal: null, ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - start });
    });
  });
}

/**
 * Local UDP ports in [min, max] bound by sockets of THIS process, or of process `pid` (/proc/net/udp{,6} joined
 * with /proc/<pid>/fd).
 */
export async function udpPortsInRange(
  min: number,
  max: number,
  pid: number | 'self' = 'self',
): Promise<number[]> {
  const { readFile, readdir, readlink } = await import('node:fs/promises');
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m?.[1] !== undefined) {
      inodes.add(m[1]);
    }
  }
  const ports = new Set<number>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const hex = cols[1]?.split(':').at(-1);
      const inode = cols[9];
      if (hex === undefined || inode === undefined || !inodes.has(inode)) {
        continue;
      }
      const port = parseInt(hex, 16);
      if (port >= min && port <= max) {
        ports.add(port);
      }
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * UDP datagrams the kernel dropped because a socket's receive buffer was full (all sockets of the machine,
 * /proc/net/snmp `Udp: RcvbufErrors`); 0 where unavailable. Lets a test tell its own loss from the machine's.
 */
export function udpReceiveBufferErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const i = names.indexOf('RcvbufErrors');
    return i < 0 ? 0 : Number(values[i] ?? 0);
  } catch {
    return 0;
  }
}

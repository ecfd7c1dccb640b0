/**
 * CPU time of any process from /proc/<pid>/stat (utime + stime, in clock ticks of 10 ms), the same method
 * for our SFU and for Janus (performance.md §5); and machine facts for the result files.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const TICK_MS = 10;

/** CPU milliseconds (user + system) a process has used so far; undefined when it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3; utime/stime are 14/15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** CPU milliseconds a process has used so far in user and in kernel mode (utime, stime); undefined when gone. */
export function cpuSplitMs(pid: number): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(rest[11]) * TICK_MS, system: Number(rest[12]) * TICK_MS };
  } catch {
    return undefined;
  }
}

/**
 * CPU milliseconds a process's threads have run so far (the scheduler's own nanosecond count,
 * /proc/<pid>/task/<tid>/schedstat), split into the main thread (the event loop: our JS and its system calls) and
 * every other thread (V8's GC and compiler helpers, libuv's pool); undefined when the process is gone. Threads
 * that ended before the reading are in neither (they are rare in a focus: the pools are fixed).
 */
export function threadCpuMs(pid: number): { main: number; helpers: number } | undefined {
  try {
    let main = 0;
    let helpers = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let ns: number;
      try {
        ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        continue; // the thread ended between the listing and the read
      }
      if (Number(tid) === pid) {
        main += ns / 1e6;
      } else {
        helpers += ns / 1e6;
      }
    }
    return { main, helpers };
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes; undefined when the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

export function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/**
 * UDP datagrams the kernel dropped for a full socket receive buffer (`Udp: RcvbufErrors` of /proc/net/snmp),
 * in the current network namespace or in `netns`; undefined where unreadable. Tells the bench's loss at a
 * socket (SFU's, Janus's or a load peer's) from loss inside a server.
 */
export function udpRcvbufErrors(netns?: string): number | undefined {
  try {
    const text =
      netns === undefined
        ? readFileSync('/proc/net/snmp', 'utf8')
        : execFileSync('/usr/sbin/ip', ['netns', 'exec', netns, 'cat', '/proc/net/snmp'], {
            timeout: 5000,
          }).toString();
    const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const i = names.indexOf('RcvbufErrors');
    return i < 0 ? undefined : Number(values[i]);
  } catch {
    return undefined;
  }
}

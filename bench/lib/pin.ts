/**
 * CPU pinning for the one-core measurements (`meeting --pin`): `taskset -a -p -c` sets the affinity of every
 * thread a process has (Node's main thread, V8's helpers, libuv's pool); threads made later inherit it.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export class PinError extends Error {
  override readonly name = 'PinError';
}

/** Pins process `pid` (all its threads) to the CPUs `cpus` (taskset's list syntax, e.g. "0" or "1-3"). */
export function pin(pid: number, cpus: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  } catch (e) {
    throw new PinError(`taskset could not pin pid ${pid} to CPU ${cpus}: ${(e as Error).message}`);
  }
}

/** The CPUs left for the load when the server takes CPU 0: "1" on 2 CPUs, "1-N" on more. */
export function loadCpus(): string {
  const n = cpus().length; // not availableParallelism(): that follows this process's own affinity, pinned or not
  if (n < 2) {
    throw new PinError('pinning needs at least 2 CPUs (the server on one, the load on the others)');
  }
  return n === 2 ? '1' : `1-${n - 1}`;
}

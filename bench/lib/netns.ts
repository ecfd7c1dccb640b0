/**
 * Two network namespaces the bench creates for the Janus side-by-side (performance.md §2: libnice never
 * offers 127.0.0.1, and the bench must not send to the machine's own address): Janus's, with v0 10.233.0.1/24,
 * and the load processes', with v1 10.233.0.2/24, joined by a veth pair, like two hosts on a cable. (With both
 * ends in one namespace the kernel drops Janus's ARP: libnice sends out of v0, and v1 ignores a request from
 * an address that is its own.) Nothing else is routed; both are deleted, veth pair included, at the end.
 */
import { execFileSync } from 'node:child_process';

export const JANUS_ADDRESS = '10.233.0.1';
export const CLIENT_ADDRESS = '10.233.0.2';
const IP = '/usr/sbin/ip';

export class NetnsError extends Error {
  override name = 'NetnsError';
}

function ip(args: string[]): string {
  try {
    return execFileSync(IP, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new NetnsError(
      `ip ${args.join(' ')} failed: ${stderr ?? String(e)} (network namespaces need root and iproute2)`,
    );
  }
}

export class BenchNetns {
  /** Janus's namespace. */
  readonly server: string;
  /** The load processes' namespace. */
  readonly clients: string;
  #deleted = false;

  private constructor(base: string) {
    this.server = `${base}-j`;
    this.clients = `${base}-c`;
  }

  static create(): BenchNetns {
    BenchNetns.removeStale();
    const ns = new BenchNetns(`sfubench-${process.pid}`);
    // Also on an exit by a signal or an error (run.ts turns SIGINT/SIGTERM into an exit).
    process.once('exit', () => {
      ns.delete();
    });
    try {
      ip(['netns', 'add', ns.server]);
      ip(['netns', 'add', ns.clients]);
      ip(['-n', ns.server, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', ns.clients]);
      for (const [name, dev, addr] of [
        [ns.server, 'v0', JANUS_ADDRESS],
        [ns.clients, 'v1', CLIENT_ADDRESS],
      ] as const) {
        ip(['-n', name, 'link', 'set', 'lo', 'up']);
        ip(['-n', name, 'addr', 'add', `${addr}/24`, 'dev', dev]);
        ip(['-n', name, 'link', 'set', dev, 'up']);
      }
    } catch (e) {
      ns.delete();
      throw e;
    }
    return ns;
  }

  /** The command prefix that runs a program inside namespace `name`. */
  static exec(name: string): string[] {
    return [IP, 'netns', 'exec', name];
  }

  /** Kills what still runs inside and deletes both namespaces (synchronous: usable in an exit handler). */
  delete(): void {
    if (this.#deleted) {
      return;
    }
    this.#deleted = true;
    removeNamespace(this.server);
    removeNamespace(this.clients);
  }

  /** Namespaces left by a bench run that was killed (its pid is gone), with whatever still runs in them. */
  static removeStale(): void {
    let list: string;
    try {
      list = ip(['netns', 'list']);
    } catch {
      return;
    }
    for (const line of list.split('\n')) {
      const m = /^(sfubench-(\d+)-[jc])\b/.exec(line);
      if (m !== null && !alive(Number(m[2]))) {
        removeNamespace(m[1]!);
      }
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function removeNamespace(name: string): void {
  try {
    for (const pid of ip(['netns', 'pids', name]).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    ip(['netns', 'delete', name]);
  } catch {
    // never created, or already gone
  }
}

/**
 * Datagrams the kernel dropped at this focus's UDP sockets because their receive buffer was full (Linux:
 * the `drops` column of /proc/net/udp and /proc/net/udp6), for `sfu_udp_receive_drops_total`. Read at scrape
 * time, never on the packet path. Sockets are those bound to a port in `media.port_range` (the range is the
 * focus's own; another process binding in it would be counted too). The column is per socket and goes with
 * the socket, so each socket's (inode's) last value is kept and the total is their sum: monotonic, short only
 * of what a socket dropped after the last scrape before it closed. Elsewhere than Linux: nothing is read.
 */
import { readFileSync } from 'node:fs';

export interface UdpSocketDrops {
  readonly port: number;
  readonly inode: string;
  readonly drops: number;
}

/** The sockets of one /proc/net/udp{,6} table (header line skipped; malformed lines ignored). */
export function parseProcNetUdp(text: string): UdpSocketDrops[] {
  const out: UdpSocketDrops[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) {
      continue;
    }
    const local = f[1] ?? '';
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const inode = f[9] ?? '';
    const drops = Number(f[f.length - 1]);
    if (
      Number.isInteger(port) &&
      port > 0 &&
      port < 65_536 &&
      /^\d+$/.test(inode) &&
      Number.isInteger(drops)
    ) {
      out.push({ port, inode, drops });
    }
  }
  return out;
}

const TABLES = ['/proc/net/udp', '/proc/net/udp6'];
/** Inodes remembered at most (oldest forgotten first). */
const MAX_SOCKETS = 100_000;

export class UdpDrops {
  readonly #min: number;
  readonly #max: number;
  readonly #read: () => readonly string[];
  readonly #last = new Map<string, number>();
  #total = 0;

  /** `read`: the tables' texts (default: /proc/net/udp and udp6; unreadable ones skipped). */
  constructor(range: { min: number; max: number }, read?: () => readonly string[]) {
    this.#min = range.min;
    this.#max = range.max;
    this.#read = read ?? readTables;
  }

  /** Drops so far on sockets in the range (monotonic). */
  total(): number {
    for (const text of this.#read()) {
      for (const s of parseProcNetUdp(text)) {
        if (s.port < this.#min || s.port > this.#max) {
          continue;
        }
        const before = this.#last.get(s.inode) ?? 0;
        if (s.drops > before) {
          this.#total += s.drops - before;
          this.#last.delete(s.inode);
          this.#last.set(s.inode, s.drops);
          if (this.#last.size > MAX_SOCKETS) {
            const oldest = this.#last.keys().next().value;
            if (oldest !== undefined) {
              this.#last.delete(oldest);
            }
          }
        }
      }
    }
    return this.#total;
  }
}

function readTables(): string[] {
  if (process.platform !== 'linux') {
    return [];
  }
  const out: string[] = [];
  for (const path of TABLES) {
    try {
      out.push(readFileSync(path, 'utf8'));
    } catch {
      // no IPv6, or no /proc: nothing to read
    }
  }
  return out;
}

/**
 * The processes of one bench run: the SFU process (homeserver + SFU, bench/lib/host.ts) and load processes
 * (bench/lib/worker.ts), each waited for until ready, all stopped together (in reverse order) at the end.
 */
import { fileURLToPath } from 'node:url';
import { FOCUS_NODE_FLAGS } from '../../src/nodeFlags.js';
import { Child } from './rpc.js';
import type { Env } from './worker.js';

const HOST = fileURLToPath(new URL('./host.ts', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const CASCADE_HOST = fileURLToPath(new URL('./cascadeHost.ts', import.meta.url));

/** What the cascade host (bench/lib/cascadeHost.ts) says about one server name. */
export interface CascadeFocus {
  serverName: string;
  hsUrl: string;
  focus: Env['focus'];
  /** The focus process (its CPU is measured). */
  pid: number;
  httpPort: number;
}

export class BenchProcesses {
  readonly #children: Child[] = [];
  readonly #extra: (() => Promise<void> | void)[] = [];

  /**
   * Starts the SFU process with the focus's Node flags (src/nodeFlags.ts, as npm start runs it); `execArgv` adds
   * more (e.g. `--expose-gc`).
   */
  async sfu(execArgv: string[] = []): Promise<{ host: Child; env: Env }> {
    const host = new Child(HOST, 'sfu', { execArgv: [...FOCUS_NODE_FLAGS, ...execArgv] });
    this.#children.push(host);
    await host.ready;
    const info = await host.call<{ hsUrl: string; roomId: string; focus: Env['focus'] }>('info');
    return { host, env: { hsUrl: info.hsUrl, roomId: info.roomId, focus: info.focus } };
  }

  /**
   * Starts the cascade host: the homeserver serving `serverNames`, one focus process per name, one room.
   * `skipUnwatched: false` sets every focus's `media.skip_unwatched_layers` off (each layer decrypted and read);
   * `invitesPerSecond` sets `limits.device_invites_per_second` (the churn's devices re-invite several times a
   * second, far above a real client's pace); `focusFlags`: more Node flags for every focus (after
   * BENCH_FOCUS_NODE_FLAGS); `maxLinkBps`: every focus's `cascade.max_link_bps` (else BENCH_MAX_LINK_BPS, else
   * the config's default).
   */
  async cascadeHost(
    serverNames: readonly string[],
    opts: {
      skipUnwatched?: boolean;
      invitesPerSecond?: number;
      focusFlags?: readonly string[];
      maxLinkBps?: number;
    } = {},
  ): Promise<{ host: Child; roomId: string; foci: CascadeFocus[] }> {
    const host = new Child(CASCADE_HOST, 'cascade-host', {
      env: {
        BENCH_CASCADE_SERVERS: serverNames.join(','),
        BENCH_SKIP_UNWATCHED: opts.skipUnwatched === false ? '0' : '1',
        ...(opts.invitesPerSecond !== undefined
          ? { BENCH_INVITES_PER_SECOND: String(opts.invitesPerSecond) }
          : {}),
        ...(opts.maxLinkBps !== undefined ? { BENCH_MAX_LINK_BPS: String(opts.maxLinkBps) } : {}),
        ...(opts.focusFlags !== undefined
          ? {
              BENCH_FOCUS_NODE_FLAGS: [process.env['BENCH_FOCUS_NODE_FLAGS'] ?? '', ...opts.focusFlags]
                .join(' ')
                .trim(),
            }
          : {}),
      },
    });
    this.#children.push(host);
    await host.ready;
    const info = await host.call<{ roomId: string; foci: CascadeFocus[] }>('info');
    return { host, ...info };
  }

  /** Starts one load process; `prefix` runs it under a command (e.g. inside a network namespace). */
  async worker(name: string, prefix?: string[]): Promise<Child> {
    const [w] = await this.workers([name], prefix);
    return w!;
  }

  /** Starts one load process per name, in parallel. */
  async workers(names: readonly string[], prefix?: string[]): Promise<Child[]> {
    // BENCH_WORKER_NODE_FLAGS: Node flags for every load process (e.g. `--trace-gc`, with BENCH_CHILD_STDOUT=1).
    const execArgv = (process.env['BENCH_WORKER_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
    const ws = names.map(
      (n) => new Child(WORKER, n, { execArgv, ...(prefix !== undefined ? { prefix } : {}) }),
    );
    this.#children.push(...ws);
    await Promise.all(ws.map((w) => w.ready));
    return ws;
  }

  /** Stops something else with the processes (e.g. Janus), after them. */
  onStop(fn: () => Promise<void> | void): void {
    this.#extra.push(fn);
  }

  async stopAll(): Promise<void> {
    const all = this.#children.splice(0).reverse();
    await Promise.all(all.map((c) => c.stop().catch(() => undefined)));
    for (const fn of this.#extra.splice(0).reverse()) {
      await fn();
    }
  }
}

/**
 * The processes of one bench run: the SFU process (homeserver + SFU, bench/lib/host.ts) and load processes
 * (bench/lib/worker.ts), each waited for until ready, all stopped together (in reverse order) at the end.
 */
import { fileURLToPath } from 'node:url';
import { Child } from './rpc.js';
import type { Env } from './worker.js';

const HOST = fileURLToPath(new URL('./host.ts', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export class BenchProcesses {
  readonly #children: Child[] = [];

  /** Starts the SFU process; `execArgv` adds Node flags (e.g. `--expose-gc`). */
  async sfu(execArgv: string[] = []): Promise<{ host: Child; env: Env }> {
    const host = new Child(HOST, 'sfu', {}, execArgv);
    this.#children.push(host);
    await host.ready;
    const info = await host.call<{ hsUrl: string; roomId: string; focus: Env['focus'] }>('info');
    return { host, env: { hsUrl: info.hsUrl, roomId: info.roomId, focus: info.focus } };
  }

  /** Starts one load process. */
  async worker(name: string): Promise<Child> {
    const w = new Child(WORKER, name);
    this.#children.push(w);
    await w.ready;
    return w;
  }

  /** Starts one load process per name, in parallel. */
  async workers(names: readonly string[]): Promise<Child[]> {
    const ws = names.map((n) => new Child(WORKER, n));
    this.#children.push(...ws);
    await Promise.all(ws.map((w) => w.ready));
    return ws;
  }

  async stopAll(): Promise<void> {
    const all = this.#children.splice(0).reverse();
    await Promise.all(all.map((c) => c.stop().catch(() => undefined)));
  }
}

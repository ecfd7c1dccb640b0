/**
 * A tiny request/response protocol over a forked child's IPC channel, for the bench's processes (SFU host,
 * load workers). The parent calls `call(op, args)`; the child registers handlers with `serve`. Every call has
 * a timeout, and a child that exits fails its pending calls.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Request {
  id: number;
  op: string;
  args: unknown;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Runs TypeScript children through tap's loader, like `npm run dev` (no type checking at run time). */
const EXEC_ARGV = ['--import', '@tapjs/typescript/import'];

export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Resolves when the child said it is ready (its reply with id 0). */
  readonly ready: Promise<void>;
  #next = 1;
  #exited = false;

  /**
   * `prefix`: a command the child runs under (e.g. `ip netns exec <ns>`); the IPC channel's descriptor is
   * inherited through it.
   */
  constructor(
    path: string,
    name: string,
    o: { env?: Record<string, string>; execArgv?: string[]; prefix?: string[] } = {},
  ) {
    this.name = name;
    const [prefixCmd, ...prefixArgs] = o.prefix ?? [];
    const node = [...EXEC_ARGV, ...(o.execArgv ?? [])];
    this.process = fork(path, [], {
      ...(prefixCmd !== undefined
        ? { execPath: prefixCmd, execArgv: [...prefixArgs, process.execPath, ...node] }
        : { execArgv: node }),
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...o.env },
      serialization: 'advanced',
      // BENCH_CHILD_STDOUT=1: the children's stdout too (diagnostics such as --trace-gc print there).
      stdio: ['ignore', process.env['BENCH_CHILD_STDOUT'] === '1' ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    });
    let ready: () => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.process.on('message', (m: Reply) => {
      if (m.id === 0) {
        ready();
        return;
      }
      const p = this.#pending.get(m.id);
      if (p === undefined) {
        return;
      }
      this.#pending.delete(m.id);
      if (m.ok) {
        p.resolve(m.result);
      } else {
        p.reject(new Error(`${name}: ${m.error ?? 'failed'}`));
      }
    });
    this.process.on('exit', (code, signal) => {
      this.#exited = true;
      failed(new Error(`${name} exited (${signal ?? code}) before it was ready`));
      for (const p of this.#pending.values()) {
        p.reject(new Error(`${name} exited (${signal ?? code})`));
      }
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  call<T>(op: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    if (this.#exited) {
      return Promise.reject(new Error(`${this.name} has exited`));
    }
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ id, op, args } satisfies Request);
    });
  }

  /** Asks the child to stop, then kills it after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#exited) {
      return;
    }
    const exited = new Promise<void>((r) => {
      this.process.once('exit', () => {
        r();
      });
    });
    await this.call('stop', {}, graceMs).catch(() => undefined);
    const timer = setTimeout(() => {
      this.process.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** In a child: answers requests with `handlers[op](args)`; `stop` runs `onStop` and exits. */
export function serve(handlers: Record<string, (args: never) => unknown>, onStop: () => Promise<void>): void {
  process.on('message', (m: Request) => {
    void (async () => {
      let reply: Reply;
      try {
        if (m.op === 'stop') {
          await onStop();
          reply = { id: m.id, ok: true };
          if (process.connected) {
            process.send?.(reply, () => process.exit(0));
          } else {
            process.exit(0);
          }
          return;
        }
        const h = handlers[m.op];
        if (h === undefined) {
          throw new Error(`unknown op ${m.op}`);
        }
        reply = { id: m.id, ok: true, result: await h(m.args as never) };
      } catch (e) {
        reply = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      if (process.connected) {
        process.send?.(reply); // else the parent is gone: `disconnect` below stops this process
      }
    })();
  });
  process.on('disconnect', () => {
    void onStop().finally(() => process.exit(0));
  });
}

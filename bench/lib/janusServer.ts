/**
 * Janus (Debian's `janus` package, 1.1.2 here) as the bench's comparison SFU, run by hand with a private config
 * (performance.md §2): only the VideoRoom plugin and the HTTP transport (plain JSON, on 10.233.0.1 inside the
 * bench's namespace: reachable from the load's namespace only), no STUN/TURN, mDNS ignored, loggers and event
 * handlers off, `event_loops` = cores, candidates on v0 (10.233.0.1). `BENCH_JANUS_LOG=<file>` keeps its log
 * (its stdout is block-buffered). The bench installs nothing: without Janus it says how to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchNetns, JANUS_ADDRESS } from './netns.js';

export const JANUS_BIN = '/usr/bin/janus';
/** On the bench's private link (its own namespaces), so this port cannot clash with anything on the machine. */
export const JANUS_HTTP = `http://${JANUS_ADDRESS}:8088/janus`;
const READY_LINE = /HTTP webserver started/;
const START_TIMEOUT_MS = 20_000;
/** One event loop per core (performance.md §2: the default threading costs ≈ 2× more). */
export const JANUS_EVENT_LOOPS = cpus().length;

const OTHER_PLUGINS = [
  'audiobridge',
  'duktape',
  'echotest',
  'lua',
  'nosip',
  'recordplay',
  'sip',
  'streaming',
  'textroom',
  'videocall',
  'voicemail',
];
const OTHER_TRANSPORTS = ['mqtt', 'nanomsg', 'pfunix', 'rabbitmq', 'websockets'];

export class JanusUnavailableError extends Error {
  override name = 'JanusUnavailableError';
}

export function janusInstalled(): boolean {
  return existsSync(JANUS_BIN);
}

function configs(dir: string): Record<string, string> {
  const so = (names: string[]) => names.map((n) => `libjanus_${n}.so`).join(',');
  return {
    'janus.jcfg': `general: {
  configs_folder = "${dir}"
  server_name = "sfubench"
  interface = "${JANUS_ADDRESS}"
  debug_level = 4
  event_loops = ${JANUS_EVENT_LOOPS}
}
media: {
  rtp_port_range = "20000-40000"
}
nat: {
  ice_enforce_list = "v0"
  ignore_mdns = true
}
plugins: {
  disable = "${so(OTHER_PLUGINS)}"
}
transports: {
  disable = "${so(OTHER_TRANSPORTS)}"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
`,
    'janus.transport.http.jcfg': `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = 8088
  ip = "${JANUS_ADDRESS}"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
`,
    'janus.plugin.videoroom.jcfg': `general: {
}
`,
  };
}

export class JanusServer {
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #exited: Promise<void>;
  /** Janus's last log lines (for errors). */
  readonly #tail: string[] = [];

  private constructor(child: ChildProcess, dir: string) {
    this.#child = child;
    this.#dir = dir;
    this.pid = child.pid ?? 0;
    this.#exited = new Promise((r) =>
      child.once('exit', () => {
        r();
      }),
    );
  }

  /** Starts Janus inside `ns` and waits until its HTTP transport listens. */
  static async start(ns: BenchNetns): Promise<JanusServer> {
    if (!janusInstalled()) {
      throw new JanusUnavailableError(`${JANUS_BIN} not found: install it with \`apt-get install -y janus\``);
    }
    const dir = mkdtempSync(join(tmpdir(), 'sfubench-janus-'));
    for (const [name, text] of Object.entries(configs(dir))) {
      writeFileSync(join(dir, name), text);
    }
    const [cmd, ...pre] = BenchNetns.exec(ns.server);
    const child = spawn(
      cmd!,
      [
        ...pre,
        JANUS_BIN,
        '-C',
        join(dir, 'janus.jcfg'),
        '-F',
        dir,
        '-o',
        ...(process.env['BENCH_JANUS_LOG'] ? ['-L', process.env['BENCH_JANUS_LOG']] : []),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const server = new JanusServer(child, dir);
    const tail = server.#tail;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new JanusUnavailableError(`janus did not start in ${START_TIMEOUT_MS} ms:\n${tail.join('\n')}`),
        );
      }, START_TIMEOUT_MS);
      const onLine = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          tail.push(line);
          if (tail.length > 200) {
            tail.shift();
          }
          if (READY_LINE.test(line)) {
            clearTimeout(timer);
            resolve();
          }
        }
      };
      child.stdout.on('data', onLine);
      child.stderr.on('data', onLine);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new JanusUnavailableError(`janus exited (${signal ?? code}):\n${tail.join('\n')}`));
      });
    }).catch(async (e: unknown) => {
      await server.stop();
      throw e;
    });
    return server;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGINT');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

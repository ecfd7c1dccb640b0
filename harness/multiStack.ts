/**
 * Several foci on loopback, one per server name of ONE strict test homeserver (its `federation` option): each
 * server name has its own registration (own tokens, `@sfu:<name>` namespace), its own focus `@sfu:<name>` and
 * its own config. Foci are real SFU processes (`node dist/src/main.js -c <file>`, as a user runs it; needs
 * `npm run build`) or, with `mode: 'inprocess'`, Sfu instances in this process (tests that inspect internals).
 * A focus can be stopped (SIGTERM or kill -9) and started again with the same ports, config and registration.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { FOCUS_NODE_FLAGS } from '../src/nodeFlags.js';
import { escapeRegex, type Registration } from '../src/appservice/registration.js';
import { Metrics } from '../src/observability/metrics.js';
import { Sfu } from '../src/sfu.js';
import { startTestHomeserver, type TestHomeserver, type TestHomeserverOptions } from './homeserver/index.js';
import { freePort, pollUntil, waitExit } from './net.js';
import { testConfig, testRegistration, type Teardown } from './sfu.js';
import { MEDIA_PORTS, waitFor } from './stack.js';

const MAIN = new URL('../dist/src/main.js', import.meta.url).pathname;
export const FOCUS_DEVICE = 'SFUDEV1';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
/** Output kept per focus process (the tail matters when it fails). */
const MAX_OUTPUT = 200_000;

export type FocusMode = 'process' | 'inprocess';

export interface MultiStackOptions {
  /** Server names, one focus each (default a.example and b.example); the first is the homeserver's first. */
  serverNames?: string[];
  /** Real processes (default) or in-process Sfu instances. */
  mode?: FocusMode;
  /** Merged (per top-level key) into every focus's config. */
  config?: Record<string, unknown>;
  /** Merged (per top-level key) into the config of one focus, after `config`. */
  configFor?: (serverName: string) => Record<string, unknown>;
  homeserver?: Omit<TestHomeserverOptions, 'serverName' | 'appservices' | 'federation'>;
  /** Runs against the homeserver before any focus starts (create users, rooms, state). */
  before?: (hs: TestHomeserver) => void | Promise<void>;
  /** Start every focus and wait until it is ready (default true). */
  start?: boolean;
  /**
   * What a focus process runs (mode `process`): default `dist/src/main.js` with no extra Node flags (needs
   * `npm run build`); the bench runs `src/main.ts` under the TypeScript loader instead.
   */
  entry?: { main: string; execArgv?: string[] };
}

export interface FocusNode {
  serverName: string;
  /** The listener of this server name on the test homeserver. */
  hsUrl: string;
  registration: Registration;
  /** The config as written (unvalidated keys, as in a user's YAML). */
  config: Record<string, unknown>;
  focus: { user_id: string; device_id: string };
  asPort: number;
  httpPort: number;
  /** The SFU while running in process (mode `inprocess`). */
  readonly sfu: Sfu | undefined;
  /** The focus process while running (mode `process`). */
  readonly child: ChildProcess | undefined;
  readonly running: boolean;
  /** The process's stdout and stderr so far (its last MAX_OUTPUT characters). */
  output(): string;
  /** Starts the focus and resolves once /readyz answers 200. */
  start(): Promise<void>;
  /** SIGTERM (orderly stop) or SIGKILL (a crash); waits for the exit. In process both stop the Sfu orderly. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export interface MultiStack {
  hs: TestHomeserver;
  nodes: FocusNode[];
  /** The focus of `serverName`. */
  node(serverName: string): FocusNode;
}

/** The registration of the focus of `serverName`: fresh tokens, exclusive namespace of `@sfu:<serverName>`. */
export function focusRegistration(serverName: string, asPort: number): Registration {
  const token = (kind: string): string => `${kind}-${serverName}-${randomBytes(8).toString('hex')}`;
  return testRegistration({
    url: `http://127.0.0.1:${asPort}`,
    as_token: token('as'),
    hs_token: token('hs'),
    namespaces: { users: [{ regex: `^${escapeRegex(`@sfu:${serverName}`)}$`, exclusive: true }] },
  });
}

/** `MEDIA_PORTS` of this test process split into `n` disjoint slices, one per focus. */
export function mediaPortSlices(n: number): { min: number; max: number }[] {
  const size = Math.floor((MEDIA_PORTS.max - MEDIA_PORTS.min + 1) / n);
  if (size < 4) {
    throw new Error(`too many foci (${n}) for the ${MEDIA_PORTS.max - MEDIA_PORTS.min + 1} media ports`);
  }
  return Array.from({ length: n }, (_, i) => ({
    min: MEDIA_PORTS.min + i * size,
    max: MEDIA_PORTS.min + (i + 1) * size - 1,
  }));
}

export async function startMultiStack(t: Teardown, opts: MultiStackOptions = {}): Promise<MultiStack> {
  const names = opts.serverNames ?? ['a.example', 'b.example'];
  const [first, ...others] = names;
  if (first === undefined) {
    throw new Error('startMultiStack: no server names');
  }
  const mode = opts.mode ?? 'process';
  const entry = opts.entry ?? { main: MAIN };
  if (mode === 'process' && opts.entry === undefined && !existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  }
  const ports = await Promise.all(names.map(async () => ({ as: await freePort(), http: await freePort() })));
  const registrations = names.map((name, i) => focusRegistration(name, ports[i]!.as));
  const asEntry = (reg: Registration) => ({
    ...reg,
    url: reg.url ?? '',
    namespaces: { users: reg.namespaces.users },
  });
  const hs = await startTestHomeserver({
    logger: false,
    ...opts.homeserver,
    serverName: first,
    appservices: [asEntry(registrations[0]!)],
    federation: others.map((serverName, i) => ({
      serverName,
      appservices: [asEntry(registrations[i + 1]!)],
    })),
  });
  t.teardown(() => hs.close());
  const dir = mkdtempSync(join(tmpdir(), 'sfu-multi-'));
  const slices = mediaPortSlices(names.length);
  const nodes = names.map((serverName, i) =>
    makeNode({
      serverName,
      hsUrl: hs.urlOf(serverName),
      registration: registrations[i]!,
      asPort: ports[i]!.as,
      httpPort: ports[i]!.http,
      mediaPorts: slices[i]!,
      allServers: names,
      dir,
      mode,
      entry,
      extra: { ...opts.config, ...opts.configFor?.(serverName) },
    }),
  );
  // Teardowns run in order: foci first, then the folder (the homeserver's teardown was queued before).
  t.teardown(() => Promise.all(nodes.map((n) => n.stop('SIGTERM'))));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  await opts.before?.(hs);
  if (opts.start !== false) {
    await Promise.all(nodes.map((n) => n.start()));
  }
  return {
    hs,
    nodes,
    node(serverName) {
      const n = nodes.find((x) => x.serverName === serverName);
      if (n === undefined) {
        throw new Error(`no focus for ${serverName}`);
      }
      return n;
    },
  };
}

interface NodeSpec {
  serverName: string;
  hsUrl: string;
  registration: Registration;
  asPort: number;
  httpPort: number;
  mediaPorts: { min: number; max: number };
  allServers: string[];
  dir: string;
  mode: FocusMode;
  entry: { main: string; execArgv?: string[] };
  extra: Record<string, unknown>;
}

function makeNode(s: NodeSpec): FocusNode {
  const regFile = join(s.dir, `registration-${s.serverName}.yaml`);
  const cfgFile = join(s.dir, `config-${s.serverName}.yaml`);
  const config: Record<string, unknown> = {
    homeserver: { url: s.hsUrl, server_name: s.serverName, request_timeout_s: 5 },
    // Rooms of every server name of the federation may hold this focus's calls.
    matrix: { auto_join_allow: s.allServers },
    appservice: { bind: '127.0.0.1', port: s.asPort, registration: regFile },
    http: { bind: '127.0.0.1', port: s.httpPort },
    focus: { device_id: FOCUS_DEVICE },
    media: { bind_address: '127.0.0.1', port_range: s.mediaPorts },
    logging: { level: process.env['SFU_TEST_LOG'] ?? (s.mode === 'process' ? 'warn' : 'silent') },
    ...s.extra,
  };
  writeFileSync(regFile, stringify(s.registration), { mode: 0o600 });
  writeFileSync(cfgFile, stringify(config));
  let sfu: Sfu | undefined;
  let child: ChildProcess | undefined;
  let output = '';

  const spawnFocus = (): ChildProcess => {
    const args = [
      '--enable-source-maps',
      ...FOCUS_NODE_FLAGS, // as npm start and the Docker image run it
      ...(s.entry.execArgv ?? []),
      s.entry.main,
      '-c',
      cfgFile,
    ];
    const c = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // SFU_TEST_LOG_DIR: each focus's whole output is also appended to <dir>/<server name>.log (debugging aid).
    const logDir = process.env['SFU_TEST_LOG_DIR'];
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-MAX_OUTPUT);
      if (logDir !== undefined && logDir !== '') {
        appendFileSync(join(logDir, `${s.serverName}.log`), d);
      }
    };
    c.stdout.on('data', keep);
    c.stderr.on('data', keep);
    return c;
  };

  const node: FocusNode = {
    serverName: s.serverName,
    hsUrl: s.hsUrl,
    registration: s.registration,
    config,
    focus: { user_id: `@${s.registration.sender_localpart}:${s.serverName}`, device_id: FOCUS_DEVICE },
    asPort: s.asPort,
    httpPort: s.httpPort,
    get sfu() {
      return sfu;
    },
    get child() {
      return child;
    },
    get running() {
      return (
        sfu !== undefined || (child !== undefined && child.exitCode === null && child.signalCode === null)
      );
    },
    output: () => output,
    async start() {
      if (node.running) {
        throw new Error(`the focus of ${s.serverName} is already running`);
      }
      if (s.mode === 'inprocess') {
        const validated = testConfig(config);
        sfu = new Sfu({
          config: validated,
          registration: s.registration,
          log: pino({ level: validated.logging.level }),
          metrics: new Metrics({ defaultMetrics: false }),
        });
        await sfu.start();
        const running = sfu;
        await waitFor(() => running.readiness.ready, READY_TIMEOUT_MS, `focus of ${s.serverName} ready`);
        return;
      }
      child = spawnFocus();
      const status = await pollUntil(
        `http://127.0.0.1:${s.httpPort}/readyz`,
        (code) => code === 200 || child?.exitCode !== null,
        READY_TIMEOUT_MS,
      );
      if (status !== 200) {
        throw new Error(
          `focus of ${s.serverName} not ready (readyz ${status}, exit ${String(child.exitCode)}): ${output.slice(-2000)}`,
        );
      }
    },
    async stop(signal = 'SIGTERM') {
      if (sfu !== undefined) {
        const running = sfu;
        sfu = undefined;
        await running.stop(signal === 'SIGKILL' ? 'test kill' : 'test');
        return;
      }
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) {
        return;
      }
      c.kill(signal);
      await waitExit(c, STOP_TIMEOUT_MS);
    },
  };
  return node;
}

/**
 * A running SFU (real listeners on loopback) wired to the strict test homeserver: the homeserver pushes
 * transactions to the SFU's appservice port, the SFU calls the homeserver with its as_token.
 */
import { pino } from 'pino';
import type { Registration } from '../src/appservice/registration.js';
import type { Config } from '../src/config/types.js';
import { Metrics } from '../src/observability/metrics.js';
import { Sfu } from '../src/sfu.js';
import { startTestHomeserver, type TestHomeserver, type TestHomeserverOptions } from './homeserver/index.js';
import { freePort } from './net.js';
import { testConfig, testRegistration, type Teardown } from './sfu.js';

export interface Stack {
  hs: TestHomeserver;
  sfu: Sfu;
  registration: Registration;
  config: Config;
  focus: { user_id: string; device_id: string };
}

export interface StackOptions {
  config?: Record<string, unknown>;
  homeserver?: Omit<TestHomeserverOptions, 'serverName' | 'appservices'>;
  /** Runs against the homeserver before the SFU starts (create users, rooms, state). */
  before?: (hs: TestHomeserver) => void | Promise<void>;
  start?: boolean;
  /** Registration overrides (e.g. no ephemeral push when testing the /sync transport). */
  registration?: Partial<Registration>;
  /** The homeserver URL the SFU is given, from the real one (e.g. a proxy in front of it); default: the real one. */
  homeserverUrl?: (hsUrl: string) => string | Promise<string>;
}

/**
 * A UDP port range private to this test process (tap runs files in parallel), so a test can check that
 * no socket is left open in it (udpPortsInRange counts only this process's sockets).
 */
export const MEDIA_PORTS = (() => {
  // Above the kernel's ephemeral range (32768-60999 by default), so no client socket lands in it by chance.
  const min = 61000 + (process.pid % 40) * 100;
  return { min, max: min + 99 };
})();

export async function startStack(t: Teardown, opts: StackOptions = {}): Promise<Stack> {
  const hs = await startTestHomeserver({ serverName: 'example.org', logger: false, ...opts.homeserver });
  t.teardown(() => hs.close());
  const [asPort, httpPort] = [await freePort(), await freePort()];
  const registration = testRegistration({ url: `http://127.0.0.1:${asPort}`, ...opts.registration });
  hs.addAppservice({
    ...registration,
    url: registration.url ?? '',
    namespaces: { users: registration.namespaces.users },
  });
  await opts.before?.(hs);
  const config = testConfig({
    homeserver: {
      url: opts.homeserverUrl === undefined ? hs.url : await opts.homeserverUrl(hs.url),
      server_name: 'example.org',
      request_timeout_s: 5,
    },
    appservice: { bind: '127.0.0.1', port: asPort },
    http: { bind: '127.0.0.1', port: httpPort },
    media: { bind_address: '127.0.0.1', port_range: MEDIA_PORTS },
    ...opts.config,
  });
  const sfu = new Sfu({
    config,
    registration,
    log: pino({ level: process.env['SFU_TEST_LOG'] ?? 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
  });
  t.teardown(() => sfu.stop('test'));
  if (opts.start !== false) {
    await sfu.start();
  }
  return {
    hs,
    sfu,
    registration,
    config,
    focus: { user_id: sfu.focus.userId, device_id: sfu.focus.deviceId },
  };
}

/** Resolves when `check()` holds, polling every 20 ms; rejects after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

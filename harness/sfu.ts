/** Builds an in-memory Sfu (nothing listens) with a test config, a fixed registration and a silent logger. */
import { pino } from 'pino';
import type { Registration } from '../src/appservice/registration.js';
import { validateConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { Metrics } from '../src/observability/metrics.js';
import { Sfu } from '../src/sfu.js';

/** A tap subtest (what `t.test(name, async (t) => …)` hands its callback). */
export type TapTest = import('@tapjs/test').Test<import('@tapjs/test').BuiltPlugins> &
  import('@tapjs/test').BuiltPlugins;

/** The part of a tap Test that helpers need. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

export const HS_TOKEN = 'hs-secret-token';
export const AS_TOKEN = 'as-secret-token';

export function testRegistration(overrides: Partial<Registration> = {}): Registration {
  return {
    id: 'sfu',
    url: 'http://127.0.0.1:9000',
    as_token: AS_TOKEN,
    hs_token: HS_TOKEN,
    sender_localpart: 'sfu',
    rate_limited: false,
    receive_ephemeral: true,
    'de.sorunome.msc2409.push_ephemeral': true,
    namespaces: { users: [{ regex: '^@sfu:example\\.org$', exclusive: true }] },
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return validateConfig({
    homeserver: { url: 'http://127.0.0.1:1', server_name: 'example.org' },
    focus: { device_id: 'SFUDEV1' },
    logging: { level: 'silent' },
    ...overrides,
  });
}

export function buildTestSfu(
  config: Config = testConfig(),
  registration: Registration = testRegistration(),
): Sfu {
  return new Sfu({
    config,
    registration,
    log: pino({ level: 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
  });
}

/** The Fastify instance that serves the appservice API (the first one). */
export function asApp(sfu: Sfu) {
  const inst = sfu.http.instances.find((i) => i.serves.includes('appservice'));
  if (!inst) {
    throw new Error('no appservice instance');
  }
  return inst.app;
}

export function opsApp(sfu: Sfu) {
  const inst = sfu.http.instances.find((i) => i.serves.includes('ops'));
  if (!inst) {
    throw new Error('no ops instance');
  }
  return inst.app;
}

import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseConfigText, validateConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/util/errors.js';

const exampleText = readFileSync(new URL('../../../config.example.yaml', import.meta.url), 'utf8');
const minimal = { homeserver: { url: 'http://localhost:8008', server_name: 'example.org' } };

/** Leaf paths of a plain object ("media.port_range.min"); arrays count as leaves. */
function leaves(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    return [prefix];
  }
  return Object.entries(o).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

function problemsOf(input: unknown): string[] {
  try {
    validateConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) {
      return [...e.problems];
    }
    throw e;
  }
  return [];
}

t.test('config.example.yaml validates', async (t) => {
  const c = parseConfigText(exampleText);
  t.equal(c.homeserver.server_name, 'example.org');
  t.equal(c.media.port_range.min, 40000);
});

t.test('config.example.yaml documents every key, with the default values', async (t) => {
  const example = parseConfigText(exampleText);
  const defaults = validateConfig(minimal);
  t.same(leaves(example).sort(), leaves(defaults).sort(), 'same set of keys');
  t.same(example, defaults, 'the example shows the defaults');
});

t.test('defaults fill omitted sections', async (t) => {
  const c = validateConfig(minimal);
  t.same(c.keepalive, { interval_s: 5, timeout_s: 30 });
  t.same(c.appservice, {
    id: 'sfu',
    sender_localpart: 'sfu',
    registration: 'registration.yaml',
    bind: '127.0.0.1',
    port: 9000,
  });
  t.same(c.http, { bind: '127.0.0.1', port: 8080, event_loop_resolution_ms: 100 });
  t.equal(c.to_device.transport, 'push');
  t.equal(c.limits.max_dc_message_bytes, 65536);
  t.equal(c.logging.level, 'info');
});

t.test('cascade defaults are those of protocol.md §9 (reserved keys, read by nothing yet)', async (t) => {
  const c = validateConfig(minimal);
  t.same(c.cascade, {
    auto: true,
    initiate_grace_s: 3,
    link_alive_s: 1,
    max_links: 8,
    max_link_bps: 20_000_000,
    relink_grace_s: 20,
    linger_s: 30,
    keep_lowest_layer: false,
  });
  const set = validateConfig({
    ...minimal,
    cascade: { auto: false, initiate_grace_s: 0, max_links: 2, linger_s: 0, keep_lowest_layer: true },
  });
  t.same(
    [set.cascade.auto, set.cascade.initiate_grace_s, set.cascade.max_links, set.cascade.linger_s],
    [false, 0, 2, 0],
  );
  t.equal(set.cascade.keep_lowest_layer, true);
  t.equal(set.cascade.relink_grace_s, 20, 'omitted keys keep their defaults');
});

t.test('validation does not mutate its input', async (t) => {
  const input = structuredClone(minimal);
  validateConfig(input);
  t.same(input, minimal);
});

const invalid: { name: string; input: unknown; expect: string }[] = [
  { name: 'missing homeserver', input: {}, expect: 'config.homeserver: is required' },
  {
    name: 'missing url',
    input: { homeserver: { server_name: 'example.org' } },
    expect: 'config.homeserver.url: is required',
  },
  {
    name: 'url not http',
    input: { homeserver: { url: 'ftp://x', server_name: 'example.org' } },
    expect: 'config.homeserver.url: must be an http:// or https:// URL',
  },
  {
    name: 'bad server_name',
    input: { homeserver: { url: 'http://x', server_name: 'exa mple' } },
    expect: 'config.homeserver.server_name: must be a Matrix server name',
  },
  {
    name: 'port range below 1024',
    input: { ...minimal, media: { port_range: { min: 80, max: 100 } } },
    expect: 'config.media.port_range.min: must be >= 1024',
  },
  {
    name: 'port range reversed',
    input: { ...minimal, media: { port_range: { min: 50000, max: 40000 } } },
    expect: 'config.media.port_range.min: must be <= config.media.port_range.max',
  },
  {
    name: 'announced ip not an ip',
    input: { ...minimal, media: { announced_ips: ['sfu.example.org'] } },
    expect: 'config.media.announced_ips[0]: must be an IPv4 or IPv6 address',
  },
  {
    name: 'appservice port out of range',
    input: { ...minimal, appservice: { port: 70000 } },
    expect: 'config.appservice.port: must be <= 65535',
  },
  {
    name: 'port not an integer',
    input: { ...minimal, http: { port: '8080' } },
    expect: 'config.http.port: must be integer',
  },
  {
    name: 'event-loop sampling period of zero',
    input: { ...minimal, http: { event_loop_resolution_ms: 0 } },
    expect: 'config.http.event_loop_resolution_ms: must be >= 1',
  },
  {
    name: 'unknown key (typo)',
    input: { ...minimal, keepalive: { interval: 5 } },
    expect: 'config.keepalive.interval: unknown key',
  },
  {
    name: 'bad log level',
    input: { ...minimal, logging: { level: 'loud' } },
    expect: 'config.logging.level: must be one of',
  },
  {
    name: 'bad transport',
    input: { ...minimal, to_device: { transport: 'carrier-pigeon' } },
    expect: 'config.to_device.transport: must be one of "push", "sync"',
  },
  {
    name: 'keepalive interval not below timeout',
    input: { ...minimal, keepalive: { interval_s: 30, timeout_s: 30 } },
    expect: 'config.keepalive.interval_s: must be < config.keepalive.timeout_s',
  },
  {
    name: 'bad device id',
    input: { ...minimal, focus: { device_id: 'has space' } },
    expect: 'config.focus.device_id: must match pattern',
  },
  {
    name: 'negative limit',
    input: { ...minimal, limits: { max_participants: 0 } },
    expect: 'config.limits.max_participants: must be >= 1',
  },
  { name: 'not a mapping', input: ['a'], expect: 'config: must be a YAML mapping' },
  {
    name: 'cascade grace negative',
    input: { ...minimal, cascade: { initiate_grace_s: -1 } },
    expect: 'config.cascade.initiate_grace_s: must be >= 0',
  },
  {
    name: 'cascade alive interval zero',
    input: { ...minimal, cascade: { link_alive_s: 0 } },
    expect: 'config.cascade.link_alive_s: must be > 0',
  },
  {
    name: 'cascade max_links not an integer',
    input: { ...minimal, cascade: { max_links: 2.5 } },
    expect: 'config.cascade.max_links: must be integer',
  },
  {
    name: 'cascade max_links zero',
    input: { ...minimal, cascade: { max_links: 0 } },
    expect: 'config.cascade.max_links: must be >= 1',
  },
  {
    name: 'cascade max_link_bps too small',
    input: { ...minimal, cascade: { max_link_bps: 1000 } },
    expect: 'config.cascade.max_link_bps: must be >= 64000',
  },
  {
    name: 'cascade relink grace negative',
    input: { ...minimal, cascade: { relink_grace_s: -5 } },
    expect: 'config.cascade.relink_grace_s: must be >= 0',
  },
  {
    name: 'cascade linger too long',
    input: { ...minimal, cascade: { linger_s: 86401 } },
    expect: 'config.cascade.linger_s: must be <= 86400',
  },
  {
    name: 'cascade keep_lowest_layer not boolean',
    input: { ...minimal, cascade: { keep_lowest_layer: 'yes' } },
    expect: 'config.cascade.keep_lowest_layer: must be boolean',
  },
  {
    name: 'cascade unknown key',
    input: { ...minimal, cascade: { max_link: 3 } },
    expect: 'config.cascade.max_link: unknown key',
  },
];

t.test('invalid configs name the path of each problem', async (t) => {
  for (const row of invalid) {
    const problems = problemsOf(row.input);
    t.ok(
      problems.some((p) => p.startsWith(row.expect)),
      `${row.name}: expected "${row.expect}", got ${JSON.stringify(problems)}`,
    );
  }
});

t.test('all problems are reported at once', async (t) => {
  const problems = problemsOf({ homeserver: { url: 'nope' }, http: { port: -1 }, bogus: 1 });
  t.ok(problems.length >= 4, JSON.stringify(problems));
  t.ok(problems.includes('config.bogus: unknown key'));
  t.ok(problems.includes('config.homeserver.server_name: is required'));
});

t.test('aliases: matrix.server_name and signalling.to_device_transport', async (t) => {
  const c = validateConfig({
    homeserver: { url: 'http://x' },
    matrix: { server_name: 'example.org' },
    signalling: { to_device_transport: 'sync' },
  });
  t.equal(c.homeserver.server_name, 'example.org');
  t.equal(c.to_device.transport, 'sync');
  const problems = problemsOf({
    homeserver: { url: 'http://x', server_name: 'a.org' },
    matrix: { server_name: 'b.org' },
  });
  t.ok(
    problems.some((p) => p.startsWith('config.matrix.server_name: conflicts with')),
    JSON.stringify(problems),
  );
});

t.test('YAML syntax errors are reported with a line number', async (t) => {
  t.throws(() => parseConfigText('homeserver:\n  url: "http://x\n  server_name: y\n'), ConfigError);
  try {
    parseConfigText('a: 1\na: 2\n');
    t.fail('duplicate keys must be refused');
  } catch (e) {
    t.match((e as ConfigError).problems[0], /^config: invalid YAML at line \d+/);
  }
});

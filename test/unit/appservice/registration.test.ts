import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { generateRegistration, validateRegistrationObject } from '../../../src/appservice/registration.js';
import { ConfigError } from '../../../src/util/errors.js';
import { testConfig, testRegistration } from '../../../harness/sfu.js';

const example = parse(
  readFileSync(new URL('../../../registration.example.yaml', import.meta.url), 'utf8'),
) as Record<string, unknown>;

t.test('generated registration: keys, namespace, ephemeral flags', async (t) => {
  const reg = generateRegistration(testConfig(), 'http://sfu.internal:9000');
  t.equal(reg.id, 'sfu');
  t.equal(reg.url, 'http://sfu.internal:9000');
  t.equal(reg.sender_localpart, 'sfu');
  t.equal(reg.rate_limited, false);
  t.equal(reg['de.sorunome.msc2409.push_ephemeral'], true);
  t.equal(reg.receive_ephemeral, true);
  t.equal(reg.namespaces.users.length, 1);
  const ns = reg.namespaces.users[0]!;
  t.equal(ns.exclusive, true);
  const re = new RegExp(ns.regex);
  t.ok(re.test('@sfu:example.org'), 'matches the focus user');
  t.notOk(re.test('@sfu:exampleXorg'), 'dots are escaped');
  t.notOk(re.test('@sfu2:example.org'), 'anchored: no other user');
  t.notOk(re.test('@alice:example.org'));
});

t.test('sender_localpart and id come from the config', async (t) => {
  const reg = generateRegistration(
    testConfig({ appservice: { id: 'my-sfu', sender_localpart: 'focus' } }),
    'http://x:1',
  );
  t.equal(reg.id, 'my-sfu');
  t.equal(reg.sender_localpart, 'focus');
  t.ok(new RegExp(reg.namespaces.users[0]!.regex).test('@focus:example.org'));
});

t.test('fresh random tokens on every run', async (t) => {
  const a = generateRegistration(testConfig(), 'http://x:1');
  const b = generateRegistration(testConfig(), 'http://x:1');
  t.not(a.as_token, b.as_token);
  t.not(a.hs_token, b.hs_token);
  t.not(a.as_token, a.hs_token);
  t.ok(a.as_token.length >= 32 && a.hs_token.length >= 32, 'tokens are long');
});

t.test('output parses as YAML and matches registration.example.yaml in shape', async (t) => {
  const reg = generateRegistration(testConfig(), 'http://x:1');
  const round = parse(stringify(reg)) as Record<string, unknown>;
  t.same(round, reg, 'YAML round trip');
  t.same(Object.keys(round).sort(), Object.keys(example).sort(), 'same top-level keys');
  t.same(
    Object.keys(round['namespaces'] as object).sort(),
    Object.keys(example['namespaces'] as object).sort(),
    'same namespace kinds',
  );
  // The example is a valid registration for the example config but for its placeholder tokens.
  let problems: readonly string[] = [];
  try {
    validateRegistrationObject(example, testConfig());
  } catch (e) {
    problems = e instanceof ConfigError ? e.problems : [String(e)];
  }
  t.same(problems, [
    'registration.as_token: looks like a placeholder ("<random as_token>"): generate a registration with real tokens (-r, see README) and give the homeserver the same file',
    'registration.hs_token: looks like a placeholder ("<random hs_token>"): generate a registration with real tokens (-r, see README) and give the homeserver the same file',
  ]);
  t.doesNotThrow(() =>
    validateRegistrationObject(
      { ...example, as_token: 'a'.repeat(32), hs_token: 'b'.repeat(32) },
      testConfig(),
    ),
  );
  t.doesNotThrow(() => validateRegistrationObject(round, testConfig()));
});

t.test('loading rejects registrations that cannot work, naming the field', async (t) => {
  const cases: { name: string; reg: unknown; expect: string }[] = [
    {
      name: 'missing hs_token',
      reg: { ...testRegistration(), hs_token: undefined },
      expect: 'registration.hs_token: is required',
    },
    {
      name: 'namespace does not cover the focus user',
      reg: testRegistration({ namespaces: { users: [{ regex: '@other:example\\.org', exclusive: true }] } }),
      expect:
        'registration.namespaces.users: must hold an exclusive regex matching the focus user @sfu:example.org',
    },
    {
      name: 'namespace not exclusive',
      reg: testRegistration({ namespaces: { users: [{ regex: '@sfu:example\\.org', exclusive: false }] } }),
      expect: 'registration.namespaces.users: must hold an exclusive regex',
    },
    {
      name: 'same token twice',
      reg: testRegistration({ as_token: 'same', hs_token: 'same' }),
      expect: 'registration.hs_token: must differ from as_token',
    },
    {
      name: 'a placeholder token',
      reg: testRegistration({ hs_token: 'CHANGE ME' }),
      expect: 'registration.hs_token: looks like a placeholder ("CHANGE ME")',
    },
    { name: 'not an object', reg: 'hello', expect: 'registration: must be object' },
  ];
  for (const c of cases) {
    try {
      validateRegistrationObject(c.reg, testConfig());
      t.fail(`${c.name}: accepted`);
    } catch (e) {
      t.ok(e instanceof ConfigError, c.name);
      const problems = (e as ConfigError).problems;
      t.ok(
        problems.some((p) => p.startsWith(c.expect)),
        `${c.name}: ${JSON.stringify(problems)}`,
      );
    }
  }
});

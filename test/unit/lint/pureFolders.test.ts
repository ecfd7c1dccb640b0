// The lint rules that keep the pure folders pure (eslint.config.js): in src/rtp, src/simulcast, src/forwarding,
// src/protocol and src/appservice/membership, no timer/clock globals and no observability imports. The rules
// are taken from the real config for a path in each folder and run on snippets, so a config that stops
// applying them to a folder fails here.
import { fileURLToPath } from 'node:url';
import { ESLint, Linter } from 'eslint';
import t from 'tap';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const RULES = ['no-restricted-globals', 'no-restricted-properties', 'no-restricted-imports'];

const eslint = new ESLint({ cwd: root });

/** The three restriction rules as the repository's config sets them for `file`. */
async function restrictionsFor(file: string): Promise<Linter.RulesRecord> {
  const config = (await eslint.calculateConfigForFile(file)) as { rules?: Linter.RulesRecord };
  const rules: Linter.RulesRecord = {};
  for (const name of RULES) {
    const rule = config.rules?.[name];
    if (rule !== undefined) {
      rules[name] = rule;
    }
  }
  return rules;
}

/** Rule ids reported for `code` (plain module JavaScript; the rules look at names, not types). */
function reported(rules: Linter.RulesRecord, code: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(code, [
    { files: ['**/*.js'], languageOptions: { ecmaVersion: 'latest', sourceType: 'module' }, rules },
  ]);
  return messages.map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

const BAD: [string, string, string][] = [
  ['setTimeout(() => undefined, 5);', 'no-restricted-globals', 'a timer'],
  ['const id = setInterval(() => undefined, 5); clearInterval(id);', 'no-restricted-globals', 'an interval'],
  ['setImmediate(() => undefined);', 'no-restricted-globals', 'setImmediate'],
  ['export const t = Date.now();', 'no-restricted-globals', 'Date.now()'],
  ['export const d = new Date();', 'no-restricted-globals', 'new Date()'],
  ['export const p = performance.now();', 'no-restricted-globals', 'performance.now()'],
  ['globalThis.setTimeout(() => undefined, 5);', 'no-restricted-properties', 'globalThis.setTimeout'],
  [
    "import { metrics } from '../observability/metrics.js'; metrics();",
    'no-restricted-imports',
    'observability',
  ],
  ["import pino from 'pino'; pino();", 'no-restricted-imports', 'pino'],
  ["import { Counter } from 'prom-client'; new Counter();", 'no-restricted-imports', 'prom-client'],
  [
    "import { setTimeout as sleep } from 'node:timers/promises'; await sleep(1);",
    'no-restricted-imports',
    'timers',
  ],
  ["import { performance as p } from 'node:perf_hooks'; p.now();", 'no-restricted-imports', 'perf_hooks'],
];

const GOOD = [
  'export function elapsed(now, since) { return now - since; }',
  "import { seqDiff } from './seq.js'; export const d = seqDiff(1, 2);",
  'export function later(clock, fn) { return clock.setTimeout(fn, 5); }',
];

for (const file of [
  'src/rtp/x.ts',
  'src/simulcast/x.ts',
  'src/forwarding/x.ts',
  'src/protocol/x.ts',
  'src/appservice/membership/x.ts',
]) {
  t.test(`${file}: timers, clocks and observability are refused`, async (t) => {
    const rules = await restrictionsFor(file);
    for (const [code, rule, what] of BAD) {
      t.ok(reported(rules, code).includes(rule), `${what}: ${rule}`);
    }
    for (const code of GOOD) {
      t.same(reported(rules, code), [], `allowed: ${code}`);
    }
  });
}

t.test('outside the pure folders the same code passes these rules', async (t) => {
  for (const file of ['src/media/x.ts', 'src/conference/x.ts', 'src/appservice/x.ts', 'src/util/x.ts']) {
    const rules = await restrictionsFor(file);
    t.same(reported(rules, 'setTimeout(() => undefined, Date.now() % 5);'), [], `${file}: timers allowed`);
  }
  const media = await restrictionsFor('src/media/x.ts');
  t.same(reported(media, "import pino from 'pino'; pino();"), [], 'src/media may import pino');
});

/**
 * The Node flags a focus runs with: `missingNodeFlags` (by name, any value counts, V8's underscores read as
 * dashes), and package.json's `start` and the Dockerfile's ENTRYPOINT pass every one of FOCUS_NODE_FLAGS.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { FOCUS_NODE_FLAGS, missingNodeFlags } from '../../src/nodeFlags.js';

const root = new URL('../../', import.meta.url);
const OLD = '--initial-old-space-size=256';
const REDUCER = '--no-memory-reducer';

t.test('the flags', async (t) => {
  t.same(FOCUS_NODE_FLAGS, [OLD, REDUCER]);
});

t.test('missingNodeFlags', async (t) => {
  const rows: { name: string; execArgv: string[]; missing: string[] }[] = [
    { name: 'none given', execArgv: [], missing: [OLD, REDUCER] },
    {
      name: 'other flags only',
      execArgv: ['--enable-source-maps', '--max-old-space-size=4096'],
      missing: [OLD, REDUCER],
    },
    { name: 'given', execArgv: ['--enable-source-maps', OLD, REDUCER], missing: [] },
    { name: 'one of them', execArgv: [REDUCER], missing: [OLD] },
    {
      name: 'another value (the operator chose)',
      execArgv: ['--initial-old-space-size=512', REDUCER],
      missing: [],
    },
    {
      name: "V8's underscores",
      execArgv: ['--initial_old_space_size=256', '--no_memory_reducer'],
      missing: [],
    },
    {
      name: 'a prefix of the name is not the flag',
      execArgv: ['--initial-old-space', '--no-memory'],
      missing: [OLD, REDUCER],
    },
    { name: 'the opposite boolean is not the flag', execArgv: [OLD, '--memory-reducer'], missing: [REDUCER] },
  ];
  for (const row of rows) {
    t.same(missingNodeFlags(row.execArgv), row.missing, row.name);
  }
});

t.test('npm start and the Docker image pass every flag', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const start = (pkg.scripts['start'] ?? '').split(/\s+/);
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(new URL('Dockerfile', root), 'utf8'))?.[1];
  const entryArgs = JSON.parse(entry ?? '[]') as string[];
  for (const flag of FOCUS_NODE_FLAGS) {
    t.ok(start.includes(flag), `npm start: ${flag}`);
    t.ok(entryArgs.includes(flag), `ENTRYPOINT: ${flag}`);
    t.ok(
      start.indexOf(flag) < start.indexOf('dist/src/main.js'),
      'npm start: before the script (a Node flag)',
    );
    t.ok(entryArgs.indexOf(flag) < entryArgs.indexOf('dist/src/main.js'), 'ENTRYPOINT: before the script');
  }
});

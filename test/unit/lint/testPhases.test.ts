/**
 * `npm test` runs tap three times (.taprc, the "test:phases" script): every test file but the `exclude`d ones two
 * at a time, then — whether or not that passed — the excluded ones one at a time, then a few media suites again
 * with SFU_NATIVE=0 (the pure-TypeScript SRTP). This checks the two lists agree, so no test file is skipped or run twice: each `.taprc`
 * exclude glob is named by the one serial `tap` call of the "test" script, that call names nothing else,
 * and the excluded globs match test files (a stale glob would leave its phase empty).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** The list items under `key:` in .taprc (its own simple YAML: `  - "glob"` lines). */
function taprcList(text: string, key: string): string[] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === `${key}:`);
  if (at < 0) {
    return [];
  }
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^\s+-\s+"?([^"]+)"?\s*$/.exec(l);
    if (m?.[1] === undefined) {
      break;
    }
    out.push(m[1]);
  }
  return out;
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      out.push(...testFiles(p));
    } else if (e.name.endsWith('.test.ts')) {
      out.push(relative(ROOT, p));
    }
  }
  return out;
}

/** A glob of the shapes used here (`dir/**\/*.test.ts`, `dir/name*.test.ts`) as a test for relative paths. */
function matcher(glob: string): (path: string) => boolean {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\//g, '@@')
    .replace(/\*/g, '[^/]*')
    .replace(/@@/g, '(?:.*/)?');
  const rx = new RegExp(`^${re}$`);
  return (p) => rx.test(p);
}

t.test('.taprc exclude globs run in a later serial tap call of "test"', async (t) => {
  const taprc = readFileSync(join(ROOT, '.taprc'), 'utf8');
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  t.match(scripts['test'] ?? '', /&& npm run -s test:phases$/, '"test" ends with the two phases');
  const script = scripts['test:phases'];
  t.type(script, 'string');
  t.same(taprcList(taprc, 'include'), ['test/**/*.test.ts'], 'phase 1 takes every test file');
  const excluded = taprcList(taprc, 'exclude');
  t.ok(excluded.length > 0, 'something runs serially');
  // `tap; s=$?; tap --jobs 1 … || s=1; exit $s`: the serial phase runs even when the first one failed.
  const calls = (script ?? '').split(/;|\|\|/).map((c) => c.trim());
  t.equal(calls.filter((c) => c === 'tap').length, 1, 'one plain tap call (phase 1)');
  const serial = calls.filter((c) => c.startsWith('tap ') && c.includes('--jobs 1'));
  t.equal(serial.length, 1, 'one serial tap call (phase 2)');
  const named = [...(serial[0] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '');
  t.same([...named].sort(), [...excluded].sort(), 'phase 2 names exactly the excluded globs');
  const all = testFiles(join(ROOT, 'test'));
  for (const g of excluded) {
    const n = all.filter(matcher(g)).length;
    t.ok(n > 0, `${g} matches test files (${String(n)})`);
  }
  t.ok(
    matcher('test/integration/cascade/**/*.test.ts')('test/integration/cascade/links.test.ts'),
    'the matcher',
  );
  t.ok(matcher('test/a/**/*.test.ts')('test/a/b/c.test.ts'), 'nested');
  t.notOk(matcher('test/integration/client/callPage*.test.ts')('test/integration/client/joinCall.test.ts'));
  t.ok(all.length > 100, `test files found (${String(all.length)})`);
  // Phase 3: media suites again on the pure-TypeScript SRTP (the add-on is what phases 1 and 2 use when built).
  const fallback = calls.filter((c) => c.startsWith('SFU_NATIVE=0 tap '));
  t.equal(fallback.length, 1, 'one tap call on the TypeScript SRTP (phase 3)');
  const files = (fallback[0] ?? '').split(/\s+/).filter((w) => w.endsWith('.test.ts'));
  t.ok(
    files.length > 0 && files.every((f) => all.includes(f)),
    `phase 3 names existing test files (${files.join(', ')})`,
  );
});

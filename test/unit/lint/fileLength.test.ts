/**
 * Small files with one responsibility: no source file in src/ is longer than 450 lines (issue "make room").
 * A file that grows past it wants splitting, not a higher limit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const MAX_LINES = 450;
const ROOT = join(import.meta.dirname, '..', '..', '..', 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      out.push(...sources(p));
    } else if (e.name.endsWith('.ts')) {
      out.push(p);
    }
  }
  return out;
}

function lineCount(text: string): number {
  return text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
}

t.test('the line counter counts lines with and without a final newline', async (t) => {
  t.equal(lineCount('a\nb\n'), 2);
  t.equal(lineCount('a\nb'), 2);
  t.equal(lineCount('x\n'.repeat(451)), 451);
});

t.test(`no file in src/ is longer than ${MAX_LINES} lines`, async (t) => {
  const files = sources(ROOT);
  t.ok(files.length > 50, 'the source files were found');
  const long = files
    .map((f) => ({ f: f.slice(ROOT.length + 1), n: lineCount(readFileSync(f, 'utf8')) }))
    .filter((x) => x.n > MAX_LINES)
    .map((x) => `src/${x.f}: ${x.n} lines`);
  t.same(long, [], long.join('\n'));
});

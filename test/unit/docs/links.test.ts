// The README and the notes in docs/ stand alone: every relative link points at a file inside the repository
// (no `../shared/...` that is dead in a clone).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Targets of markdown links and images, `[text](target)`, without a `#fragment`; web links skipped. */
function localLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/gu)) {
    const target = (m[1] ?? '').split('#')[0] ?? '';
    if (target !== '' && !/^[a-z][a-z0-9+.-]*:/iu.test(target)) {
      out.push(target);
    }
  }
  return out;
}

/** Links of `file` that leave the repository or name no existing file, as `file: target (why)`. */
function badLinks(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return localLinks(text).flatMap((target) => {
    const abs = resolve(dirname(join(root, file)), target);
    if (relative(root, abs).startsWith('..')) {
      return [`${file}: ${target} (outside the repository)`];
    }
    return existsSync(abs) ? [] : [`${file}: ${target} (no such file)`];
  });
}

t.test('localLinks finds relative links and images, not web links or fragments', async (t) => {
  const md =
    'See [spec](docs/protocol.md#3-calls), ![fig](bench/figures/a.svg "CPU"), [web](https://example.org/x), ' +
    '[mail](mailto:a@example.org), [here](#features) and [old](../shared/docs/protocol.md).';
  t.same(localLinks(md), ['docs/protocol.md', 'bench/figures/a.svg', '../shared/docs/protocol.md']);
});

t.test('README.md and docs/*.md link only to files in the repository', async (t) => {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  t.ok(files.includes('docs/protocol.md'), 'docs/protocol.md exists');
  t.same(files.flatMap(badLinks), [], 'no link leaves the repository or names a missing file');
});

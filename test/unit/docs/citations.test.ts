// Every section citation in the code and notes (`protocol.md §4.2`, `§3.3b`, `werift-notes §2`, …) names a
// heading that exists in docs/; the extractor itself is checked on fixture strings, bad citations included.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import t from 'tap';
import {
  CHECKED_DOCS,
  badCitations,
  citationsIn,
  extractCitations,
  formatBad,
  headingIds,
  sourceFiles,
  type CheckedDoc,
} from '../../helpers/citations.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The folders whose comments cite the docs (those that exist in this checkout), plus the notes themselves. */
const SCANNED = ['src', 'test', 'client', 'harness', 'bench', 'docs'];
/** Built with concatenation so that this file's own scan does not see bad citations. */
const S = '§';

function headingsOfDocs(): Map<CheckedDoc, Set<string>> {
  return new Map(
    CHECKED_DOCS.filter((d) => existsSync(join(root, 'docs', d))).map((d) => [
      d,
      headingIds(readFileSync(join(root, 'docs', d), 'utf8')),
    ]),
  );
}

t.test('headingIds reads numbered headings of every level, letter suffixes included', async (t) => {
  const md = [
    '# Protocol specification',
    '## 0. Contract at a glance',
    '### 3.3 Format (c)',
    '### 3.3b Format (d): sticky events',
    '#### 8.1.2 Deeper',
    '## Not numbered',
    'Text with ## 9.9 inside is not a heading',
  ].join('\n');
  t.same([...headingIds(md)].sort(), ['0', '3.3', '3.3b', '8.1.2']);
});

t.test('extractCitations: forms, ranges, and whose section a § is', async (t) => {
  const text = [
    `/** Routes to-device events (protocol.md ${S}4): held invites (${S}3.6, ${S}3.7). */`,
    `// format (d) ${S}3.3b; links protocol.md ${S}8.1–8.3 and ${S}5.1–${S}5.3, ${S}4.1-4.2`,
    ` * GenericNack does not wrap (werift-notes ${S}2), RFC 4585 ${S}6.2.1, draft-alvestrand-rmcat-remb ${S}2.2`,
    ` * the frame tag (RFC 6386`,
    ` * ${S}9.1), then performance.md ${S}4 and werift-notes.md ${S}5; bench/README.md ${S}7`,
  ].join('\n');
  const got = extractCitations(text, 'f.ts').map((c) => `${String(c.line)} ${c.doc} ${c.section}`);
  t.same(got, [
    '1 protocol.md 4',
    '1 protocol.md 3.6',
    '1 protocol.md 3.7',
    '2 protocol.md 3.3b',
    '2 protocol.md 8.1',
    '2 protocol.md 8.3',
    '2 protocol.md 5.1',
    '2 protocol.md 5.3',
    '2 protocol.md 4.1',
    '2 protocol.md 4.2',
    '3 werift-notes.md 2',
    '5 performance.md 4',
    '5 werift-notes.md 5',
  ]);
  t.same(
    extractCitations(`see ${S}2 above`, 'docs/werift-notes.md', 'werift-notes.md').map((c) => c.doc),
    ['werift-notes.md'],
    'a bare § inside a doc cites that doc',
  );
});

t.test('a bad citation fails with file:line and the citation as written', async (t) => {
  const headings = new Map<CheckedDoc, Set<string>>([
    ['protocol.md', new Set(['3', '3.3', '3.3b', '8', '8.1', '8.2'])],
    ['werift-notes.md', new Set(['1', '2'])],
  ]);
  const text = [
    `ok: protocol.md ${S}3.3b and ${S}8.1–8.2`,
    `bad: protocol.md ${S}8.1–8.3, ${S}3.4 and werift-notes ${S}11`,
    `gone: performance.md ${S}2`,
  ].join('\n');
  const bad = badCitations(extractCitations(text, 'src/x.ts'), headings);
  t.same(formatBad(bad), [
    `src/x.ts:2: ${S}8.1–8.3 (docs/protocol.md has no section 8.3)`,
    `src/x.ts:2: ${S}3.4 (docs/protocol.md has no section 3.4)`,
    `src/x.ts:2: ${S}11 (docs/werift-notes.md has no section 11)`,
    `src/x.ts:3: ${S}2 (docs/performance.md does not exist)`,
  ]);
});

t.test('every citation in this repository names an existing heading', async (t) => {
  const headings = headingsOfDocs();
  t.ok(headings.get('protocol.md')?.has('3.3b'), 'docs/protocol.md exists and has §3.3b');
  const files = SCANNED.filter((d) => existsSync(join(root, d))).flatMap((d) => sourceFiles(join(root, d)));
  files.push(join(root, 'README.md'));
  const citations = citationsIn(root, files);
  t.ok(
    citations.filter((c) => c.doc === 'protocol.md' && c.file.startsWith('src')).length >= 50,
    'the scan finds the source comments that cite protocol.md',
  );
  const bad = badCitations(citations, headings);
  t.same(formatBad(bad), [], 'no citation of a missing section (file:line: citation)');
});

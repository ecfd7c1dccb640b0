/**
 * Section citations in the repository's sources and notes, e.g. `protocol.md §4.2`, `§3.3b`,
 * `protocol.md §8.1–8.3`, `§5.1–§5.3`, `werift-notes §2`, `performance.md §4`, checked against the headings
 * of the cited file in docs/. A `§N` with no document named before it (on its line or the line above) cites
 * protocol.md, except inside one of the docs, where it cites that doc itself; a `§N` after an RFC, draft or
 * other outside document (`RFC 4585 §6.2.1`) is not ours and is skipped.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The docs whose sections are checked, by file name in docs/. */
export const CHECKED_DOCS = [
  'protocol.md',
  'werift-notes.md',
  'performance.md',
  'performance-design.md',
  'architecture.md',
] as const;
export type CheckedDoc = (typeof CHECKED_DOCS)[number];

export interface Citation {
  /** Path relative to the repository root (or whatever name the caller gave). */
  readonly file: string;
  /** 1-based line of the `§`. */
  readonly line: number;
  readonly doc: CheckedDoc;
  /** A section id as headings write it: `4`, `4.2`, `3.3b`. */
  readonly section: string;
  /** The citation as written (`§8.1–8.3`), for the failure message. */
  readonly text: string;
}

export interface BadCitation extends Citation {
  readonly problem: string;
}

const SECTION = String.raw`\d+(?:\.\d+)*[a-z]?`;
/** `§4.2`, `§3.3b`, a range `§8.1–8.3` / `§5.1–§5.3` / `§8.1-8.3`. */
const CITATION = new RegExp(String.raw`§(${SECTION})(?:\s*[–-]\s*§?(${SECTION}))?`, 'gu');
/** `## 4.2 Incoming events`, `### 3.3b Format (d)`, `## 0. Contract at a glance`. */
const HEADING = new RegExp(String.raw`^#{1,6}\s+(${SECTION})\.?\s`, 'u');
/**
 * Names of documents, ours and others'. The last one before a `§` is the one it cites. `werift-notes` is also
 * written without `.md`; `RFC 3550`, `draft-…`, `MSC3898` and any other `*.md` are not checked.
 */
const DOC_NAME =
  /(?<![\w-])(protocol\.md|werift-notes(?:\.md)?|performance\.md|performance-design\.md|architecture\.md)|(RFC\s*\d+|draft-[\w-]+|MSC\d+|[\w-]+\.md)/gu;

/** The section ids of a markdown file's numbered headings. */
export function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = HEADING.exec(line);
    if (m?.[1] !== undefined) {
      ids.add(m[1]);
    }
  }
  return ids;
}

function docOf(name: string): CheckedDoc {
  return name.startsWith('werift-notes') ? 'werift-notes.md' : (name as CheckedDoc);
}

/**
 * Which document the text before a `§` names last: a checked doc, `'other'`, or undefined when none is named.
 */
function lastDocNamed(text: string): CheckedDoc | 'other' | undefined {
  let found: CheckedDoc | 'other' | undefined;
  for (const m of text.matchAll(DOC_NAME)) {
    found = m[1] !== undefined ? docOf(m[1]) : 'other';
  }
  return found;
}

/**
 * Every citation of a checked doc in `text`. `selfDoc`: the doc `text` is (its bare `§N` cite itself);
 * otherwise a bare `§N` cites protocol.md.
 */
export function extractCitations(text: string, file: string, selfDoc?: CheckedDoc): Citation[] {
  const out: Citation[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const m of line.matchAll(CITATION)) {
      const before = line.slice(0, m.index);
      const named = lastDocNamed(before) ?? (i > 0 ? lastDocNamed(lines[i - 1] ?? '') : undefined);
      if (named === 'other') {
        continue;
      }
      const doc = named ?? selfDoc ?? 'protocol.md';
      for (const section of [m[1], m[2]]) {
        if (section !== undefined) {
          out.push({ file, line: i + 1, doc, section, text: m[0] });
        }
      }
    }
  });
  return out;
}

/** The citations that name no heading of their doc. */
export function badCitations(
  citations: readonly Citation[],
  headings: ReadonlyMap<CheckedDoc, ReadonlySet<string>>,
): BadCitation[] {
  return citations.flatMap((c) => {
    const ids = headings.get(c.doc);
    if (ids === undefined) {
      return [{ ...c, problem: `docs/${c.doc} does not exist` }];
    }
    return ids.has(c.section) ? [] : [{ ...c, problem: `docs/${c.doc} has no section ${c.section}` }];
  });
}

/** `file:line: §8.1–8.3 (docs/protocol.md has no section 8.3)`, one per bad citation. */
export function formatBad(bad: readonly BadCitation[]): string[] {
  return bad.map((b) => `${b.file}:${String(b.line)}: ${b.text} (${b.problem})`);
}

const SCANNED_EXTENSIONS = /\.(?:ts|mts|cts|js|mjs|cjs|json|md|ya?ml|py|sh)$/u;
const SKIPPED_DIRS = new Set([
  'node_modules',
  'dist',
  '.tap',
  'coverage',
  'results',
  'figures',
  'test-artifacts',
]);

/** Text files under `dir` (recursively), skipping build output and measurement results. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIPPED_DIRS.has(name)) {
        out.push(...sourceFiles(path));
      }
    } else if (SCANNED_EXTENSIONS.test(name)) {
      out.push(path);
    }
  }
  return out;
}

/** Citations in `files`, named relative to `root`; a bare `§N` in one of the docs cites that doc itself. */
export function citationsIn(root: string, files: readonly string[]): Citation[] {
  return files.flatMap((path) => {
    const name = relative(root, path);
    const self = CHECKED_DOCS.find((d) => name === join('docs', d));
    const text = readFileSync(path, 'utf8');
    return name.startsWith('docs/') && self === undefined ? [] : extractCitations(text, name, self);
  });
}

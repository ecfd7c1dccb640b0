/**
 * DOM building for the status page: elements are created with `document.createElement` and every value is
 * added as a Text node (`append` of a string) or `textContent`, never as markup, so a user id like
 * `<img src=x onerror=…>` shows as those characters. Plus the number formats the tables use.
 */

export type Child = Node | string | number | null | undefined;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: { className?: string; title?: string } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (attrs.className !== undefined) {
    e.className = attrs.className;
  }
  if (attrs.title !== undefined) {
    e.title = attrs.title;
  }
  for (const c of children) {
    if (c !== null && c !== undefined) {
      e.append(typeof c === 'number' ? String(c) : c);
    }
  }
  return e;
}

/** A table with a header row and one row per entry (cells are text or nodes). */
export function table(
  className: string,
  head: readonly string[],
  rows: readonly Child[][],
): HTMLTableElement {
  const thead = el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h))));
  const tbody = el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c)))));
  return el('table', { className }, thead, tbody);
}

/** At most `n` characters (plot legends stay on a line; the tables show ids whole). */
export function short(s: string, n = 32): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** `n` with `word`, plural with an s unless n is 1. */
export function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** 1234567 → "1.23 Mbit/s". */
export function bitrate(bps: number | null): string {
  if (bps === null) {
    return '–';
  }
  if (bps >= 1e6) {
    return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  }
  if (bps >= 1e3) {
    return `${(bps / 1e3).toFixed(1)} kbit/s`;
  }
  return `${Math.round(bps)} bit/s`;
}

export function duration(s: number): string {
  if (s < 120) {
    return `${s} s`;
  }
  if (s < 7200) {
    return `${Math.floor(s / 60)} min`;
  }
  return `${Math.floor(s / 3600)} h`;
}

/** "12 more not listed" when a list was capped by the server. */
export function omitted(n: number, what: string): HTMLElement | null {
  return n > 0 ? el('p', { className: 'omitted' }, `${n} more ${what} not listed`) : null;
}

/**
 * Content negotiation of `/status`: the HTML page for a browser, the JSON document for everything else. `?format=`
 * `json` or `html` decides outright; otherwise HTML only when the Accept header names `text/html` with a q-value
 * above 0 and above that of `application/json` (wildcards do not count: `*\/*` asks for no page, and a tie goes
 * to JSON). Pure.
 */

export type StatusFormat = 'html' | 'json';

/** The q-value of each media range an Accept header names explicitly (lower case; the highest if repeated). */
export function acceptQualities(accept: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [range, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (range === undefined || range === '') {
      continue;
    }
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*(.*)$/.exec(p);
      if (m?.[1] !== undefined) {
        // A malformed q-value counts as 0 (not acceptable).
        const v = /^[0-9.]+$/.test(m[1]) ? Number(m[1]) : Number.NaN;
        q = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
      }
    }
    out.set(range, Math.max(q, out.get(range) ?? 0));
  }
  return out;
}

export function statusFormat(accept: string | undefined, format: string | undefined): StatusFormat {
  if (format === 'json' || format === 'html') {
    return format;
  }
  if (accept === undefined) {
    return 'json';
  }
  const q = acceptQualities(accept);
  const html = q.get('text/html') ?? 0;
  const json = q.get('application/json') ?? 0;
  return html > 0 && html > json ? 'html' : 'json';
}

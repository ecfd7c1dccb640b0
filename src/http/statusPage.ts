/**
 * The files of the `/status` HTML page: the page itself (a constant: it carries no data, its script fetches
 * `/status?format=json`), the page's scripts compiled from `web/status/` into `dist/web/status/` by `npm run
 * build`, and uPlot's browser build and stylesheet from the `uplot` package in node_modules. Nothing is fetched
 * from the network, at build or at run time. Served under `/status/assets/<name>` by an exact list of names.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StatusAssets {
  /** Asset name → file path. */
  readonly files: ReadonlyMap<string, string>;
  /** Whether the page's own scripts were found (false before `npm run build`). */
  readonly built: boolean;
}

const VENDOR: Record<string, string> = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

/**
 * The compiled page scripts: beside this module's build (`dist/src/http` → `dist/web/status`), or, when the
 * server runs from its TypeScript sources (tests, `npm run dev`), in the repository's `dist/web/status`.
 */
function scriptDir(): string | undefined {
  const candidates = ['../../web/status/', '../../dist/web/status/'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  return candidates.find((d) => existsSync(join(d, 'main.js')));
}

/** `dir`: the compiled page scripts' folder (null: none, the page is not built). */
export function findStatusAssets(dir: string | null = scriptDir() ?? null): StatusAssets {
  const files = new Map<string, string>();
  const require = createRequire(import.meta.url);
  for (const [name, spec] of Object.entries(VENDOR)) {
    try {
      files.set(name, require.resolve(spec));
    } catch {
      // Not installed: the page shows that its plot library is missing.
    }
  }
  if (dir !== null) {
    for (const name of readdirSync(dir)) {
      if (/^[A-Za-z][A-Za-z0-9]*\.js$/.test(name)) {
        files.set(name, join(dir, name));
      }
    }
  }
  return { files, built: files.has('main.js') };
}

const cache = new Map<string, Buffer>();

/** The bytes of a file named in an exact list (name → path); undefined for a name not in it. Read once, then kept. */
export async function readListedFile(
  files: ReadonlyMap<string, string>,
  name: string,
): Promise<Buffer | undefined> {
  const path = files.get(name);
  if (path === undefined) {
    return undefined;
  }
  let body = cache.get(path);
  if (body === undefined) {
    body = await readFile(path);
    cache.set(path, body);
  }
  return body;
}

/** An asset's bytes and content type; undefined for a name not in the list. */
export async function readStatusAsset(
  assets: StatusAssets,
  name: string,
): Promise<{ body: Buffer; type: string } | undefined> {
  const body = await readListedFile(assets.files, name);
  if (body === undefined) {
    return undefined;
  }
  return { body, type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8' };
}

/** Scripts only from this listener, no inline script, no framing; uPlot sets inline styles. */
export const STATUS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page (relative URLs, so it also works behind a reverse proxy's path prefix). */
export function statusHtml(built: boolean): string {
  const notBuilt = built
    ? ''
    : '<p class="error">The page’s scripts are not built (run <code>npm run build</code>); the JSON is at ' +
      '<a href="status?format=json">status?format=json</a>.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>matrix-sfu status</title>
<link rel="stylesheet" href="status/assets/uPlot.min.css">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.15em; margin: 1.2em 0 .4em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 1em 0 .3em; }
h4 { font-size: .95em; margin: .8em 0 .2em; color: #555; }
table { border-collapse: collapse; margin: .2em 0 .6em; }
th, td { border: 1px solid #ddd; padding: .15em .5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td { font-variant-numeric: tabular-nums; overflow-wrap: anywhere; max-width: 32em; }
ul.layers { margin: 0; padding-left: 1em; }
li.off { color: #999; }
.error { color: #b00; }
.omitted { color: #777; font-style: italic; }
.plot { min-height: 60px; }
#summary { color: #444; }
</style>
</head>
<body>
<h1>matrix-sfu status</h1>
<div id="summary">Loading…</div>
<div id="error" class="error" role="alert"></div>
${notBuilt}
<h2>Published tracks: bit rate, last 5 minutes</h2>
<div id="plot-tracks" class="plot"></div>
<h2>Sent to subscribers: bit rate</h2>
<div id="plot-subscriptions" class="plot"></div>
<h2>Video layer forwarded to each subscriber (frame height)</h2>
<div id="plot-layers" class="plot"></div>
<h2>Links to other foci: bit rate in and out</h2>
<div id="plot-links" class="plot"></div>
<h2>Conferences</h2>
<div id="conferences"></div>
<script src="status/assets/uPlot.iife.min.js"></script>
<script type="module" src="status/assets/main.js"></script>
</body>
</html>
`;
}

/**
 * The files of the web call page (`/call/`, off unless `web.call_page`): the page itself (a constant; it reads
 * its settings from the URL fragment and `call/config.json`), and its scripts — `web/call/*.ts` and the
 * `client/` they import, compiled by `npm run build` into `dist/web/call/` as ES modules (no bundler: the
 * tree is served as it is). Served under `/call/assets/<path>` from an exact list made at start-up: only
 * `.js` files found under that folder, by their path relative to it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readListedFile } from './statusPage.js';

export interface CallAssets {
  /** Asset path (`web/call/main.js`, `client/index.js`) → file path. */
  readonly files: ReadonlyMap<string, string>;
  readonly built: boolean;
}

export const CALL_MAIN = 'web/call/main.js';

/** The compiled tree: beside this module's build (`dist/src/http` → `dist/web/call`), else the repository's. */
function scriptDir(): string | undefined {
  const candidates = ['../../web/call/', '../../dist/web/call/'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  return candidates.find((d) => existsSync(join(d, CALL_MAIN)));
}

export function findCallAssets(dir: string | null = scriptDir() ?? null): CallAssets {
  const files = new Map<string, string>();
  const walk = (d: string, depth: number): void => {
    if (depth > 6) {
      return;
    }
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) {
        walk(path, depth + 1);
      } else if (/^[A-Za-z][A-Za-z0-9]*\.js$/.test(name)) {
        files.set(
          relative(dir ?? d, path)
            .split(sep)
            .join('/'),
          path,
        );
      }
    }
  };
  if (dir !== null) {
    walk(dir, 0);
  }
  return { files, built: files.has(CALL_MAIN) };
}

/** An asset's bytes; undefined for a path not in the list (statusPage.ts readListedFile: read once, then kept). */
export function readCallAsset(assets: CallAssets, path: string): Promise<Buffer | undefined> {
  return readListedFile(assets.files, path);
}

/**
 * Scripts only from this listener; the page talks to the homeserver (any origin: the self-hoster's) and plays
 * media streams; camera, microphone and screen capture are the browser's to grant.
 */
export const CALL_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "media-src 'self' blob: mediastream:; worker-src 'self'; connect-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page (relative URLs: it also works behind a reverse proxy's path prefix). */
export function callHtml(built: boolean): string {
  const notBuilt = built
    ? ''
    : '<p class="error">The page’s scripts are not built (run <code>npm run build</code>).</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>matrix-sfu call</title>
<style>
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #eee; background: #111; min-height: 100vh; }
header { display: flex; gap: .5em; align-items: center; padding: .5em 1em; background: #1c1c1c; flex-wrap: wrap; }
header h1 { font-size: 1.1em; margin: 0 1em 0 0; }
#status { color: #aaa; flex: 1; }
button { font: inherit; padding: .35em .8em; border-radius: 4px; border: 1px solid #555; background: #2a2a2a; color: #eee; cursor: pointer; }
button:hover { background: #3a3a3a; }
#leave { background: #7a1f1f; border-color: #a33; }
.controls { display: none; gap: .4em; }
body.in-call .controls { display: flex; }
#error { margin: .8em 1em; padding: .6em .8em; background: #4a1515; border: 1px solid #a33; border-radius: 4px; }
#error .hint { color: #f1c6c6; margin-top: .3em; }
form#join { max-width: 28em; margin: 2em auto; display: grid; gap: .6em; }
form#join label { display: grid; gap: .2em; color: #bbb; }
form#join input { font: inherit; padding: .4em; border-radius: 4px; border: 1px solid #555; background: #222; color: #eee; }
#grid { display: grid; gap: 8px; padding: 8px; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); grid-auto-flow: dense; }
.tile { position: relative; background: #000; border-radius: 6px; overflow: hidden; aspect-ratio: 16 / 9; border: 3px solid transparent; }
.tile.speaking { border-color: #3fb950; }
.tile[data-size="large"] { grid-column: 1 / -1; }
.tile[data-size="small"] { width: 160px; height: 90px; aspect-ratio: auto; }
.tile video { width: 100%; height: 100%; object-fit: contain; display: block; }
.tile.local video { transform: scaleX(-1); }
.tile.video-off video { visibility: hidden; }
.tile .name { position: absolute; left: 6px; bottom: 6px; background: rgba(0,0,0,.6); padding: 1px 6px; border-radius: 3px; font-size: 12px; }
.tile .stats { position: absolute; left: 6px; top: 6px; background: rgba(0,0,0,.6); padding: 1px 6px; border-radius: 3px; font: 11px/1.3 ui-monospace, monospace; display: none; }
body.show-stats .tile .stats:not(:empty) { display: block; }
.tile button.size { position: absolute; right: 6px; top: 6px; padding: 0 .4em; font-size: 12px; opacity: .7; }
.error { color: #f88; }
</style>
</head>
<body class="show-stats">
<header>
<h1>matrix-sfu call</h1>
<div id="status">Loading…</div>
<div class="controls">
<button id="mic" type="button">Mute</button>
<button id="cam" type="button">Camera off</button>
<button id="share" type="button">Share screen</button>
<button id="stats" type="button">Stats</button>
<button id="leave" type="button">Leave</button>
</div>
</header>
<div id="error" role="alert" hidden></div>
${notBuilt}
<form id="join" hidden>
<label>Homeserver URL <input id="f-hs" name="hs" type="url" placeholder="https://matrix.example.org" required></label>
<label>User <input id="f-user" name="user" autocomplete="username" placeholder="alice" required></label>
<label>Password <input id="f-password" name="password" type="password" autocomplete="current-password" required></label>
<label>Room <input id="f-room" name="room" placeholder="#room:example.org" required></label>
<button type="submit">Join the call</button>
</form>
<main id="grid"></main>
<div id="audio" hidden></div>
<script type="module" src="assets/${CALL_MAIN}"></script>
</body>
</html>
`;
}

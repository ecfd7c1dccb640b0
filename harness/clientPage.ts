/**
 * client/ in a browser page, no bundler: every client/*.ts transpiled as it is (ES2022 modules) and served by
 * a small HTTP server under `/client/...`, next to a page and its app script. The homeserver has its own origin,
 * so the page's requests to it are cross-origin for real.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import ts from 'typescript';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumLaunchFailure } from './peers/chromiumPeer.js';
import { launchBrowser } from './peers/index.js';
import type { Teardown } from './sfu.js';

const CLIENT_DIR = fileURLToPath(new URL('../client/', import.meta.url));

/** Every client/*.ts as browser JavaScript, keyed by its URL path (`/client/dc/read.js`). */
export function transpileClient(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        walk(path);
      } else if (name.endsWith('.ts')) {
        const js = ts.transpileModule(readFileSync(path, 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
        }).outputText;
        out.set(`/client/${relative(CLIENT_DIR, path).replace(/\.ts$/, '.js')}`, js);
      }
    }
  };
  walk(CLIENT_DIR);
  return out;
}

/**
 * A static HTTP server on 127.0.0.1 (a port of its own, so a different origin from the homeserver's, in the same
 * loopback address space — Chromium lets such a page reach the homeserver, and `http://127.0.0.1` is a secure
 * context, so the page gets `getUserMedia`): `/` an empty HTML page, `/app.js` the given module script,
 * `/client/*` the client.
 */
export async function startClientPageServer(
  appJs: string,
  modules: Map<string, string> = transpileClient(),
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const js = path === '/app.js' ? appJs : modules.get(path);
    if (js !== undefined) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else if (path === '/') {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>call</title><body></body>');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export interface OpenPageOptions {
  /** Chromium's fake camera and microphone (default); false: a browser with no media devices at all. */
  fakeDevices?: boolean;
  /** Every RTCDataChannel the page creates is kept in `globalThis.__dataChannels` (for tests that close one). */
  recordDataChannels?: boolean;
}

/**
 * Opens `url` in a fresh Chromium context of its own (1280×900, so a page's layout and tile sizes are the same
 * in every test), closed at the test's teardown. Without fake devices the page gets a browser of its own,
 * launched with the same flags but `--use-fake-device-for-media-stream` (and closed at teardown).
 */
export async function openPageAt(t: Teardown, url: string, opts: OpenPageOptions = {}): Promise<Page> {
  let browser: Browser;
  if (opts.fakeDevices === false) {
    browser = await chromium
      .launch({
        executablePath: CHROMIUM_PATH,
        args: CHROMIUM_ARGS.filter((a) => a !== '--use-fake-device-for-media-stream'),
        headless: true,
        timeout: 15_000,
      })
      .catch((err: unknown) => {
        throw new Error(chromiumLaunchFailure(CHROMIUM_PATH, existsSync(CHROMIUM_PATH), err));
      });
    t.teardown(() => browser.close().catch(() => undefined));
  } else {
    browser = await launchBrowser();
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  t.teardown(async () => {
    await context.close().catch(() => undefined);
  });
  if (opts.recordDataChannels === true) {
    // Runs in the page before its scripts (the page's DOM types are not this program's).
    await page.addInitScript(`{
      const channels = [];
      globalThis.__dataChannels = channels;
      const create = RTCPeerConnection.prototype.createDataChannel;
      RTCPeerConnection.prototype.createDataChannel = function (...args) {
        const dc = create.apply(this, args);
        channels.push(dc);
        return dc;
      };
    }`);
  }
  await page.goto(url);
  return page;
}

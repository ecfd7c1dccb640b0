/**
 * The /status routes (src/http/routes/status.ts) on a bare Fastify instance: JSON or the page by negotiation,
 * the page's security headers, assets only by exact name (no path traversal), and the detail document of a real
 * (unstarted) Sfu carrying no token of its registration.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import t from 'tap';
import { opsRoutes } from '../../../src/http/routes/ops.js';
import { findStatusAssets } from '../../../src/http/statusPage.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { Readiness } from '../../../src/observability/readiness.js';
import { buildTestSfu, opsApp, testRegistration } from '../../../harness/sfu.js';

const CHROMIUM = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function app(built: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'status-assets-'));
  writeFileSync(join(dir, 'main.js'), 'export {};\n');
  writeFileSync(join(dir, 'history.js'), 'export {};\n');
  writeFileSync(join(dir, 'notes.txt'), 'not served');
  const f = Fastify();
  opsRoutes(f, {
    metrics: new Metrics({ defaultMetrics: false }),
    readiness: new Readiness(['media']),
    status: () => ({ name: 'matrix-sfu', detail: { conferences: [] } }),
    statusAssets: findStatusAssets(built ? dir : null),
  });
  return {
    f,
    close: async () => {
      await f.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

t.test('JSON by default, the page for a browser, ?format= decides', async (t) => {
  const { f, close } = app(true);
  t.teardown(close);
  const json = await f.inject({ method: 'GET', url: '/status' });
  t.equal(json.statusCode, 200);
  t.match(json.headers['content-type'], /application\/json/);
  t.match(json.json(), { name: 'matrix-sfu', ready: false, checks: { media: { ok: false } } });
  t.equal(json.headers['vary'], 'Accept');
  t.equal(json.headers['cache-control'], 'no-store');

  const html = await f.inject({ method: 'GET', url: '/status', headers: { accept: CHROMIUM } });
  t.equal(html.statusCode, 200);
  t.match(html.headers['content-type'], /^text\/html/);
  t.match(html.body, /^<!doctype html>/);
  t.match(html.body, /<script type="module" src="status\/assets\/main\.js"><\/script>/);
  t.match(html.body, /src="status\/assets\/uPlot\.iife\.min\.js"/);
  t.notMatch(html.body, /not built/);
  t.notMatch(html.body, /https?:\/\//, 'nothing from another origin');
  t.notMatch(html.body, /<script>/, 'no inline script');
  const csp = String(html.headers['content-security-policy']);
  t.match(csp, /script-src 'self'/);
  t.notMatch(csp, /script-src[^;]*unsafe-inline/);
  t.match(csp, /frame-ancestors 'none'/);
  t.equal(html.headers['x-content-type-options'], 'nosniff');

  const forced = await f.inject({ method: 'GET', url: '/status?format=json', headers: { accept: CHROMIUM } });
  t.match(forced.headers['content-type'], /application\/json/);
  const page = await f.inject({ method: 'GET', url: '/status?format=html' });
  t.match(page.headers['content-type'], /^text\/html/);
});

t.test('assets: uPlot and the compiled scripts by exact name, nothing else', async (t) => {
  const { f, close } = app(true);
  t.teardown(close);
  const uplot = await f.inject({ method: 'GET', url: '/status/assets/uPlot.iife.min.js' });
  t.equal(uplot.statusCode, 200);
  t.match(uplot.headers['content-type'], /^text\/javascript/);
  t.match(uplot.body, /uPlot/);
  const css = await f.inject({ method: 'GET', url: '/status/assets/uPlot.min.css' });
  t.match(css.headers['content-type'], /^text\/css/);
  const main = await f.inject({ method: 'GET', url: '/status/assets/main.js' });
  t.equal(main.body, 'export {};\n');
  for (const bad of [
    'notes.txt',
    '..%2F..%2Fpackage.json',
    '%2Fetc%2Fpasswd',
    'uPlot.cjs.js',
    'main.ts',
    '.hidden.js',
  ]) {
    const r = await f.inject({ method: 'GET', url: `/status/assets/${bad}` });
    t.equal(r.statusCode, 404, bad);
  }
});

t.test('not built: the page says so and where the JSON is', async (t) => {
  const { f, close } = app(false);
  t.teardown(close);
  const html = await f.inject({ method: 'GET', url: '/status', headers: { accept: CHROMIUM } });
  t.match(html.body, /not built/);
  t.match(html.body, /href="status\?format=json"/);
  const main = await f.inject({ method: 'GET', url: '/status/assets/main.js' });
  t.equal(main.statusCode, 404);
});

t.test('the Sfu status document: counts, detail with its caps, no token', async (t) => {
  const sfu = buildTestSfu();
  t.teardown(() => sfu.stop('test'));
  const r = await opsApp(sfu).inject({ method: 'GET', url: '/status' });
  const doc = r.json();
  t.match(doc, {
    name: 'matrix-sfu',
    conferences: 0,
    sessions: 0,
    links: 0,
    held_invites: 0,
    detail: {
      limits: { conferences: 20, participants: 50, participants_total: 200 },
      conferences: [],
      conferences_omitted: 0,
      participants_omitted: 0,
    },
  });
  const reg = testRegistration();
  for (const secret of [reg.as_token, reg.hs_token]) {
    t.notOk(r.body.includes(secret), 'no appservice token in /status');
  }
});

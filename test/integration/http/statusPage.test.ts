/**
 * The /status page in headless Chromium against a running SFU with a real call: a werift publisher sends
 * synthetic 3-layer VP8 simulcast, a werift subscriber takes the 640×360 layer. The page (served by the SFU's
 * ops listener, its script compiled by `npm run build`, uPlot from node_modules) must show the conference, both
 * participants, the published track with its layers and the subscription's layer, and plot the bit rates
 * with more than one data point (statusPageCascade.test.ts: the same across two focus processes). Screenshots
 * go to test-artifacts/ (git-ignored). A second page gets a status document full of markup in user-controlled
 * ids and must show it as text.
 */
import { existsSync, mkdirSync } from 'node:fs';
import t from 'tap';
import { startCallStack } from '../../../harness/callStack.js';
import { asWerift, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { closeBrowser, launchBrowser } from '../../../harness/peers/index.js';
import { waitFor } from '../../../harness/stack.js';
import { publishSimulcast } from '../cascade/cascadeMedia.js';
import { ARTIFACTS, plotState, ROOT, waitPlotData, watchErrors } from './statusPageHelpers.js';

const EVIL = '<img src=x onerror="window.__pwned=1">';

t.teardown(() => closeBrowser());

/** In-page access to the DOM (Node's types have none; these functions run in Chromium). */
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(
    selector: string,
  ): ArrayLike<{ textContent: string | null }> & Iterable<{ textContent: string | null }>;
};

t.test('the status page shows a live call: conference, participants, tracks, layers, plots', async (t) => {
  t.ok(existsSync(`${ROOT}dist/web/status/main.js`), 'the page is built (npm run build)');
  const cs = await startCallStack(t);
  const alice = await cs.client('alice');
  await publishSimulcast(t, cs, alice);
  const bob = await cs.client('bob');
  const b = await joinWithMedia(cs, bob, {});
  let received = 0;
  asWerift(bob.peer).onRtp((r) => {
    if (r.kind === 'video') {
      received++;
    }
  });
  const s = await streamOf(b, alice.userId, { video: true });
  await subscribe(b, [{ stream_id: s.streamId, track_id: s.video!, width: 640, height: 360 }], 'sub-1');
  await waitFor(() => received > 30, 30_000, 'video forwarded to bob');

  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  t.teardown(() => page.close());
  const errors = watchErrors(page);
  const url = `http://127.0.0.1:${cs.config.http.port}/status`;
  const res = await page.goto(url);
  t.match(res?.headers()['content-type'], /^text\/html/, 'a browser gets the page');

  await page.waitForFunction(
    ([a, b]) => {
      const text = document.querySelector('#conferences')?.textContent ?? '';
      return text.includes(a!) && text.includes(b!) && text.includes('640×360');
    },
    [alice.userId, bob.userId],
    { timeout: 30_000 },
  );
  // Enough polls for lines, with the video's bit rate measured.
  await waitPlotData(page, 'tracks', 60_000);

  const conferences = (await page.locator('#conferences').textContent()) ?? '';
  t.match(conferences, cs.roomId, 'the conference’s room');
  const participants = await page.locator('table.participants tbody tr').allTextContents();
  t.equal(participants.length, 2, 'two participants');
  t.ok(participants.some((r) => r.includes(alice.userId) && r.includes('ALICEDEV') && r.includes('active')));
  t.ok(participants.some((r) => r.includes(bob.userId) && r.includes('BOBDEV')));
  const tracks = (await page.locator('table.tracks').textContent()) ?? '';
  for (const layer of ['q 320×180', 'h 640×360', 'f 1280×720']) {
    t.match(tracks, layer, `published layer ${layer}`);
  }
  const subs = await page.locator('table.subscriptions tbody tr').allTextContents();
  t.equal(subs.length, 1);
  t.match(subs[0], /h 640×360/, 'bob is forwarded the 640×360 layer');

  const tracksPlot = await plotState(page, 'plot-tracks');
  const subsPlot = await plotState(page, 'plot-subscriptions');
  t.comment(`tracks plot ${JSON.stringify(tracksPlot)}, subscriptions plot ${JSON.stringify(subsPlot)}`);
  t.ok(tracksPlot.points > 1 && tracksPlot.series >= 1, 'the track plot has series with several points');
  t.ok(tracksPlot.inked > 100, 'the track plot’s canvas is drawn');
  t.ok(subsPlot.points > 1 && subsPlot.inked > 100, 'the subscription plot is drawn');
  const layersPlot = await plotState(page, 'plot-layers');
  t.ok(
    layersPlot.points > 1 && layersPlot.inked > 100,
    `the layer plot is drawn (${JSON.stringify(layersPlot)})`,
  );
  t.equal(layersPlot.last, 360, 'it shows the 640×360 layer bob is forwarded');
  t.same(errors, [], 'no script error, no CSP violation');

  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = `${ARTIFACTS}/status-call.png`;
  await page.screenshot({ path: shot, fullPage: true });
  t.comment(`screenshot: ${shot}`);
});

t.test('ids full of markup are shown as text', async (t) => {
  const cs = await startCallStack(t);
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  t.teardown(() => page.close());
  const errors = watchErrors(page);
  const layer = { rid: EVIL, rank: 0, width: 640, height: 360, bitrate_bps: 300_000, active: true };
  const track = { stream_id: EVIL, track_id: EVIL, kind: 'video', bitrate_bps: 300_000, layers: [layer] };
  let n = 0;
  await page.route('**/status?format=json', async (route) => {
    const real = (await (await route.fetch()).json()) as Record<string, unknown>;
    n++;
    const doc = {
      ...real,
      detail: {
        conferences: [
          {
            room_id: `!${EVIL}:example.org`,
            conf_id: EVIL,
            participants: [
              {
                user_id: `@${EVIL}:example.org`,
                device_id: EVIL,
                state: EVIL,
                connected: true,
                since_s: 5,
                published: [{ ...track, bitrate_bps: 300_000 + n * 1000 }],
                published_omitted: 0,
                subscriptions: [
                  {
                    ...track,
                    from_user_id: EVIL,
                    requested: { width: 640, height: 360 },
                    layer,
                    target_layer: null,
                    bitrate_bps: 250_000,
                  },
                ],
                subscriptions_omitted: 0,
              },
            ],
            participants_omitted: 0,
            links: [
              {
                remote: { user_id: EVIL, device_id: EVIL },
                state: EVIL,
                rtp_in: 1,
                rtp_out: 2,
                bitrate_in_bps: 1000,
                bitrate_out_bps: 2000,
                estimate_bps: null,
                budget_bps: 0,
                relayed: [{ ...track, user_id: EVIL }],
                relayed_omitted: 0,
                trunk_sends: [
                  { stream_id: EVIL, track_id: EVIL, kind: 'video', demanded: [EVIL], sending: [EVIL] },
                ],
                trunk_sends_omitted: 0,
                demand: [{ stream_id: EVIL, track_id: EVIL, layers: [EVIL] }],
                demand_omitted: 0,
              },
            ],
            links_omitted: 0,
          },
        ],
        conferences_omitted: 0,
        participants_omitted: 0,
      },
    };
    await route.fulfill({ json: doc });
  });
  await page.goto(`http://127.0.0.1:${cs.config.http.port}/status`);
  await page.waitForFunction(
    () => (document.querySelector('#conferences')?.textContent ?? '').includes('onerror'),
    undefined,
    {
      timeout: 30_000,
    },
  );
  await page.waitForFunction(
    () => {
      const w = globalThis as unknown as { statusPage?: { polls: number } };
      return (w.statusPage?.polls ?? 0) >= 3;
    },
    undefined,
    { timeout: 30_000 },
  );
  const result = await page.evaluate(() => ({
    images: document.querySelectorAll('img').length,
    pwned: (globalThis as unknown as { __pwned?: number }).__pwned,
    cells: [...document.querySelectorAll('td')].filter((td) => td.textContent?.includes('<img src=x')).length,
    legend: [...document.querySelectorAll('.u-legend .u-label')].some((l) => l.textContent?.includes('<img')),
  }));
  t.equal(result.images, 0, 'no <img> element was created');
  t.equal(result.pwned, undefined, 'no handler ran');
  t.ok(result.cells >= 5, `the markup is visible as text in ${result.cells} cells`);
  t.ok(result.legend, 'and in the plot legend');
  t.same(errors, [], 'no script error');
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = `${ARTIFACTS}/status-markup-ids.png`;
  await page.screenshot({ path: shot, fullPage: true });
  t.comment(`screenshot: ${shot}`);
});

/**
 * The /status page across two focus processes (the built `dist/`, as deployed: page scripts from
 * `dist/web/status`, uPlot from node_modules): alice on a.example publishes synthetic simulcast, bob on b.example
 * takes the 640×360 layer over the link. b.example's page must show the link (connected), the track it relays
 * with its layers, bob's subscription, and plot the link's bit rate. Screenshot in test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import t from 'tap';
import { asWerift, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import { closeBrowser, launchBrowser } from '../../../harness/peers/index.js';
import { waitFor } from '../../../harness/stack.js';
import { publishSimulcast } from '../cascade/cascadeMedia.js';
import { ARTIFACTS, plotState, waitPlotData, watchErrors } from './statusPageHelpers.js';

const A = 'a.example';
const B = 'b.example';

t.teardown(() => closeBrowser());

/** In-page access to the DOM (Node's types have none; these functions run in Chromium). */
declare const document: {
  querySelectorAll(
    selector: string,
  ): ArrayLike<{ textContent: string | null }> & Iterable<{ textContent: string | null }>;
};

t.test('across two focus processes: the link, its relayed track and the link plot', async (t) => {
  const ms = await startMultiCallStack(t);
  const alice = await ms.client('alice', A);
  await publishSimulcast(t, { focusRef: ms.node(A).focus }, alice);
  const bob = await ms.client('bob', B);
  const b = await joinWithMedia({ focusRef: ms.node(B).focus }, bob, {});
  let received = 0;
  asWerift(bob.peer).onRtp((r) => {
    if (r.kind === 'video') {
      received++;
    }
  });
  const s = await streamOf(b, alice.userId, { video: true });
  await subscribe(b, [{ stream_id: s.streamId, track_id: s.video!, width: 640, height: 360 }], 'sub-1');
  await waitFor(() => received > 30, 60_000, 'relayed video at bob on b.example');

  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  t.teardown(() => page.close());
  const errors = watchErrors(page);
  await page.goto(`http://127.0.0.1:${ms.node(B).httpPort}/status`);
  const focusA = ms.node(A).focus.user_id;
  await page.waitForFunction(
    (focusA) =>
      [...document.querySelectorAll('table.links tbody tr')].some(
        (r) => (r.textContent ?? '').includes(focusA) && (r.textContent ?? '').includes('connected'),
      ),
    focusA,
    { timeout: 60_000 },
  );
  await waitPlotData(page, 'links', 60_000);

  const links = await page.locator('table.links tbody tr').allTextContents();
  t.equal(links.length, 1, 'one link, to a.example’s focus');
  t.match(links[0], /connected/);
  const participants = await page.locator('table.participants tbody tr').allTextContents();
  t.equal(participants.length, 1, 'b.example has one local participant');
  t.match(participants[0], bob.userId);
  const subs = await page.locator('table.subscriptions tbody tr').allTextContents();
  t.match(subs[0], alice.userId, 'bob’s subscription names alice, relayed from a.example');
  const relayed = await page.locator('table.relayed tbody tr').allTextContents();
  t.ok(
    relayed.some((r) => r.includes(alice.userId) && r.includes('video') && r.includes('640×360')),
    'alice’s relayed video with its layers',
  );
  const linksPlot = await plotState(page, 'plot-links');
  const tracksPlot = await plotState(page, 'plot-tracks');
  t.comment(`links plot ${JSON.stringify(linksPlot)}, tracks plot ${JSON.stringify(tracksPlot)}`);
  t.ok(linksPlot.points > 1 && linksPlot.series === 2 && linksPlot.inked > 100, 'link in and out plotted');
  t.ok(tracksPlot.series >= 1 && tracksPlot.inked > 100, 'the relayed track is plotted');
  t.same(errors, [], 'no script error, no CSP violation');
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = `${ARTIFACTS}/status-cascade-b.png`;
  await page.screenshot({ path: shot, fullPage: true });
  t.comment(`screenshot: ${shot}`);
});

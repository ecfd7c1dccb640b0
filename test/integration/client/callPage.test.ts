/**
 * The web call page (`/call/`, web/call/) in headless Chromium with fake camera and microphone, served by the
 * SFU itself (`web.call_page`), against the strict test homeserver (another origin: CORS for real):
 * - three pages join one call from their URL fragments: each decodes the other two's video (videoWidth > 0,
 *   decoded frames rising) and receives their audio (inbound-rtp audio packets rising); every tile has a name
 *   and a stats line;
 * - shrinking a tile to a thumbnail makes that subscriber receive the low layer, enlarging it a larger one
 *   (decoded frame width; the time each took is reported);
 * - a screen share from one page appears as an extra tile on the others, and goes when stopped;
 * - mute is shown on the others' tiles;
 * - (membership format (c) here, so the state event's removal can be checked)
 * - leaving with the button removes the membership and the others' tiles within 2 s; closing a tab removes its
 *   tiles and membership too;
 * - a wrong password: the page names the error with its hint and shows the form again.
 * - with the page off (the default), `/call/` is a 404.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { startCallStack } from '../../../harness/callStack.js';
import { openPageAt } from '../../../harness/clientPage.js';
import { closeBrowser } from '../../../harness/peers/index.js';
import { startStack, waitFor } from '../../../harness/stack.js';

const MEMBER_TYPE = 'org.matrix.msc3401.call.member';

interface TileState {
  stream: string;
  name: string;
  flags: string;
  size: string;
  speaking: boolean;
  videoWidth: number;
  videoHeight: number;
  frames: number;
  stats: string;
}
interface PageState {
  joined: boolean;
  userId?: string;
  error: string;
  status: string;
  muted?: { audio: boolean; video: boolean };
  screenShare?: string;
  tiles: TileState[];
}

t.teardown(() => closeBrowser());

const state = (p: Page): Promise<PageState> =>
  p.evaluate(() => (globalThis as unknown as { callPage: { state(): PageState } }).callPage.state());

const audioPackets = (p: Page): Promise<number> =>
  p.evaluate(async () => {
    const cp = (
      globalThis as unknown as {
        callPage: { call?: { peer: { stats(): Promise<Record<string, unknown>[]> } } };
      }
    ).callPage;
    const stats = (await cp.call?.peer.stats()) ?? [];
    return stats
      .filter((r) => r['type'] === 'inbound-rtp' && r['kind'] === 'audio')
      .reduce((n, r) => n + (typeof r['packetsReceived'] === 'number' ? r['packetsReceived'] : 0), 0);
  });

async function until(
  p: Page,
  what: string,
  check: (s: PageState) => boolean,
  timeoutMs = 45_000,
): Promise<PageState> {
  let last: PageState | undefined;
  try {
    await waitFor(
      async () => {
        last = await state(p);
        return check(last);
      },
      timeoutMs,
      what,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last state ${JSON.stringify(last)}`, { cause: e });
  }
  return last!;
}

t.test('the call page is off by default', async (t) => {
  const s = await startStack(t);
  const res = await fetch(`http://127.0.0.1:${String(s.config.http.port)}/call/`);
  t.equal(res.status, 404);
});

t.test('three browser pages: video, audio, layers by tile size, screen share, mute, leave', async (t) => {
  const cs = await startCallStack(t, { config: { web: { call_page: true } } });
  const ops = `http://127.0.0.1:${String(cs.config.http.port)}`;
  const users = ['alice', 'bob', 'carol'] as const;
  for (const u of users) {
    cs.hs.createUser(u, { password: `${u}-pw` });
  }
  const html = await fetch(`${ops}/call/`);
  t.equal(html.status, 200);
  t.match(html.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const config = (await (await fetch(`${ops}/call/config.json`)).json()) as Record<string, unknown>;
  t.same(
    config,
    { homeserverUrl: cs.hs.url, focus: cs.focusRef },
    'config.json names the homeserver and focus',
  );
  t.equal((await fetch(`${ops}/call/assets/../package.json`)).status, 404, 'no path outside the assets');

  const url = (u: string): string =>
    `${ops}/call/#hs=${encodeURIComponent(cs.hs.url)}&user=${u}&password=${u}-pw&room=${encodeURIComponent(cs.roomId)}&format=c`;
  const pages: Record<string, Page> = {};
  for (const u of users) {
    pages[u] = await openPageAt(t, url(u));
  }
  const [alice, bob, carol] = [pages['alice']!, pages['bob']!, pages['carol']!];

  // Everyone decodes the other two.
  const decoding = (s: PageState) =>
    s.tiles.length === 2 && s.tiles.every((x) => x.videoWidth > 0 && x.frames > 0 && x.name !== '');
  const first: Record<string, PageState> = {};
  for (const u of users) {
    first[u] = await until(pages[u]!, `${u} decodes two tiles`, decoding, 60_000);
  }
  for (const u of users) {
    const later = await until(pages[u]!, `${u}: frames rise`, (s) =>
      s.tiles.every((x) => x.frames > (first[u]!.tiles.find((y) => y.stream === x.stream)?.frames ?? 0) + 10),
    );
    t.same(
      later.tiles.map((x) => x.name).sort(),
      users.filter((x) => x !== u).sort(),
      `${u} sees the other two by name`,
    );
    const a0 = await audioPackets(pages[u]!);
    await new Promise((r) => setTimeout(r, 1500));
    t.ok((await audioPackets(pages[u]!)) > a0 + 20, `${u} receives audio`);
    await until(pages[u]!, `${u}: stats lines`, (s) => s.tiles.every((x) => /kbit\/s/.test(x.stats)));
  }

  const bobTile = (s: PageState) => s.tiles.find((x) => x.name === 'bob');
  // Mute: bob's microphone, seen on the others' tiles.
  await bob.locator('#mic').click();
  await until(alice, 'bob shown muted', (s) => /muted/.test(bobTile(s)?.flags ?? ''));
  t.same((await state(bob)).muted, { audio: true, video: false }, 'bob is muted');

  // Screen share from carol: an extra tile on alice and bob.
  await carol.locator('#share').click();
  const withScreen = (s: PageState) =>
    s.tiles.length === 3 && s.tiles.some((x) => /carol’s screen/.test(x.name) && x.videoWidth > 0);
  await until(alice, 'alice decodes carol’s screen', withScreen);
  await until(bob, 'bob decodes carol’s screen', withScreen);
  t.ok((await state(carol)).screenShare !== undefined, 'carol shares');
  await carol.locator('#share').click();
  await until(alice, 'the screen tile goes', (s) => s.tiles.length === 2);

  // Leave with the button: carol's membership and tiles go within 2 s.
  const memberOf = (userId: string) =>
    cs.hs
      .roomState(cs.roomId)
      .filter((e) => e.type === MEMBER_TYPE && e.sender === userId)
      .some((e) => Object.keys(e.content).length > 0);
  const carolId = (await state(carol)).userId!;
  t.ok(memberOf(carolId), 'carol has a membership');
  let at = Date.now();
  await carol.locator('#leave').click();
  await until(alice, 'carol’s tile gone at alice', (s) => s.tiles.every((x) => x.name !== 'carol'), 10_000);
  await until(bob, 'carol’s tile gone at bob', (s) => s.tiles.every((x) => !/carol/.test(x.name)), 10_000);
  const gone = Date.now() - at;
  await waitFor(() => !memberOf(carolId), 10_000, 'carol’s membership removed');
  t.ok(gone <= 2000, `tiles gone ${String(gone)} ms after leave (≤ 2000)`);
  t.match((await state(carol)).status, /left/, 'carol’s page says so');

  // Tile size drives the layer: alice shrinks bob's tile, then enlarges it (two pages left: less CPU for the
  // encoders, which otherwise drop their upper layers on this 2-core machine).
  const normalWidth = bobTile(await state(alice))!.videoWidth;
  const sizeButton = alice.locator('.tile', { hasText: 'bob' }).locator('button.size');
  await sizeButton.click(); // large
  await sizeButton.click(); // small
  at = Date.now();
  const small = await until(alice, 'thumbnail gets the low layer', (s) => {
    const b = bobTile(s);
    return b !== undefined && b.size === 'small' && b.videoWidth > 0 && b.videoWidth <= 320;
  });
  t.comment(
    `thumbnail: ${String(bobTile(small)!.videoWidth)} px wide after ${String(Date.now() - at)} ms (normal tile: ${String(normalWidth)})`,
  );
  await sizeButton.click(); // normal
  await sizeButton.click(); // large
  at = Date.now();
  // What bob's browser sends (for the failure message): its video encodings and the SFU's simulcast lines.
  interface SenderLike {
    track: { kind: string } | null;
    getParameters(): { encodings: { rid?: string }[] };
  }
  interface PcLike {
    getSenders(): SenderLike[];
    remoteDescription: { sdp: string } | null;
  }
  const bobSends = () =>
    bob.evaluate(() => {
      const pc = (globalThis as unknown as { callPage: { call?: { peer: { pc: PcLike } } } }).callPage.call
        ?.peer.pc;
      const video = pc?.getSenders().find((x) => x.track?.kind === 'video');
      const sdp = pc?.remoteDescription?.sdp ?? '';
      return {
        encodings: video?.getParameters().encodings.map((e) => e.rid ?? '-') ?? [],
        remote: sdp.split('\r\n').filter((l) => /^a=(simulcast|rid)/.test(l)),
      };
    });
  t.comment(`bob sends ${JSON.stringify(await bobSends())}`);
  const large = await until(alice, 'a large tile gets a larger layer', (s) => {
    const b = bobTile(s);
    return b !== undefined && b.size === 'large' && b.videoWidth > bobTile(small)!.videoWidth;
  });
  t.comment(`large tile: ${String(bobTile(large)!.videoWidth)} px wide after ${String(Date.now() - at)} ms`);
  t.pass('the tile size moved the layer down and up');

  // Closing bob's tab: his tiles go at alice, and his membership is removed (the page leaves on pagehide, its
  // requests sent with keepalive so they outlive it).
  const bobId = (await state(bob)).userId!;
  t.ok(memberOf(bobId), 'bob has a membership');
  await bob.close({ runBeforeUnload: true });
  await until(alice, 'bob’s tile gone after his tab closed', (s) => s.tiles.length === 0, 40_000);
  await waitFor(() => !memberOf(bobId), 10_000, 'bob’s membership removed after his tab closed');
  t.pass('closing the tab removed bob’s membership');
  t.equal((await state(alice)).error, '', 'no error on alice’s page');
});

t.test('a wrong password: the page says what happened and shows the form again', async (t) => {
  const cs = await startCallStack(t, { config: { web: { call_page: true } } });
  const ops = `http://127.0.0.1:${String(cs.config.http.port)}`;
  cs.hs.createUser('dave', { password: 'dave-pw' });
  const page = await openPageAt(
    t,
    `${ops}/call/#hs=${encodeURIComponent(cs.hs.url)}&user=dave&password=nope&room=${encodeURIComponent(cs.roomId)}`,
  );
  const s = await until(page, 'the login error shown', (x) => x.error !== '', 30_000);
  t.match(s.error, /LoginError: .*wrong user name or password/);
  t.notOk(s.joined);
  t.ok(await page.locator('#join').isVisible(), 'the form is shown again');
  t.ok(await page.locator('#error').isVisible(), 'the error is visible');
  t.match((await page.locator('#error .hint').textContent()) ?? '', /\S/, 'with a hint');
});

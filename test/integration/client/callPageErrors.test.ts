/**
 * The web call page (`/call/`) when something goes wrong, in headless Chromium against the strict test
 * homeserver and the SFU serving the page: each case shows what happened (the client's named error) and how to
 * fix it (the hint), gives the form back, and leaves nothing behind (no session at the SFU, no membership):
 * - a room whose power levels do not let members join calls: the homeserver refuses the membership;
 * - a focus that refuses the call (`M_FORBIDDEN`): the SFU is not in the room, so it finds no membership;
 * - the data channel to the focus closes during the call (closed under the page by the test);
 * - no camera or microphone (Chromium without its fake devices).
 */
import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { startCallStack, type CallStack } from '../../../harness/callStack.js';
import { openPageAt } from '../../../harness/clientPage.js';
import { closeBrowser } from '../../../harness/peers/index.js';
import { waitFor } from '../../../harness/stack.js';

const MEMBER_TYPE = 'org.matrix.msc3401.call.member';
const RTC_MEMBER_TYPE = 'org.matrix.msc4143.rtc.member';
const SFU = '@sfu:example.org';

interface PageState {
  joined: boolean;
  error: string;
  status: string;
  tiles: unknown[];
}

t.teardown(() => closeBrowser());

const state = (p: Page): Promise<PageState> =>
  p.evaluate(() => (globalThis as unknown as { callPage: { state(): PageState } }).callPage.state());

async function errorShown(p: Page, timeoutMs: number): Promise<PageState> {
  let last: PageState | undefined;
  await waitFor(
    async () => {
      last = await state(p);
      return last.error !== '' && !last.joined;
    },
    timeoutMs,
    'the page shows an error and is out of the call',
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; last state ${JSON.stringify(last)}`, { cause: e });
  });
  return last!;
}

/** The error box with its hint, the form again. */
async function formBack(t: Test, p: Page): Promise<string> {
  t.ok(await p.locator('#error').isVisible(), 'the error is visible');
  const hint = (await p.locator('#error .hint').textContent()) ?? '';
  t.ok(await p.locator('#join').isVisible(), 'the form is shown again');
  return hint;
}

const pageUrl = (cs: CallStack, user: string, roomId: string): string =>
  `http://127.0.0.1:${String(cs.config.http.port)}/call/#hs=${encodeURIComponent(cs.hs.url)}` +
  `&user=${user}&password=${user}-pw&room=${encodeURIComponent(roomId)}`;

const memberships = (cs: CallStack, roomId: string, userId: string) =>
  cs.hs
    .roomState(roomId)
    .filter((e) => e.type === MEMBER_TYPE && e.sender === userId && Object.keys(e.content).length > 0);

const rtcMembers = (cs: CallStack, roomId: string, userId: string) =>
  cs.hs.roomTimeline(roomId).filter((e) => e.type === RTC_MEMBER_TYPE && e.sender === userId);

const sessions = (cs: CallStack): number =>
  [...cs.sfu.conferences.list()].reduce((n, c) => n + c.sessions().length, 0);

t.test('a room without call permission: the membership refused, the fix named', async (t) => {
  const cs = await startCallStack(t, { config: { web: { call_page: true } } });
  const owner = cs.hs.createUser('boss').userId;
  const roomId = cs.hs.createRoom(owner, {
    // Both membership event types: the page writes format (d) where the homeserver has sticky events.
    power_level_content_override: { events: { [MEMBER_TYPE]: 50, [RTC_MEMBER_TYPE]: 50 } },
  });
  cs.hs.invite(owner, SFU, roomId);
  cs.hs.join(SFU, roomId);
  const dave = cs.hs.createUser('dave', { password: 'dave-pw' }).userId;
  const page = await openPageAt(t, pageUrl(cs, 'dave', roomId));
  const s = await errorShown(page, 30_000);
  t.match(s.error, /^CallPermissionError: the homeserver refused the call membership: .*power level 50/);
  t.match(await formBack(t, page), /power level of the call member event/);
  t.same(memberships(cs, roomId, dave), [], 'no membership state was written');
  t.same(rtcMembers(cs, roomId, dave), [], 'nor a sticky membership event');
  t.equal(sessions(cs), 0, 'no session at the SFU');
  t.same(cs.hs.rejections, [], 'the client made no request the spec rejects');
});

t.test('a focus that refuses (M_FORBIDDEN): the SFU is not in the room', async (t) => {
  const cs = await startCallStack(t, {
    config: { web: { call_page: true }, auth: { membership_wait_s: 1 } },
  });
  const owner = cs.hs.createUser('boss').userId;
  const roomId = cs.hs.createRoom(owner); // the SFU's user is never invited
  const erin = cs.hs.createUser('erin', { password: 'erin-pw' }).userId;
  const page = await openPageAt(t, pageUrl(cs, 'erin', roomId));
  const s = await errorShown(page, 30_000);
  t.match(s.error, /^FocusRefusedError: /);
  t.match(s.error, /M_FORBIDDEN/);
  t.match(await formBack(t, page), /the SFU is in the room/);
  await waitFor(() => memberships(cs, roomId, erin).length === 0, 10_000, 'membership removed');
  t.pass('the membership written for the call was removed');
  t.equal(sessions(cs), 0, 'no session at the SFU');
  t.same(cs.hs.rejections, []);
});

t.test('the data channel closes during the call: the page says so and leaves cleanly', async (t) => {
  const cs = await startCallStack(t, { config: { web: { call_page: true } } });
  const frank = cs.hs.createUser('frank', { password: 'frank-pw' }).userId;
  const page = await openPageAt(t, pageUrl(cs, 'frank', cs.roomId), { recordDataChannels: true });
  await waitFor(async () => (await state(page)).joined, 45_000, 'frank in the call');
  await waitFor(() => sessions(cs) === 1, 10_000, 'his session at the SFU');
  // The page's own RTCDataChannel (recorded as created, see openPageAt's `recordDataChannels`): closing it is
  // what a dropped SCTP association looks like to the page (readyState closing → closed).
  const closed = await page.evaluate(() => {
    const channels = (globalThis as unknown as { __dataChannels: { close(): void }[] }).__dataChannels;
    for (const dc of channels) {
      dc.close();
    }
    return channels.length;
  });
  t.equal(closed, 1, 'the page had one data channel');
  const s = await errorShown(page, 10_000);
  t.match(s.error, /^DataChannelError: the data channel to the focus is (closing|closed)/);
  t.match(await formBack(t, page), /join again/i);
  t.same(s.tiles, [], 'no tiles left');
  await waitFor(() => sessions(cs) === 0, 10_000, 'the SFU ended the session (the page hung up)');
  await waitFor(() => memberships(cs, cs.roomId, frank).length === 0, 10_000, 'membership removed');
  t.pass('session ended and membership removed');
});

t.test('no camera or microphone: the page names the missing device', async (t) => {
  const cs = await startCallStack(t, { config: { web: { call_page: true } } });
  const gina = cs.hs.createUser('gina', { password: 'gina-pw' }).userId;
  const page = await openPageAt(t, pageUrl(cs, 'gina', cs.roomId), { fakeDevices: false });
  const s = await errorShown(page, 30_000);
  t.match(s.error, /^MediaAccessError: /);
  t.match(await formBack(t, page), /\S/);
  t.same(memberships(cs, cs.roomId, gina), [], 'no membership was written');
  t.equal(sessions(cs), 0, 'no session at the SFU');
});

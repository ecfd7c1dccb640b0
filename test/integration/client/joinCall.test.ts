/**
 * The high-level client API in headless Chromium against a real SFU: two pages (on `http://127.0.0.1:<port>`, a
 * different origin from the homeserver, so every request goes through CORS for real) log in with a password,
 * find the focus in `/.well-known/matrix/client` (past a livekit entry and a malformed one), join the room's call
 * with camera + microphone (3-layer simulcast), subscribe to each other at tile size and see each other's video.
 * Then they leave: hangup to the focus, membership removed. Bad input surfaces as named errors: a wrong password,
 * and a focus that refuses because no membership names it.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { startCallStack } from '../../../harness/callStack.js';
import { startClientPageServer } from '../../../harness/clientPage.js';
import { closeBrowser, launchBrowser } from '../../../harness/peers/index.js';
import { waitFor } from '../../../harness/stack.js';
import type { TapTest } from '../../../harness/sfu.js';

const MEMBER_TYPE = 'org.matrix.msc3401.call.member';

/** The page's app: joins through `joinCall`, renders each video track, subscribes every stream at 640×360. */
const APP_JS = `
import * as m from '/client/index.js';
const calls = {};
const errorOf = (e) => ({ ok: false, name: e.name, message: e.message, errcode: e.errcode, hint: e.hint, step: e.step });
window.app = {
  async join(name, opts) {
    let call;
    try {
      call = await m.joinCall(opts);
    } catch (e) {
      return errorOf(e);
    }
    const info = { call, speakers: [], errors: [], ended: null };
    calls[name] = info;
    const subscribeAll = (ps) => {
      for (const p of ps) for (const s of p.streams) call.subscribe(s.streamId, { width: 640, height: 360 });
    };
    call.on('participants', subscribeAll);
    subscribeAll(call.participants);
    call.on('track', (t) => {
      if (t.kind !== 'video') return;
      const v = document.createElement('video');
      v.muted = true; v.autoplay = true; v.playsInline = true;
      v.dataset.stream = t.streamId;
      v.srcObject = new MediaStream([t.track]);
      document.body.appendChild(v);
      v.play().catch(() => {});
    });
    call.on('activeSpeaker', (s) => info.speakers.push(s));
    call.on('error', (e) => info.errors.push(e.name + ': ' + e.message));
    call.on('ended', (e) => { info.ended = { reason: e.reason, error: e.error ? e.error.name : null }; });
    return { ok: true, userId: call.userId, deviceId: call.deviceId, roomId: call.roomId, focus: call.focus,
      focusSource: call.focusSource, notes: call.notes, format: call.membershipFormat };
  },
  async status(name) {
    const info = calls[name];
    const stats = await info.call.peer.stats();
    return {
      participants: info.call.participants.map((p) => ({ userId: p.userId, streams: p.streams.map((s) => s.streamId) })),
      tracks: info.call.tracks.map((t) => ({ streamId: t.streamId, kind: t.kind })),
      inbound: stats.filter((r) => r.type === 'inbound-rtp' && r.kind === 'video')
        .map((r) => ({ packets: r.packetsReceived, frames: r.framesDecoded ?? 0, width: r.frameWidth ?? 0 })),
      outbound: stats.filter((r) => r.type === 'outbound-rtp' && r.kind === 'video').map((r) => r.rid).sort(),
      videos: [...document.querySelectorAll('video')].map((v) => ({ stream: v.dataset.stream, width: v.videoWidth })),
      frames: info.call.subscriptionFrames,
      speakers: info.speakers,
      errors: info.errors,
      ended: info.ended,
      violations: [...info.call.client.violations, ...info.call.dc.violations],
      clientErrors: [...info.call.client.errors, ...info.call.dc.errors],
    };
  },
  async leave(name) {
    try { await calls[name].call.leave(); return { ok: true, ended: calls[name].ended }; } catch (e) { return errorOf(e); }
  },
};
`;

interface JoinResult {
  ok: boolean;
  name?: string;
  message?: string;
  errcode?: string;
  hint?: string;
  step?: string;
  userId?: string;
  deviceId?: string;
  roomId?: string;
  focus?: { user_id: string; device_id: string };
  focusSource?: string;
  notes?: string[];
  format?: string;
}
interface Status {
  participants: { userId: string; streams: string[] }[];
  tracks: { streamId: string; kind: string }[];
  inbound: { packets: number; frames: number; width: number }[];
  outbound: string[];
  videos: { stream: string; width: number }[];
  frames: string[];
  speakers: unknown[];
  errors: string[];
  ended: unknown;
  violations: string[];
  clientErrors: string[];
}
interface App {
  join(name: string, opts: unknown): Promise<JoinResult>;
  status(name: string): Promise<Status>;
  leave(name: string): Promise<{ ok: boolean; name?: string; message?: string; ended?: unknown }>;
}

t.teardown(() => closeBrowser());

async function openPage(t: TapTest, origin: string): Promise<Page> {
  const browser = await launchBrowser();
  const page = await browser.newPage();
  page.setDefaultTimeout(60_000);
  t.teardown(async () => {
    await page.context().close();
  });
  await page.goto(`${origin}/`);
  await page.addScriptTag({ url: '/app.js', type: 'module' });
  await page.waitForFunction(() => 'app' in globalThis);
  return page;
}

t.test('two browser pages join one call through the SFU and see each other', async (t) => {
  const cs = await startCallStack(t);
  const focusEntry = { type: 'org.matrix.msc3898', ...cs.focusRef };
  cs.hs.setRtcFoci([
    { type: 'livekit', livekit_service_url: 'https://livekit.example.org' },
    { type: 'org.matrix.msc3898', user_id: 'not-a-user-id', device_id: 'X' },
    focusEntry,
  ]);
  cs.hs.createUser('alice', { password: 'alice-pw' });
  cs.hs.createUser('bob', { password: 'bob-pw' });
  const site = await startClientPageServer(APP_JS);
  t.teardown(() => site.close());
  const pages = { alice: await openPage(t, site.url), bob: await openPage(t, site.url) };
  const opts = (user: string) => ({
    hsUrl: cs.hs.url,
    login: { user, password: `${user}-pw` },
    roomIdOrAlias: cs.roomId,
  });

  const alice = await pages.alice.evaluate(
    ([o]) => (globalThis as unknown as { app: App }).app.join('alice', o),
    [opts('alice')] as const,
  );
  t.match(alice, {
    ok: true,
    userId: '@alice:example.org',
    roomId: cs.roomId,
    focusSource: 'well-known',
    format: 'c',
  });
  t.same(alice.focus, cs.focusRef, 'the focus from .well-known');
  t.match(alice.notes, [/type "livekit"/, /not-a-user-id/], 'the skipped entries are noted');
  const bob = await pages.bob.evaluate(([o]) => (globalThis as unknown as { app: App }).app.join('bob', o), [
    opts('bob'),
  ] as const);
  t.match(bob, { ok: true, userId: '@bob:example.org' });

  const member = (userId: string, deviceId: string) =>
    cs.hs
      .roomState(cs.roomId)
      .find((e) => e.type === MEMBER_TYPE && e.state_key === `_${userId}_${deviceId}_m.call`);
  t.match(member(alice.userId!, alice.deviceId!)?.content, {
    application: 'm.call',
    focus_active: focusEntry,
  });

  // Each sees the other's camera: decoded frames with a width, growing packet counts, a playing <video>.
  const seen = async (name: 'alice' | 'bob'): Promise<Status> => {
    let last: Status | undefined;
    const page = pages[name];
    await waitFor(
      async () => {
        last = await page.evaluate((n) => (globalThis as unknown as { app: App }).app.status(n), name);
        return last.inbound.some((i) => i.frames > 10 && i.width > 0) && last.videos.some((v) => v.width > 0);
      },
      45_000,
      `${name} sees video (${JSON.stringify(last)})`,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(last)}`);
    });
    return last!;
  };
  const [a, b] = await Promise.all([seen('alice'), seen('bob')]);
  for (const [who, s, other] of [
    ['alice', a, bob],
    ['bob', b, alice],
  ] as const) {
    t.match(s.participants, [{ userId: other.userId }], `${who} sees the other participant`);
    t.ok(
      s.tracks.some((x) => x.kind === 'video') && s.tracks.some((x) => x.kind === 'audio'),
      `${who} got both tracks`,
    );
    t.same(s.outbound, ['f', 'h', 'q'], `${who} publishes 3 simulcast layers`);
    t.ok(
      s.frames.some((f) => /"op":"subscribe"/.test(f) && /"width":640,"height":360/.test(f)),
      `${who} subscribed at tile size`,
    );
    t.same(s.violations, [], `${who}: the focus kept every rule`);
    t.same(s.clientErrors, [], `${who}: no client errors`);
    t.same(s.errors, []);
    t.equal(s.ended, null);
  }
  const before = a.inbound.reduce((n, i) => n + i.packets, 0);
  await waitFor(
    async () =>
      (
        await pages.alice.evaluate(() => (globalThis as unknown as { app: App }).app.status('alice'))
      ).inbound.reduce((n, i) => n + i.packets, 0) >
      before + 50,
    10_000,
    'inbound video packets keep increasing',
  );

  // Leaving: hangup to the focus and the membership removed (both sent at once).
  const left = await pages.alice.evaluate(() => (globalThis as unknown as { app: App }).app.leave('alice'));
  t.match(left, { ok: true, ended: { reason: 'left' } });
  t.same(member(alice.userId!, alice.deviceId!)?.content, {}, 'membership removed');
  const aliceReqs = cs.hs.requests.filter((r) => r.userId === alice.userId);
  const hangupAt = aliceReqs.findIndex(
    (r) => r.method === 'PUT' && r.path.includes('/sendToDevice/m.call.hangup/'),
  );
  const removedAt = aliceReqs.findIndex(
    (r) => r.method === 'PUT' && r.path.includes(`/state/${MEMBER_TYPE}/`) && JSON.stringify(r.body) === '{}',
  );
  t.ok(hangupAt >= 0 && removedAt >= 0, 'the hangup and the membership removal were both sent');
  t.ok(
    cs.hs.requests.some((r) => r.method === 'OPTIONS'),
    'the page went through CORS preflights',
  );
  await waitFor(
    async () =>
      (await pages.bob.evaluate(() => (globalThis as unknown as { app: App }).app.status('bob'))).participants
        .length === 0,
    10_000,
    'bob sees alice leave',
  );
  t.match(await pages.bob.evaluate(() => (globalThis as unknown as { app: App }).app.leave('bob')), {
    ok: true,
  });
  t.same(cs.hs.rejections, [], 'the homeserver rejected nothing (CORS included)');
});

t.test('bad input: wrong password, a focus that refuses', async (t) => {
  const cs = await startCallStack(t);
  cs.hs.setRtcFoci([{ type: 'org.matrix.msc3898', ...cs.focusRef }]);
  cs.hs.createUser('carol', { password: 'carol-pw' });
  const site = await startClientPageServer(APP_JS);
  t.teardown(() => site.close());
  const page = await openPage(t, site.url);

  const wrong = await page.evaluate(([o]) => (globalThis as unknown as { app: App }).app.join('carol', o), [
    { hsUrl: cs.hs.url, login: { user: 'carol', password: 'nope' }, roomIdOrAlias: cs.roomId },
  ] as const);
  t.match(wrong, {
    ok: false,
    name: 'LoginError',
    errcode: 'M_FORBIDDEN',
    step: 'login',
    message: /wrong user name or password/,
  });
  t.match(wrong.hint, /password/);

  // The membership write "succeeds" but never reaches the room: the focus finds no membership naming it.
  cs.hs.failNext(
    { method: 'PUT', path: new RegExp(`/state/${MEMBER_TYPE.replace(/\./g, '\\.')}/`) },
    {
      status: 200,
      body: { event_id: '$never-stored' },
    },
  );
  const refused = await page.evaluate(([o]) => (globalThis as unknown as { app: App }).app.join('carol', o), [
    { hsUrl: cs.hs.url, login: { user: 'carol', password: 'carol-pw' }, roomIdOrAlias: cs.roomId },
  ] as const);
  t.match(refused, { ok: false, name: 'FocusRefusedError', errcode: 'M_FORBIDDEN', step: 'invite' });
  t.match(refused.hint, /membership/);
  t.same(cs.hs.rejections, []);
});

/**
 * client/ runs in a browser: its modules, transpiled as they are (no bundler, no polyfills), are imported by a
 * headless Chromium page, which joins a call through the strict test homeserver with the page's own `fetch` and
 * `crypto`: membership (format c), invite to a stand-in focus, the answer over `/sync`, hangup. The page's peer is
 * a scripted CallPeer (the WebRTC part is covered by the Chromium peer tests). The page is same-origin with the
 * homeserver through a Playwright route, so no CORS is involved.
 */
import t from 'tap';
import { transpileClient } from '../../../harness/clientPage.js';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import { closeBrowser, launchBrowser } from '../../../harness/peers/index.js';

const ORIGIN = 'http://client.test';
const CONF = '1700000000000aBcD';

t.teardown(() => closeBrowser());

t.test('the client, imported by a browser page, joins a call through the test homeserver', async (t) => {
  const modules = transpileClient();
  t.ok(modules.has('/client/index.js'));
  const hs = await startTestHomeserver({ serverName: 'example.org', logger: false });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice', { deviceId: 'ALICEDEV' });
  const sfu = hs.createUser('sfu', { deviceId: 'SFUDEV1' });
  const focus = { user_id: sfu.userId, device_id: sfu.deviceId };
  const roomId = hs.createRoom(alice.userId);

  const browser = await launchBrowser();
  const page = await browser.newPage();
  t.teardown(async () => {
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.close();
  });
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.startsWith('/_matrix/')) {
      const response = await route.fetch({ url: `${hs.url}${url.pathname}${url.search}` });
      await route.fulfill({ response });
      return;
    }
    const js = modules.get(url.pathname);
    await (js !== undefined
      ? route.fulfill({ contentType: 'text/javascript', body: js })
      : url.pathname === '/'
        ? route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>client</title>' })
        : route.fulfill({ status: 404, body: 'not found' }));
  });
  await page.goto(`${ORIGIN}/`);

  // In the page: no Node globals; the client joins and invites with a scripted peer.
  const joined = await page.evaluate(
    async ({ roomId, focus, alice, conf }) => {
      const entry = '/client/index.js';
      const m = await import(entry);
      const w = globalThis as unknown as Record<string, unknown>;
      const remote: unknown[] = [];
      const peer = {
        createOffer: async () => 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\na=msid:s a\r\n',
        setRemoteDescription: async (d: unknown) => {
          remote.push(d);
        },
        createAnswer: async () => 'v=0\r\n',
        addIceCandidate: async () => undefined,
        onCandidate: (cb: (c: { candidate: string }) => void) => {
          cb({ candidate: '' });
        },
        waitConnected: async () => undefined,
        waitDataChannelOpen: async () => undefined,
        sendData: () => undefined,
        onData: () => undefined,
        connectionState: () => 'connected',
        close: async () => undefined,
      };
      const client = new m.CallClient({
        hsUrl: (globalThis as unknown as { location: { origin: string } }).location.origin,
        userId: alice.userId,
        accessToken: alice.accessToken,
        deviceId: alice.deviceId,
        peer,
      });
      w['client'] = client;
      w['remote'] = remote;
      const eventId: string = await client.publishMembership(roomId, focus);
      const call = await client.invite({ focus, confId: conf, roomId, offerOpts: { audio: true } });
      const frame = m.dc.readFocusFrame('{"op":"ack","id":"7"}');
      return {
        nodeGlobals: ['process', 'Buffer', 'require'].filter((g) => g in globalThis),
        eventId,
        callId: call.callId as string,
        frame,
      };
    },
    { roomId, focus, alice, conf: CONF },
  );
  t.same(joined.nodeGlobals, [], 'no Node globals in the page');
  t.match(joined.eventId, /^\$/);
  t.same(joined.frame, { ok: true, dialect: 'A', message: { kind: 'ack', id: '7' } }, 'dc reader');
  const member = hs.roomState(roomId).find((e) => e.type === 'org.matrix.msc3401.call.member');
  t.match(member, {
    state_key: `_${alice.userId}_ALICEDEV_m.call`,
    sender: alice.userId,
    content: { focus_active: { type: 'org.matrix.msc3898', ...focus } },
  });

  // The stand-in focus sees the invite and the end of candidates, and answers through the homeserver.
  const invite = await hs.waitForToDevice(focus.user_id, focus.device_id, (m) => m.type === 'm.call.invite');
  t.match(invite.content, { call_id: joined.callId, conf_id: CONF, offer: { type: 'offer' }, seq: 0 });
  await hs.waitForToDevice(focus.user_id, focus.device_id, (m) => m.type === 'm.call.candidates', 15_000);
  hs.sendToDevice(focus.user_id, 'm.call.answer', {
    [alice.userId]: {
      ALICEDEV: {
        call_id: joined.callId,
        conf_id: CONF,
        party_id: 'SFUDEV1',
        version: '1',
        device_id: 'SFUDEV1',
        dest_session_id: invite.content['sender_session_id'],
        sender_session_id: 'sfu',
        answer: { type: 'answer', sdp: 'v=0\r\nanswer' },
        'org.matrix.msc3077.sdp_stream_metadata': {},
      },
    },
  });

  const answered = await page.evaluate(async () => {
    interface InPage {
      client: {
        waitForAnswer(ms: number): Promise<unknown>;
        hangup(): Promise<void>;
        close(): Promise<void>;
        violations: string[];
        errors: string[];
      };
      remote: unknown[];
    }
    const w = globalThis as unknown as InPage;
    await w.client.waitForAnswer(15_000);
    await w.client.hangup();
    const out = { remote: w.remote, violations: w.client.violations, errors: w.client.errors };
    await w.client.close();
    return out;
  });
  t.same(answered.remote, [{ type: 'answer', sdp: 'v=0\r\nanswer' }], 'the answer reached the page’s peer');
  t.same(answered.violations, [], 'the stand-in focus kept every rule');
  t.same(answered.errors, []);
  await hs.waitForToDevice(focus.user_id, focus.device_id, (m) => m.type === 'm.call.select_answer', 15_000);
  const hangup = await hs.waitForToDevice(focus.user_id, focus.device_id, (m) => m.type === 'm.call.hangup');
  t.match(hangup.content, { call_id: joined.callId, reason: 'user_hangup' });
  t.same(hs.rejections, [], 'the homeserver rejected nothing');
});

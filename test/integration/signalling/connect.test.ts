/**
 * Through the strict test homeserver, an authorized client invites the focus and its peer connection
 * reaches ICE + DTLS connected with the data channel open: werift client over both to-device transports,
 * a libwebrtc client (@roamhq/wrtc) and headless Chromium.
 */
import t from 'tap';
import { CONF, startCallStack, type CallStack, type TestCallClient } from '../../../harness/callStack.js';
import { closeBrowser } from '../../../harness/peers/index.js';
import type { TapTest } from '../../../harness/sfu.js';
import { waitFor } from '../../../harness/stack.js';

t.teardown(() => closeBrowser());

async function connect(t: TapTest, cs: CallStack, c: TestCallClient): Promise<void> {
  const started = Date.now();
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true } });
  const answer = await c.waitForAnswer(15_000);
  t.equal((answer['answer'] as { type: string }).type, 'answer');
  t.same(answer['org.matrix.msc3077.sdp_stream_metadata'], {}, 'answer carries the (empty) stream metadata');
  await c.peer.waitConnected(15_000);
  await c.peer.waitDataChannelOpen(15_000);
  t.comment(`${c.peer.kind}: invite → connected + DC open in ${Date.now() - started} ms`);
  await waitFor(() => cs.sfu.conferences.sessionCount === 1, 5_000, 'session registered');
  const candidates = c.received.filter((e) => e.type === 'm.call.candidates');
  t.ok(candidates.length > 0, 'candidates were trickled');
  const all = candidates.flatMap((e) => e.content['candidates'] as { candidate: string }[]);
  t.equal(all.at(-1)?.candidate, '', 'the last candidate is the end-of-candidates marker');
  for (const c of all.slice(0, -1)) {
    t.match(c.candidate, / 127\.0\.0\.1 \d+ typ host/, 'only the configured bind address is offered');
  }
  t.same(c.violations, [], 'the focus kept every rule of protocol.md §4.4');
  t.same(c.errors, []);
  t.same(cs.hs.rejections, [], 'the homeserver rejected nothing the SFU sent');
}

t.test('werift client, to-device pushed in transactions (MSC2409)', async (t) => {
  const cs = await startCallStack(t);
  await connect(t, cs, await cs.client('alice'));
  const m = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_invites_total');
  t.match(m, /result="accepted"} 1/);
});

t.test('werift client, to-device through the /sync fallback', async (t) => {
  const cs = await startCallStack(t, {
    config: { to_device: { transport: 'sync' } },
    registration: { receive_ephemeral: false, 'de.sorunome.msc2409.push_ephemeral': false },
  });
  await connect(t, cs, await cs.client('alice'));
  t.ok((cs.sfu.sync?.syncs ?? 0) > 0, 'the SFU used /sync');
  t.ok(
    cs.hs.requests.some(
      (r) => r.path === '/_matrix/client/v3/sync' && r.query['org.matrix.msc3202.device_id'] === 'SFUDEV1',
    ),
    'as the focus device',
  );
});

t.test('libwebrtc client (@roamhq/wrtc)', async (t) => {
  const cs = await startCallStack(t);
  await connect(t, cs, await cs.client('alice', { kind: 'wrtc' }));
});

t.test('headless Chromium client', async (t) => {
  const cs = await startCallStack(t);
  await connect(t, cs, await cs.client('alice', { kind: 'chromium' }));
});

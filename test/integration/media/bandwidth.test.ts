/**
 * Subscriber bandwidth estimation with a real browser: a libwebrtc (@roamhq/wrtc) publisher sends 3-layer
 * VP8 simulcast; a Chromium subscriber asks for 1280×720 through a relay that caps its downlink below the
 * high layer's rate. The subscriber's REMB and loss reports make the SFU move it to a lower layer; when the
 * cap is lifted, padding probes show the high layer fits again and it goes back up. framesDecoded is polled
 * throughout: the picture must keep moving (the longest stall is measured).
 */
import t from 'tap';
import { startCallStack } from '../../../harness/callStack.js';
import { asChromium, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { closeBrowser, launchBrowser, type ChromiumPeer } from '../../../harness/peers/index.js';
import { waitFor } from '../../../harness/stack.js';
import { UdpRelay } from '../../../harness/udpRelay.js';

t.before(async () => {
  await launchBrowser();
});
t.teardown(async () => {
  await closeBrowser();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inbound(p: ChromiumPeer) {
  return (await p.stats()).find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
}

t.test('a capped subscriber link moves the subscriber down a layer, and back up when lifted', async (t) => {
  const cs = await startCallStack(t);
  const alice = await cs.client('alice', { kind: 'wrtc' });
  await joinWithMedia(cs, alice, { audio: true, video: { simulcast: true } });
  const relay = await UdpRelay.create(9);
  const bob = await cs.client('bob', { kind: 'chromium', relay });
  const b = await joinWithMedia(cs, bob, {});
  const s = await streamOf(b, alice.userId, { video: true });
  const sub = asChromium(bob.peer);
  await subscribe(b, [{ stream_id: s.streamId, track_id: s.video!, width: 1280, height: 720 }], 'sub-bob');
  await waitFor(async () => (await inbound(sub))?.frameWidth === 1280, 30_000, 'bob on 1280×720');

  // Poll the picture: the longest time framesDecoded did not move.
  let lastFrames = -1;
  let lastMoveAt = Date.now();
  let longestStall = 0;
  let width = 0;
  const polling = { on: true };
  const poll = (async () => {
    while (polling.on) {
      const r = await inbound(sub).catch(() => undefined);
      const now = Date.now();
      if (r?.framesDecoded !== undefined && r.framesDecoded > lastFrames) {
        lastFrames = r.framesDecoded;
        lastMoveAt = now;
      }
      longestStall = Math.max(longestStall, now - lastMoveAt);
      width = r?.frameWidth ?? width;
      await sleep(100);
    }
  })();
  t.teardown(() => {
    polling.on = false;
  });

  await sleep(3000);
  const before = relay.stats('down').bytes;
  await sleep(2000);
  const highBps = ((relay.stats('down').bytes - before) * 8) / 2;
  const capBps = Math.round(highBps * 0.6);
  t.comment(
    `high layer at the subscriber: ${(highBps / 1000).toFixed(0)} kbit/s; cap ${capBps / 1000} kbit/s`,
  );

  const capAt = Date.now();
  relay.setRules('down', { bandwidthBps: capBps, queueMs: 200 });
  await waitFor(() => width > 0 && width < 1280, 30_000, 'bob moved below 1280×720');
  const downMs = Date.now() - capAt;
  t.comment(`moved down to ${width} px wide ${downMs} ms after the cap`);
  t.ok(downMs <= 10_000, 'moved down (generous bound; the target is 5 s)');
  await sleep(6000);
  t.ok(width < 1280, `still below 1280×720 while capped (${width})`);
  const stallCapped = longestStall;

  const liftAt = Date.now();
  relay.setRules('down', {});
  await waitFor(() => width === 1280, 40_000, 'bob back on 1280×720');
  const upMs = Date.now() - liftAt;
  t.comment(`back on 1280×720 ${upMs} ms after the cap was lifted`);
  t.ok(upMs <= 25_000, 'moved back up (generous bound; the target is 15 s)');
  await sleep(1000);
  polling.on = false;
  await poll;
  const final = await inbound(sub);
  t.comment(
    `longest stall of framesDecoded: ${longestStall} ms (${stallCapped} ms up to the lift); ` +
      `freezeCount ${final?.freezeCount}`,
  );
  t.ok(longestStall < 1000, 'the picture kept moving (no stall of a second or more)');
  const est = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_bandwidth_estimate_bps');
  t.match(est, /sfu_bandwidth_estimate_bps_count [1-9]/, 'estimates observed in the histogram');
  const probes = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_bandwidth_probes_total');
  const probeCount = Number(/sfu_bandwidth_probes_total (\d+)/.exec(probes)?.[1] ?? 0);
  t.comment(`${probeCount} padding probes started`);
  t.ok(probeCount > 0, 'the way back up was probed');
});

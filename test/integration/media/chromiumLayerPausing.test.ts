/**
 * Publishers stop what nobody watches (issue 16 step 6; publisherDemand.ts): a Chromium publisher sends 3-layer
 * VP8 simulcast (q/h/f = 320×180 / 640×360 / 1280×720). With every subscriber at 320×180, the SFU's REMB
 * covers the low layer only (after its 10 s hold), and the browser stops encoding and sending its upper layers
 * (their `outbound-rtp` frames encoded and payload bytes stand still; Chromium goes on sending padding packets
 * under f's SSRC, as it pads on a media SSRC when RTX is not negotiated); when a subscriber asks for 1280×720
 * the REMB rises again, the publisher resumes f and the subscriber gets it. The times are reported: the fall
 * is the hold plus the browser's reaction, the return the browser's climb back.
 */
import t from 'tap';
import { startCallStack } from '../../../harness/callStack.js';
import { asChromium, joinWithMedia, resize, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { closeBrowser, launchBrowser, type ChromiumPeer } from '../../../harness/peers/index.js';
import { waitFor } from '../../../harness/stack.js';

t.before(async () => {
  await launchBrowser();
});
t.teardown(async () => {
  await closeBrowser();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per rid: frames the publisher encoded and payload bytes it sent, so far. */
async function sentByRid(p: ChromiumPeer): Promise<Map<string, { frames: number; bytes: number }>> {
  const out = new Map<string, { frames: number; bytes: number }>();
  for (const s of await p.stats()) {
    if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid !== undefined) {
      out.set(s.rid, { frames: s.framesEncoded ?? 0, bytes: s.bytes ?? 0 });
    }
  }
  return out;
}

/** The same, over the next `ms`: `rid` → [frames, bytes]. */
async function rateByRid(p: ChromiumPeer, ms: number): Promise<Record<string, [number, number]>> {
  const a = await sentByRid(p);
  await sleep(ms);
  const out: Record<string, [number, number]> = {};
  for (const [rid, b] of await sentByRid(p)) {
    const x = a.get(rid);
    out[rid] = [b.frames - (x?.frames ?? 0), b.bytes - (x?.bytes ?? 0)];
  }
  return out;
}

t.test(
  'every subscriber at 320×180: the publisher stops its upper layers; asked for 720p, f resumes',
  async (t) => {
    const cs = await startCallStack(t);
    const alice = await cs.client('alice', { kind: 'chromium' });
    const bob = await cs.client('bob', { kind: 'chromium' });
    await joinWithMedia(cs, alice, { audio: true, video: { simulcast: true } });
    const b = await joinWithMedia(cs, bob, {});
    const s = await streamOf(b, alice.userId, { audio: true, video: true });
    const pub = asChromium(alice.peer);
    const sub = asChromium(bob.peer);
    const inbound = async () =>
      (await sub.stats()).find((x) => x.type === 'inbound-rtp' && x.kind === 'video');
    await subscribe(
      b,
      [
        { stream_id: s.streamId, track_id: s.audio! },
        { stream_id: s.streamId, track_id: s.video!, width: 320, height: 180 },
      ],
      'low',
    );
    await waitFor(async () => (await inbound())?.frameWidth === 320, 20_000, 'bob decodes 320×180');
    const lowAt = Date.now();
    let rates = await rateByRid(pub, 2000);
    t.ok((rates['f']?.[0] ?? 0) > 0, `all layers encoded at first (the hold) ${JSON.stringify(rates)}`);

    // The REMB falls to what q needs once its hold ends; the browser then stops h and f.
    await waitFor(
      async () => {
        rates = await rateByRid(pub, 2000);
        return rates['f']?.[0] === 0 && rates['f'][1] === 0 && (rates['q']?.[0] ?? 0) > 10;
      },
      60_000,
      'the publisher stops encoding f',
    );
    t.comment(
      `f stopped ≤ ${Date.now() - lowAt} ms after the only subscriber took 320×180 (10 s of it the hold)`,
    );
    rates = await rateByRid(pub, 3000);
    t.same(
      rates['f'],
      [0, 0],
      `f stays off while nobody wants it: no frame, no payload byte ${JSON.stringify(rates)}`,
    );
    t.same(rates['h'], [0, 0], 'h too (it does not fit the REMB either)');
    t.ok((rates['q']?.[0] ?? 0) > 15, 'q goes on');
    const decoded = (await inbound())?.framesDecoded ?? 0;
    await sleep(1000);
    t.ok(((await inbound())?.framesDecoded ?? 0) > decoded, 'bob keeps decoding');

    // Asked for 1280×720: the REMB rises at once, the browser climbs back and resumes f.
    const upAt = Date.now();
    resize(b, s.streamId, s.video!, 1280, 720, 'up');
    await waitFor(
      async () => ((await rateByRid(pub, 1000))['f']?.[0] ?? 0) > 0,
      90_000,
      'the publisher resumes f',
    );
    const resumedMs = Date.now() - upAt;
    await waitFor(async () => (await inbound())?.frameWidth === 1280, 30_000, 'bob decodes 1280×720');
    t.comment(
      `f resumed ≤ ${resumedMs} ms after bob asked for 1280×720; bob decoded 1280×720 ≤ ${Date.now() - upAt} ms`,
    );
    const before = (await inbound())!.framesDecoded!;
    await sleep(2000);
    t.ok((await inbound())!.framesDecoded! > before + 20, 'bob keeps decoding at 1280×720');
  },
);

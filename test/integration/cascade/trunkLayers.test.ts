/**
 * What the trunk carries, counted per SSRC by a relay between two real foci (harness/trunkRelay.ts, no test
 * code in the SFU). A publisher on a.example sends synthetic 3-layer VP8 simulcast (q, h, f: distinct payload
 * sizes, so the relay can tell the layers apart by datagram size) + Opus; subscribers on b.example want 320×180
 * and 1280×720. The trunk carries exactly the demanded layers {q, f} and the audio (protocol.md §8.3), and f
 * stops within 3 s of the 1280×720 subscriber hanging up, while q keeps flowing to the other one. Each
 * focus's `/status` shows the same: A's trunk send of the video with {q, f} demanded and sent, B's demand.
 */
import t from 'tap';
import { streamOf, subscribe } from '../../../harness/mediaCall.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import { waitFor } from '../../../harness/stack.js';
import { insertTrunkRelay } from '../../../harness/trunkRelay.js';
import { layerOfSize, linkStatus, onLayer, participant, snapshot, trunkFlows } from './cascadeMedia.js';

const A = 'a.example';
const B = 'b.example';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test(
  'the trunk carries exactly the demanded layers; f stops within 3 s of its last subscriber leaving',
  async (t) => {
    const ms = await startMultiCallStack(t);
    const trunk = await insertTrunkRelay(ms, A, B);
    t.teardown(() => {
      trunk.close();
    });
    const alice = await participant(ms, 'alice', A, true);
    t.teardown(() => {
      alice.stop();
    });
    const small = await participant(ms, 'bob', B, false);
    const large = await participant(ms, 'carol', B, false);
    for (const [i, x] of [
      { p: small, w: 320, h: 180 },
      { p: large, w: 1280, h: 720 },
    ].entries()) {
      const s = await streamOf(x.p.mc, alice.userId, { audio: true, video: true });
      await subscribe(
        x.p.mc,
        [
          { stream_id: s.streamId, track_id: s.audio! },
          { stream_id: s.streamId, track_id: s.video!, width: x.w, height: x.h },
        ],
        `sub-${i}`,
      );
    }
    await waitFor(
      () => onLayer(small, 320, 180) && onLayer(large, 1280, 720),
      60_000,
      'each subscriber on b.example on its own layer',
    );

    const before = snapshot(trunk.stats('ab').perSsrc);
    await sleep(3000);
    const steady = trunkFlows(trunk.stats('ab').perSsrc, before);
    const layers = steady.map((f) => layerOfSize(f.meanBytes)).filter((l) => l !== undefined);
    t.same([...layers].sort(), ['f', 'q'], 'video on the trunk: one SSRC each of q and f, no h');
    t.equal(
      steady.filter((f) => f.meanBytes < 150).length,
      1,
      'and one audio SSRC (Opus silence frames: datagrams under 150 bytes; padding probes are about 285)',
    );
    t.comment(
      `trunk a→b over 3 s: ${steady.map((f) => `${layerOfSize(f.meanBytes) ?? 'other'} ${f.packets} pkts ${Math.round(f.meanBytes)} B`).join('; ')}`,
    );
    // What each focus's /status says of the link: A sends the video with {q, f} demanded and sent, and the
    // audio; B demands {q, f} of the video.
    const aLink = await linkStatus(ms, A);
    const aVideo = aLink?.trunk_sends.filter((x) => x.kind === 'video') ?? [];
    t.same(
      aVideo.map((x) => ({ demanded: x.demanded, sending: x.sending })),
      [{ demanded: ['q', 'f'], sending: ['q', 'f'] }],
      "A's /status: the video sent on the trunk, q and f demanded and sent",
    );
    t.equal(aLink?.trunk_sends.filter((x) => x.kind === 'audio').length, 1, "A's /status: and the audio");
    const bLink = await linkStatus(ms, B);
    t.same(
      bLink?.demand.filter((d) => d.layers.length > 0).map((d) => d.layers),
      [['q', 'f']],
      "B's /status: q and f demanded of the relayed video",
    );
    const fSsrc = steady.find((f) => layerOfSize(f.meanBytes) === 'f')!.ssrc;
    const qSsrc = steady.find((f) => layerOfSize(f.meanBytes) === 'q')!.ssrc;

    const fPackets = (): number => trunk.stats('ab').perSsrc.get(fSsrc)?.packets ?? 0;
    const qBefore = trunk.stats('ab').perSsrc.get(qSsrc)?.packets ?? 0;
    const leftAt = Date.now();
    await large.mc.c.hangup();
    let last = fPackets();
    let lastGrewAt = leftAt;
    // f has stopped once it has not grown for 2 s; bounded at 20 s.
    while (Date.now() - lastGrewAt < 2000 && Date.now() - leftAt < 20_000) {
      await sleep(50);
      const n = fPackets();
      if (n !== last) {
        last = n;
        lastGrewAt = Date.now();
      }
    }
    const stoppedAfter = lastGrewAt - leftAt;
    t.comment(`f's last trunk packet ${stoppedAfter} ms after the 1280×720 subscriber hung up`);
    t.ok(Date.now() - lastGrewAt >= 2000, 'f stopped on the trunk');
    t.ok(stoppedAfter <= 3000, `f stopped within 3 s (${stoppedAfter} ms)`);
    const qAfter = trunk.stats('ab').perSsrc.get(qSsrc)?.packets ?? 0;
    t.ok(qAfter - qBefore >= 20, `q kept flowing for the 320×180 subscriber (${qAfter - qBefore} packets)`);
    t.same(ms.hs.rejections, [], 'the homeserver rejected nothing');
  },
);

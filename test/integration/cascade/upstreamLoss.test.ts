/**
 * Loss before the trunk is not trunk congestion (protocol.md §8.5, implementation notes of 2026-12-05). The
 * publisher on a.example sits behind a relay that drops 15 % of its RTP for good (`lossSticky`: its
 * retransmissions never arrive either, as from a sender that cannot repair). The trunk carries the publisher's
 * sequence numbers verbatim and b.example's forwarding keeps their gaps, so b.example reports every one of
 * those numbers lost on the trunk, and the subscriber reports them lost on its own downlink. Read as loss of
 * those paths (over the 10 % of the loss rules), b.example's trunk estimate and a.example's trunk budget would
 * fall and pause f, and b.example's estimate of the subscriber would drop it to h or q (both seen before the
 * fix: f paused in 29 of 32 looks; with the trunk fixed alone, b.example demanded q and h instead of f for
 * seconds). Each sender knows the numbers it never had and takes them off the reports' fraction lost: f stays
 * demanded and sent all along, and keeps flowing on the trunk.
 */
import t from 'tap';
import { streamOf, subscribe } from '../../../harness/mediaCall.js';
import { startMultiCallStack } from '../../../harness/multiCallStack.js';
import { waitFor } from '../../../harness/stack.js';
import { insertTrunkRelay } from '../../../harness/trunkRelay.js';
import { UdpRelay } from '../../../harness/udpRelay.js';
import { layerOfSize, linkStatus, onLayer, participant, snapshot, trunkFlows } from './cascadeMedia.js';

const A = 'a.example';
const B = 'b.example';
const LOSS = 0.15;
const LOSS_MS = 8000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('15 % unrepairable loss before the trunk: the trunk keeps f demanded, sent and flowing', async (t) => {
  const ms = await startMultiCallStack(t);
  const trunk = await insertTrunkRelay(ms, A, B);
  const uplink = await UdpRelay.create(7);
  t.teardown(() => {
    trunk.close();
    uplink.close();
  });
  const alice = await participant(ms, 'alice', A, true, undefined, uplink);
  t.teardown(() => {
    alice.stop();
  });
  const bob = await participant(ms, 'bob', B, false);
  const s = await streamOf(bob.mc, alice.userId, { audio: true, video: true });
  await subscribe(
    bob.mc,
    [
      { stream_id: s.streamId, track_id: s.audio! },
      { stream_id: s.streamId, track_id: s.video!, width: 1280, height: 720 },
    ],
    'sub-1',
  );
  await waitFor(() => onLayer(bob, 1280, 720), 60_000, 'the subscriber on b.example on f');
  await sleep(2000); // the trunk's estimate settles on a clean path

  const lostBefore = [...uplink.stats('up').perSsrc.values()].reduce((n, x) => n + x.lostSeqs, 0);
  const trunkBefore = snapshot(trunk.stats('ab').perSsrc);
  uplink.setRules('up', { loss: LOSS, lossSticky: true });
  const sendingF: boolean[] = [];
  const started = Date.now();
  while (Date.now() - started < LOSS_MS) {
    await sleep(250);
    const video = (await linkStatus(ms, A))?.trunk_sends.find((x) => x.kind === 'video');
    sendingF.push(video?.demanded.includes('f') === true && video.sending.includes('f'));
  }
  const trunkDuring = trunkFlows(trunk.stats('ab').perSsrc, trunkBefore);
  const upStats = [...uplink.stats('up').perSsrc.values()];
  uplink.setRules('up', {});
  const lost = upStats.reduce((n, x) => n + x.lostSeqs, 0) - lostBefore;
  const repaired = upStats.reduce((n, x) => n + x.repaired, 0);
  t.ok(lost > 100, `the uplink lost ${lost} sequence numbers for good`);
  t.equal(repaired, 0, 'none of them was repaired (sticky loss)');

  const paused = sendingF.filter((x) => !x).length;
  t.equal(
    paused,
    0,
    `A's /status showed f demanded and sent on the trunk in every one of ${sendingF.length} looks`,
  );
  const f = trunkDuring.find((x) => layerOfSize(x.meanBytes) === 'f');
  // f: 15 fps × 3 packets = 45 packets/s sent by the publisher, 85 % of them reach A.
  const expected = 45 * (1 - LOSS) * (LOSS_MS / 1000);
  t.ok(
    f !== undefined && f.packets >= 0.8 * expected,
    `f flowed on the trunk throughout (${f?.packets ?? 0} packets, ≥ 80 % of ${Math.round(expected)})`,
  );
  t.same(ms.hs.rejections, [], 'the homeserver rejected nothing');
});

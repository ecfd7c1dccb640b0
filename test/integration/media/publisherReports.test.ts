/**
 * The SFU's own receiver reports to a publisher (media/publisherRtcp.ts, layerReception.ts), now that werift's
 * RTP receive handling is skipped (decryptedRtpTap.ts). A werift publisher (Opus + 3-layer synthetic simulcast)
 * behind an in-process UDP relay; what it receives over RTCP is read with werift's parser:
 * - about once a second one RR (werift's receivers, which reported on their own timers, are silent), blocks for
 *   every SSRC the relay carried upstream, the extended highest sequence number advancing as many packets as
 *   the relay forwarded on that SSRC, no loss while the path is clean; a REMB naming the 3 video SSRCs with it;
 * - the audio block echoes the publisher's SR (LSR = the middle of its NTP time, DLSR under a second);
 * - 10 % random loss on the publisher's uplink shows in the video blocks' fraction lost, and is gone after.
 */
import t from 'tap';
import {
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  RtcpRrPacket,
  type RtcpPacket,
  type RtcpReceiverInfo,
} from 'werift';
import { startCallStack } from '../../../harness/callStack.js';
import { asWerift } from '../../../harness/mediaCall.js';
import { waitFor } from '../../../harness/stack.js';
import { UdpRelay } from '../../../harness/udpRelay.js';
import { publishSimulcast } from '../cascade/cascadeMedia.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  at: number;
  blocks: Map<number, RtcpReceiverInfo>;
  /** What the relay had forwarded upstream per SSRC when the report arrived. */
  forwarded: Map<number, number>;
}

t.test('receiver reports and REMB from the SFU to a publisher: counts, sequence, LSR, loss', async (t) => {
  const cs = await startCallStack(t);
  const relay = await UdpRelay.create(31);
  t.teardown(() => {
    relay.close();
  });
  const alice = await cs.client('alice', { relay });
  await publishSimulcast(t, cs, alice);
  const peer = asWerift(alice.peer);
  const rrs: Seen[] = [];
  const rembSsrcs: number[][] = [];
  const sub = peer.onRtcp((p: RtcpPacket) => {
    if (p instanceof RtcpRrPacket) {
      const forwarded = new Map<number, number>();
      for (const [ssrc, s] of relay.stats('up').perSsrc) {
        forwarded.set(ssrc, s.packets);
      }
      rrs.push({ at: Date.now(), blocks: new Map(p.reports.map((r) => [r.ssrc, r])), forwarded });
    } else if (
      p instanceof RtcpPayloadSpecificFeedback &&
      p.feedback instanceof ReceiverEstimatedMaxBitrate
    ) {
      rembSsrcs.push([...p.feedback.ssrcFeedbacks]);
    }
  });
  t.teardown(() => {
    sub.unSubscribe();
  });
  await waitFor(() => relay.stats('up').perSsrc.size >= 4, 20_000, 'audio and 3 video layers upstream');
  await sleep(2500); // every layer flowing, a first report out
  const upSsrcs = [...relay.stats('up').perSsrc.keys()];

  // Clean: count and content over 5 s.
  const from = rrs.length;
  await sleep(5000);
  const clean = rrs.slice(from);
  t.comment(`${clean.length} RRs in 5 s; ${rembSsrcs.length} REMBs so far`);
  t.ok(clean.length >= 3 && clean.length <= 7, `about one RR a second (${clean.length} in 5 s)`);
  const first = clean[0]!;
  const last = clean[clean.length - 1]!;
  for (const ssrc of upSsrcs) {
    const a = first.blocks.get(ssrc);
    const b = last.blocks.get(ssrc);
    t.ok(a !== undefined && b !== undefined, `SSRC ${ssrc}: a block in every report`);
    if (a === undefined || b === undefined) {
      continue;
    }
    const advanced = b.highestSequence - a.highestSequence;
    const carried = (last.forwarded.get(ssrc) ?? 0) - (first.forwarded.get(ssrc) ?? 0);
    t.ok(
      Math.abs(advanced - carried) <= Math.max(10, carried * 0.1),
      `SSRC ${ssrc}: the extended highest seq advanced ${advanced}, the relay carried ${carried}`,
    );
    t.equal(b.fractionLost, 0, `SSRC ${ssrc}: no loss on a clean path`);
    t.equal(b.packetsLost, 0, `SSRC ${ssrc}: nothing lost in total`);
  }
  const audioSsrc = upSsrcs.find((s) => !rembSsrcs.at(-1)?.includes(s));
  t.equal(rembSsrcs.at(-1)?.length, 3, 'the REMB names the 3 video layer SSRCs');
  t.ok(
    upSsrcs.filter((s) => s !== audioSsrc).every((s) => rembSsrcs.at(-1)?.includes(s)),
    'exactly the video SSRCs the relay carried',
  );
  t.ok(rembSsrcs.length >= clean.length, 'a REMB with every report');

  // The publisher's werift sender reports on its audio: the SFU echoes the last SR it got.
  const audioBlock = last.blocks.get(audioSsrc ?? -1);
  t.ok(audioBlock !== undefined && audioBlock.lsr !== 0, 'the audio block echoes an SR (LSR set)');
  t.ok(
    audioBlock !== undefined && audioBlock.dlsr > 0 && audioBlock.dlsr < 65536 * 2,
    `DLSR under 2 s (${audioBlock?.dlsr ?? '?'} / 65536 s)`,
  );

  // 10 % loss upstream: the video blocks report it.
  const lossFrom = rrs.length;
  relay.setRules('up', { loss: 0.1 });
  await sleep(4500);
  relay.setRules('up', {});
  const lossy = rrs.slice(lossFrom + 1); // the first may close an interval that began clean
  const videoSsrcs = rembSsrcs.at(-1) ?? [];
  const fractions = lossy.flatMap((r) => videoSsrcs.map((s) => r.blocks.get(s)?.fractionLost ?? -1));
  t.comment(`fraction lost in the lossy reports (÷ 256): ${fractions.join(' ')}`);
  const mean = fractions.reduce((a, b) => a + b, 0) / Math.max(1, fractions.length);
  t.ok(lossy.length >= 2, 'reports during the loss');
  t.ok(mean >= 10 && mean <= 50, `the mean fraction lost is near 10 % (${mean.toFixed(1)} / 256)`);
  // Cumulative loss counts what never arrived: the SFU NACKs the publisher and werift answers, so a layer whose
  // few losses were all repaired in time may rightly show none (a low-rate layer loses ≈ 5 packets here). In all,
  // some loss shows, and no layer's exceeds what the relay dropped of it.
  const lostTotal = videoSsrcs.map((s) => lossy.at(-1)?.blocks.get(s)?.packetsLost ?? 0);
  const dropped = videoSsrcs.map((s) => relay.stats('up').perSsrc.get(s)?.lostSeqs ?? 0);
  t.ok(
    lostTotal.reduce((a, b) => a + b, 0) > 0,
    `the cumulative loss grew (${lostTotal.join(', ')}; the relay dropped ${dropped.join(', ')})`,
  );
  t.ok(
    lostTotal.every((n, i) => n <= (dropped[i] ?? 0)),
    'no layer reported more lost than the relay dropped of it',
  );

  await sleep(3000);
  const after = rrs.at(-1)!;
  t.ok(
    videoSsrcs.every((s) => after.blocks.get(s)?.fractionLost === 0),
    'the path clean again: no loss reported',
  );
  t.same(cs.hs.rejections, [], 'the homeserver rejected nothing');
});

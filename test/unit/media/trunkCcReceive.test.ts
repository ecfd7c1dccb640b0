/**
 * TrunkReceiveCc on a simulated trunk (test/helpers/trunkCcSim.ts: real RTP bytes with abs-send-time, a FIFO
 * bottleneck, the RTCP it writes parsed back by werift + readRtcp), with a sender that obeys its REMBs:
 * - a link capped at 1.5 Mbit/s under 3 Mbit/s of demand: the REMB converges under the cap (and not far
 *   under it) and the sender's rate with it;
 * - an uncapped link: the estimate rises to the demand and never falls;
 * - 20 % random loss: the blocks report ≈ 20 % (the sending focus's loss rule acts on them), and the estimate,
 *   delay-based, does not move for it (loss before the trunk looks the same here: forwarding/trunkEstimator.ts);
 * - an outage (everything dropped for ≥ 1 s, protocol.md §8.5): no loss reported after it, no cut; a 0.7 s
 *   blackout is still loss in the blocks;
 * - a paused layer (the sender skips the publisher's numbers, verbatim) for 0.3, 2 or 20 s while the rest of
 *   the trunk flows — also across a 400 ms stall of the receiving host: no loss in any block, no cut; the
 *   same gap with the whole trunk dark is loss;
 * - the RTCP: RR blocks for the announced SSRCs only (an unknown SSRC counts toward the rate, gets no block),
 *   blocks every 200–500 ms, the REMB naming the announced SSRCs, the first REMB at the first tick, nothing
 *   before a packet; LSR/DLSR echo a trunk SR; without abs-send-time there is no delay signal and loss still
 *   shows in the blocks.
 */
import t from 'tap';
import { TrunkReceiveCc } from '../../../src/media/link/trunkCcReceive.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import {
  ABS_ID,
  parseFeedback,
  RECEIVER_SSRC,
  rembAt,
  simulateTrunkCc,
  type SimStream,
} from '../../helpers/trunkCcSim.js';

const AUDIO: SimStream = { ssrc: 4101, clockRate: 48_000, packetBytes: 120 };
const Q: SimStream = { ssrc: 4111, clockRate: 90_000, packetBytes: 1100 };
const F: SimStream = { ssrc: 4113, clockRate: 90_000, packetBytes: 1200 };
const demand = new Map([
  [AUDIO.ssrc, 48_000],
  [Q.ssrc, 952_000],
  [F.ssrc, 2_000_000],
]);

/** A sender scaling every stream to fit the last REMB it got (audio kept whole). */
function obedient(): {
  rateBps: (ssrc: number) => number;
  onFeedback: (fb: { remb: number | undefined }) => void;
} {
  let remb = Number.POSITIVE_INFINITY;
  const total = [...demand.values()].reduce((a, b) => a + b, 0);
  return {
    rateBps: (ssrc) => {
      const d = demand.get(ssrc) ?? 0;
      if (ssrc === AUDIO.ssrc) {
        return d;
      }
      const videoShare = Math.max(0, Math.min(1, (remb - 48_000) / (total - 48_000)));
      return d * videoShare;
    },
    onFeedback: (fb) => {
      if (fb.remb !== undefined) {
        remb = fb.remb;
      }
    },
  };
}

t.test('a capped link: the estimate converges under the cap', async (t) => {
  const s = obedient();
  const r = simulateTrunkCc({
    durationMs: 20_000,
    streams: [AUDIO, Q, F],
    rateBps: s.rateBps,
    onFeedback: s.onFeedback,
    capacityBps: () => 1_500_000,
  });
  // GCC finds the capacity by crossing it: the estimate saw-tooths from ≈ 0.85 × to just over the cap.
  const settled = r.rembs.filter((x) => x.at >= 8000);
  const mean = settled.reduce((a, b) => a + b.bps, 0) / settled.length;
  const max = Math.max(...settled.map((x) => x.bps));
  const min = Math.min(...settled.map((x) => x.bps));
  t.ok(mean < 1_500_000, `mean REMB 8–20 s under the cap: ${String(Math.round(mean))}`);
  t.ok(max <= 1.05 * 1_500_000, `peaks within 5 % of the cap: ${String(max)}`);
  t.ok(min >= 0.7 * 1_500_000, `not far under it: ${String(min)}`);
  const late = r.sentBytesPerWindow.slice(16, 40); // 8–20 s
  const sentBps = (late.reduce((a, b) => a + b, 0) * 8) / (late.length * 0.5);
  t.ok(sentBps < 1_500_000, `the sender's mean rate 8–20 s under the cap: ${String(Math.round(sentBps))}`);
  t.ok(
    r.rx.estimateBps !== undefined && r.rx.estimateBps <= 1.05 * 1_500_000,
    `estimateBps exposed: ${String(r.rx.estimateBps)}`,
  );
});

t.test('an uncapped link: rises to the demand and never falls', async (t) => {
  const s = obedient();
  const r = simulateTrunkCc({
    durationMs: 25_000,
    streams: [AUDIO, Q, F],
    rateBps: s.rateBps,
    onFeedback: s.onFeedback,
    capacityBps: () => 50_000_000,
  });
  t.ok(rembAt(r, 25_000) >= 3_000_000, `reaches the 3 Mbit/s demand: ${String(rembAt(r, 25_000))}`);
  const falls = r.rembs.filter((x, i) => i > 0 && x.bps < r.rembs[i - 1]!.bps);
  t.equal(falls.length, 0, 'no REMB lower than the one before');
});

t.test('loss: 20 % is reported in the blocks; the delay-based estimate does not move for it', async (t) => {
  const run = (loss: number) =>
    simulateTrunkCc({
      durationMs: 10_000,
      streams: [AUDIO, Q],
      rateBps: (ssrc) => demand.get(ssrc) ?? 0,
      capacityBps: () => 50_000_000,
      loss: (at) => (at >= 4000 ? loss : 0),
    });
  const heavy = run(0.2);
  const late = heavy.feedback.filter((f) => f.at > 5000).flatMap((f) => f.fb.blocks);
  const avg = late.reduce((a, b) => a + b.fractionLost, 0) / late.length / 256;
  t.ok(Math.abs(avg - 0.2) < 0.05, `blocks report ≈ 20 %: ${avg.toFixed(3)}`);
  const falls = heavy.rembs.filter((x, i) => x.at > 4000 && i > 0 && x.bps < heavy.rembs[i - 1]!.bps);
  t.equal(falls.length, 0, 'no REMB lower than the one before: loss is the sender’s to act on');
  const light = run(0.01);
  const lightLate = light.feedback.filter((f) => f.at > 5000).flatMap((f) => f.fb.blocks);
  t.ok(
    lightLate.reduce((a, b) => a + b.fractionLost, 0) / lightLate.length / 256 < 0.03,
    '1 %: reported as about that',
  );
});

t.test('an outage (no trunk packet for ≥ 1 s) is not congestion; a shorter blackout is loss', async (t) => {
  // Everything dropped from 4 s for `outageMs`, then a clean trunk again (audio + q, 1 Mbit/s of demand).
  // `cut`: counted as loss in the blocks (the sender's loss rule then cuts); else no loss reported after it.
  const rows: { outageMs: number; cut: boolean }[] = [
    { outageMs: 700, cut: true },
    { outageMs: 1500, cut: false },
    { outageMs: 3000, cut: false },
    { outageMs: 8000, cut: false },
  ];
  for (const row of rows) {
    const end = 4000 + row.outageMs;
    const r = simulateTrunkCc({
      durationMs: end + 3000,
      streams: [AUDIO, Q],
      rateBps: (ssrc) => demand.get(ssrc) ?? 0,
      capacityBps: () => 50_000_000,
      loss: (at) => (at >= 4000 && at < end ? 1 : 0),
    });
    const before = rembAt(r, 4000);
    const after = Math.min(...r.rembs.filter((x) => x.at > end && x.at <= end + 3000).map((x) => x.bps));
    const lossAfter = r.feedback
      .filter((f) => f.at > end)
      .flatMap((f) => f.fb.blocks)
      .reduce((m, b) => Math.max(m, b.fractionLost), 0);
    const lossDuring = r.feedback
      .filter((f) => f.at > 4000 && f.at <= end + 600)
      .flatMap((f) => f.fb.blocks)
      .reduce((m, b) => Math.max(m, b.fractionLost), 0);
    if (row.cut) {
      t.ok(lossDuring > 128, `${String(row.outageMs)} ms: reported as loss (${String(lossDuring)}/256)`);
    } else {
      t.ok(
        after >= before,
        `${String(row.outageMs)} ms: no cut after it: ${String(before)} → ${String(after)}`,
      );
      t.equal(lossAfter, 0, `${String(row.outageMs)} ms: the blocks after it report no loss`);
    }
  }
});

t.test(
  'a paused layer (its numbers skipped, verbatim) is not loss; the same gap while the trunk is dark is',
  async (t) => {
    // q flows throughout with audio; f is paused from 4 s for `pauseMs` (its publisher's numbers go on), or —
    // `dark` — the whole trunk drops everything for 700 ms.
    const rows: { name: string; pauseMs: number; dark: boolean; lossAfter: boolean; stall?: boolean }[] = [
      { name: 'f paused 300 ms', pauseMs: 300, dark: false, lossAfter: false },
      {
        name: 'f paused 2 s across a 400 ms stall of the receiving host',
        pauseMs: 2000,
        dark: false,
        lossAfter: false,
        stall: true,
      },
      { name: 'f paused 2 s', pauseMs: 2000, dark: false, lossAfter: false },
      { name: 'f paused 20 s (a jump past 3000 numbers)', pauseMs: 20_000, dark: false, lossAfter: false },
      { name: 'the trunk dark 700 ms', pauseMs: 700, dark: true, lossAfter: true },
    ];
    for (const row of rows) {
      const end = 4000 + row.pauseMs;
      const r = simulateTrunkCc({
        durationMs: end + 3000,
        streams: [AUDIO, Q, F],
        rateBps: (ssrc) => (ssrc === F.ssrc ? 1_000_000 : (demand.get(ssrc) ?? 0)),
        capacityBps: () => 50_000_000,
        paused: (ssrc, at) => !row.dark && ssrc === F.ssrc && at >= 4000 && at < end,
        loss: (at) => (row.dark && at >= 4000 && at < end ? 1 : 0),
        ...(row.stall === true ? { stalled: (at: number) => at >= 4800 && at < 5200 } : {}),
      });
      const blocks = r.feedback.filter((f) => f.at > end && f.at <= end + 3000).flatMap((f) => f.fb.blocks);
      const worst = blocks.reduce((m, b) => Math.max(m, b.fractionLost), 0);
      const fBlocks = blocks.filter((b) => b.ssrc === F.ssrc);
      if (row.lossAfter) {
        t.ok(worst > 128, `${row.name}: reported as loss (${String(worst)}/256)`);
      } else {
        t.equal(worst, 0, `${row.name}: no block reports loss after it`);
        t.ok(fBlocks.length > 0, `${row.name}: f is reported on again`);
        if (row.stall === true) {
          continue; // the stall reads as queueing here (no host-stall monitor in the simulation)
        }
        const before = rembAt(r, 4000);
        const after = Math.min(...r.rembs.filter((x) => x.at > end && x.at <= end + 3000).map((x) => x.bps));
        t.ok(after >= before, `${row.name}: no cut: ${String(before)} → ${String(after)}`);
      }
    }
  },
);

t.test('RTCP: blocks for announced SSRCs, cadence, REMB SSRCs', async (t) => {
  const UNKNOWN: SimStream = { ssrc: 9999, clockRate: 90_000, packetBytes: 1000 };
  const r = simulateTrunkCc({
    durationMs: 5000,
    streams: [AUDIO, Q, UNKNOWN],
    announced: [AUDIO, Q],
    rateBps: (ssrc) => (ssrc === UNKNOWN.ssrc ? 400_000 : (demand.get(ssrc) ?? 0)),
    capacityBps: () => 50_000_000,
  });
  const withBlocks = r.feedback.filter((f) => f.fb.blocks.length > 0);
  t.ok(withBlocks.length >= 9, `${String(withBlocks.length)} reports in 5 s`);
  for (const f of withBlocks) {
    t.same(
      f.fb.blocks.map((b) => b.ssrc).sort(),
      [AUDIO.ssrc, Q.ssrc].sort(),
      `at ${String(f.at)}: one block per announced SSRC`,
    );
  }
  const gaps = withBlocks.slice(1).map((f, i) => f.at - withBlocks[i]!.at);
  t.ok(
    gaps.every((g) => g >= 200 && g <= 500),
    `blocks every 200–500 ms: ${gaps.join(',')}`,
  );
  const rembs = r.feedback.filter((f) => f.fb.remb !== undefined);
  t.equal(rembs[0]!.at, r.feedback[0]!.at, 'the first RTCP carries a REMB');
  t.same([...rembs[0]!.fb.rembSsrcs].sort(), [AUDIO.ssrc, Q.ssrc].sort(), 'the REMB names the trunk SSRCs');
  t.ok(r.rx.receivedBps > 1_300_000, `the unknown SSRC counts toward the rate: ${String(r.rx.receivedBps)}`);
});

const pkt = (ssrc: number, seq: number, abs?: number): Uint8Array =>
  Uint8Array.from([
    ...writeRtpHeader({
      payloadType: 96,
      sequenceNumber: seq,
      timestamp: seq * 3000,
      ssrc,
      marker: false,
      extensions:
        abs === undefined
          ? []
          : [{ id: ABS_ID, payload: Uint8Array.of(abs >> 16, (abs >> 8) & 0xff, abs & 0xff) }],
    }),
    ...new Uint8Array(1000),
  ]);

t.test('nothing before a packet; LSR/DLSR echo the last trunk SR', async (t) => {
  const rx = new TrunkReceiveCc({ senderSsrc: RECEIVER_SSRC, absSendTimeId: ABS_ID });
  rx.setSsrcs([{ ssrc: Q.ssrc, clockRate: 90_000 }]);
  t.equal(rx.tick(0), undefined, 'no RTCP before the first packet');
  t.equal(rx.estimateBps, undefined);
  const v = new RtpPacketView();
  v.reset(pkt(Q.ssrc, 1, 0));
  rx.onRtp(v, 10);
  rx.onSenderReport(Q.ssrc, 0x0102_0304, 100);
  const out = rx.tick(600);
  t.ok(out !== undefined);
  const fb = parseFeedback(out!);
  t.equal(fb.blocks[0]?.lsr, 0x0102_0304);
  t.equal(fb.blocks[0]?.dlsr, 32_768, '500 ms');
  t.ok(fb.remb !== undefined && rx.estimateBps === fb.remb, 'estimateBps = the REMB sent');
  t.equal(rx.tick(650), undefined, 'nothing due 50 ms later');
});

t.test('without abs-send-time: no delay signal, loss still in the blocks', async (t) => {
  const rx = new TrunkReceiveCc({ senderSsrc: RECEIVER_SSRC }); // no extension id
  const s = obedient();
  const r = simulateTrunkCc({
    rx,
    durationMs: 14_000,
    streams: [AUDIO, Q, F],
    rateBps: s.rateBps,
    onFeedback: s.onFeedback,
    capacityBps: () => 50_000_000,
    loss: (at) => (at >= 8000 ? 0.3 : 0),
  });
  t.equal(rx.usage, 'normal', 'no delay signal without the extension');
  const late = r.feedback.filter((f) => f.at > 9000).flatMap((f) => f.fb.blocks);
  const avg = late.reduce((a, b) => a + b.fractionLost, 0) / late.length / 256;
  t.ok(Math.abs(avg - 0.3) < 0.07, `30 % loss reported for the sender's loss rule: ${avg.toFixed(3)}`);
});

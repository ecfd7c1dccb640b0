/**
 * TrunkCc, the link's four hooks over both halves of trunk congestion control:
 * - trunkDemand: a source's layer table → the allocation's demand (only demanded rids, lowest first, the
 *   publisher's measured bitrates, subscribers 1 unless given; audio its measured rate or 64 kbit/s);
 * - onRtcp: a REMB sets the budget; report blocks count as loss only for this focus's trunk SSRCs; an SR of a
 *   remote trunk SSRC is echoed in the next RR block; PLI/NACK are not its business;
 * - onRtp: probe padding is recognised (to drop) and counted toward the estimate; media is not dropped;
 * - tick: RTCP, the decision with its `layers` changes, padding packets due; stats.
 */
import t from 'tap';
import { TrunkCc, trunkDemand, type TrunkSentTrack } from '../../../src/media/link/trunkCc.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { layerTable, type LayerState } from '../../../src/simulcast/layerTable.js';
import { parseFeedback } from '../../helpers/trunkCcSim.js';

const layer = (id: number, rid: string | undefined, kbps: number | undefined, width: number): LayerState => ({
  id,
  rid,
  ssrc: 1000 + id,
  restricted: { width, height: (width * 9) / 16 },
  measured: undefined,
  bitrateBps: kbps === undefined ? undefined : kbps * 1000,
  active: true,
});
// Given out of order: the table orders them by size.
const videoTable = layerTable(
  [layer(2, 'f', 1500, 1280), layer(0, 'q', 150, 320), layer(1, 'h', 500, 640)],
  undefined,
);
const video = (demanded: string[], extra: Partial<TrunkSentTrack> = {}): TrunkSentTrack => ({
  streamId: 'bob-s',
  trackId: 'bob-v',
  kind: 'video',
  layers: videoTable,
  demanded,
  ...extra,
});
const audio = (kbps: number | undefined): TrunkSentTrack => ({
  streamId: 'bob-s',
  trackId: 'bob-a',
  kind: 'audio',
  layers: layerTable([{ ...layer(0, undefined, kbps, 0), restricted: undefined }], undefined),
  demanded: [],
});

t.test('trunkDemand', async (t) => {
  t.same(trunkDemand([video(['f', 'q'])]), [
    {
      streamId: 'bob-s',
      trackId: 'bob-v',
      purpose: 'm.usermedia',
      speaker: false,
      kind: 'video',
      layers: [
        { rid: 'q', bitrateBps: 150_000, subscribers: 1 },
        { rid: 'f', bitrateBps: 1_500_000, subscribers: 1 },
      ],
    },
  ]);
  const d = trunkDemand([
    video(['q', 'h', 'x'], { purpose: 'm.screenshare', speaker: true, subscribers: new Map([['h', 4]]) }),
  ])[0]!;
  t.same(
    d.layers?.map((l) => [l.rid, l.subscribers]),
    [
      ['q', 1],
      ['h', 4],
    ],
    'an unknown rid is left out; subscribers as given',
  );
  t.equal(d.purpose, 'm.screenshare');
  t.equal(d.speaker, true);
  t.equal(trunkDemand([audio(40)])[0]!.bitrateBps, 40_000, 'audio: measured');
  t.equal(trunkDemand([audio(undefined)])[0]!.bitrateBps, 64_000, 'audio: not measured yet');
});

const rtp = (ssrc: number, seq: number, payload = 1000): Uint8Array =>
  Uint8Array.from([
    ...writeRtpHeader({
      payloadType: 96,
      sequenceNumber: seq,
      timestamp: seq * 3000,
      ssrc,
      marker: false,
      extensions: [],
    }),
    ...new Uint8Array(payload),
  ]);

t.test('hooks: RTCP in, RTP in, tick out', async (t) => {
  const cc = new TrunkCc({
    maxLinkBps: 20_000_000,
    senderSsrc: 77,
    paddingSsrc: 0x7a7a0001,
    videoPt: 96,
    absSendTimeId: 3,
  });
  const ours = (ssrc: number): boolean => ssrc >= 4100 && ssrc < 4200;
  cc.setRemoteSsrcs([{ ssrc: 5111, clockRate: 90_000 }]);
  t.same(cc.stats(), { estimateBps: undefined, budgetBps: 20_000_000 });

  cc.onRtcp({ kind: 'remb', bitrateBps: 1_000_000 }, ours, 0);
  t.equal(cc.stats().budgetBps, 1_000_000, 'REMB → budget');
  cc.onRtcp({ kind: 'rr', reports: [{ ssrc: 9, fractionLost: 200, lsr: 0, dlsr: 0 }] }, ours, 10);
  t.equal(cc.stats().budgetBps, 1_000_000, 'loss of an SSRC not ours: ignored');
  cc.onRtcp({ kind: 'pli', mediaSsrc: 4111 }, ours, 10);
  cc.onRtcp({ kind: 'nack', mediaSsrc: 4111, seqs: [1] }, ours, 10);

  const v = new RtpPacketView();
  v.reset(rtp(5111, 1));
  t.equal(cc.onRtp(v, 100), false, 'media is kept');
  cc.onRtcp({ kind: 'sr', ssrc: 5111, ntpMs: 0, rtpTs: 0, lsr: 0x0a0b0c0d, reports: [] }, ours, 150);

  const first = cc.tick(200, [audio(40), video(['q', 'h', 'f'])]);
  t.ok(first.rtcp !== undefined, 'RTCP due');
  const fb = parseFeedback(first.rtcp!);
  t.equal(fb.blocks[0]?.ssrc, 5111);
  t.equal(fb.blocks[0]?.lsr, 0x0a0b0c0d, 'the SR echoed');
  t.ok(fb.remb !== undefined);
  t.same(fb.rembSsrcs, [5111]);
  t.same(
    first.decision.changed,
    [{ streamId: 'bob-s', trackId: 'bob-v', sending: ['q', 'h'] }],
    'f does not fit in 1 Mbit/s: announced',
  );
  t.ok(first.paddingPackets === 0, 'no padding on the first tick (the pacer starts)');
  const second = cc.tick(300, [audio(40), video(['q', 'h', 'f'])]);
  t.ok(second.paddingPackets > 0, `probe padding for f: ${String(second.paddingPackets)} packets`);
  const pad = Buffer.concat([cc.padding.packet(300).serialize(), cc.padding.payload]);
  v.reset(pad);
  t.equal(cc.onRtp(v, 310), true, 'padding received: dropped by the link');
  const trunkPadding = Buffer.concat([
    writeRtpHeader({
      payloadType: 96,
      sequenceNumber: 9,
      timestamp: 0,
      ssrc: 5111,
      marker: false,
      padding: true,
      extensions: [],
    }),
    cc.padding.payload,
  ]);
  v.reset(trunkPadding);
  t.equal(cc.onRtp(v, 320), false, "a publisher's padding on a trunk SSRC is routed (its sequence space)");

  cc.onRtcp({ kind: 'rr', reports: [{ ssrc: 4111, fractionLost: 128, lsr: 0, dlsr: 0 }] }, ours, 400);
  t.ok(cc.stats().budgetBps < 1_000_000, `50 % loss on our SSRC: budget ${String(cc.stats().budgetBps)}`);
  t.ok(cc.stats().estimateBps !== undefined, 'the receive estimate after a tick');
});

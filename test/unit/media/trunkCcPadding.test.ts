/**
 * TrunkPadding: the pacing of probe padding (bytes per tick match the rate, a pause forgets the backlog, at
 * most `maxPerTick` per call) and the packets (valid RTP, padding only, their own SSRC and sequence, the
 * link's payload type and abs-send-time id), recognised by isPaddingOnly; media is not.
 */
import t from 'tap';
import { isPaddingOnly, PADDING_BYTES, TrunkPadding } from '../../../src/media/link/trunkCcPadding.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';

t.test('pacing: the rate over ticks, no catch-up after a pause, bounded per tick', async (t) => {
  const p = new TrunkPadding(0x7a7a0001, 96, 3);
  t.equal(p.take(1_000_000, 0), 0, 'the first call starts the clock');
  let n = 0;
  for (let at = 100; at <= 10_000; at += 100) {
    n += p.take(1_000_000, at);
  }
  const bits = n * (PADDING_BYTES + 20) * 8;
  t.ok(Math.abs(bits - 10_000_000) < 20_000, `10 s at 1 Mbit/s: ${String(bits)} bits`);
  t.equal(p.take(0, 10_100), 0, 'paused');
  t.equal(p.take(1_000_000, 60_000), 0, 'after a pause the clock restarts: no burst');
  const small = new TrunkPadding(1, 96, 3, 5);
  small.take(1_000_000, 0);
  t.equal(small.take(1_000_000, 1000), 5, 'at most maxPerTick');
  t.equal(small.take(1_000_000, 1000), 5, 'a backlog of 2 × maxPerTick is kept…');
  t.equal(small.take(1_000_000, 1000), 5);
  t.equal(small.take(1_000_000, 1000), 0, '…the rest forgotten');
});

t.test('packets: valid RTP, padding only, own SSRC and sequence, abs-send-time', async (t) => {
  const p = new TrunkPadding(0x7a7a0001, 96, 3);
  const v = new RtpPacketView();
  const seqs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const h = p.packet(1000 + i);
    const bytes = Buffer.concat([h.serialize(), p.payload]);
    t.ok(v.reset(bytes), 'valid');
    t.ok(isPaddingOnly(v), 'padding only');
    t.equal(v.ssrc, 0x7a7a0001);
    t.equal(v.pt, 96);
    t.equal(v.paddingLength, PADDING_BYTES);
    t.equal(v.extension(3) >= 0 && v.foundLength, 3, 'abs-send-time under the link id');
    seqs.push(v.seq);
  }
  t.same(seqs, [seqs[0], (seqs[0]! + 1) & 0xffff, (seqs[0]! + 2) & 0xffff], 'consecutive');
  const media = Buffer.concat([
    writeRtpHeader({
      payloadType: 96,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 5,
      marker: false,
      extensions: [],
    }),
    Buffer.from([1, 2, 3]),
  ]);
  v.reset(media);
  t.notOk(isPaddingOnly(v), 'media is not padding');
  const noExt = new TrunkPadding(2, 97, undefined);
  v.reset(Buffer.concat([noExt.packet(0).serialize(), noExt.payload]));
  t.equal(v.extension(3), -1, 'no abs-send-time without an id');
});

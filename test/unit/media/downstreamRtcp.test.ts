import t from 'tap';
import { DownstreamRtcp } from '../../../src/media/downstreamRtcp.js';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import { scratchPacket } from '../../../src/media/sentPackets.js';

t.test(
  'SRs: one a second while sending, two more after the stream pauses, none while paused (RFC 3550 §6.4.1)',
  async (t) => {
    const rtcp = new DownstreamRtcp(true, new MediaCounters(), 0);
    // [now ms, packets sent so far, SR due?]
    const rows: [number, number, boolean][] = [
      [1000, 50, true], // first
      [1500, 75, false], // under a second since the last
      [2000, 100, true],
      [3000, 150, true], // the stream pauses at 150 after this
      [4000, 150, true], // sent since the report before the last (100 → 150)
      [5000, 150, false], // nothing since the report before the last
      [6000, 150, false],
      [6500, 151, true], // sending again: at once (the last SR was at 4000)
      [7000, 152, false], // under a second since it
      [7600, 152, true],
      [8600, 152, true], // the second after the pause
      [9600, 152, false],
      [10_600, 0xffffffff, true], // the 32-bit count as it is (any change counts)
    ];
    for (const [now, packets, due] of rows) {
      t.equal(rtcp.takeSenderReportSlot(now, packets), due, `at ${now} ms, ${packets} packets`);
    }
  },
);

t.test(
  'the loss fraction a subscriber reports, less the numbers missing already in what was sent',
  async (t) => {
    const block = (fraction: number) => ({
      ssrc: 1,
      fractionLost: Math.round(fraction * 256),
      lsr: 0,
      dlsr: 0,
    });
    const run = (skipEvery: number | undefined, paddingEvery?: number): number => {
      const rtcp = new DownstreamRtcp(false, new MediaCounters(), 0);
      const p = scratchPacket(100);
      p.length = 100;
      // 402 ms of a 500 packets/s stream from seq 65,300 (across the wrap), one number in `skipEvery` never sent
      // (lost before this focus), or sent as padding.
      let now = 0;
      for (let i = 0; i <= 200; i++, now += 2) {
        const seq = (65_300 + i) & 0xffff;
        if (skipEvery !== undefined && i % skipEvery === skipEvery - 1) {
          if (paddingEvery !== undefined) {
            rtcp.sentPadding(seq, 1, now);
          }
          continue;
        }
        rtcp.sent(seq, now, p);
      }
      rtcp.onReport(block(0.25), now);
      return rtcp.lossFraction;
    };
    // [numbers skipped, reported 25 %, the subscriber's own loss]
    t.equal(run(undefined), 64 / 256, 'nothing skipped: all 25 % are the path’s');
    t.equal(run(4), 0, 'one in four skipped upstream: none of the 25 % is the path’s');
    t.ok(
      Math.abs(run(10) - 0.15) < 0.01,
      `one in ten skipped: about 15 % is the path's (${String(run(10))})`,
    );
    t.equal(run(4, 1), 64 / 256, 'numbers sent as padding are no gap');
  },
);

t.test(
  'a fast stream: the retransmission ring grows as it sends, packets from before kept (wrap rows)',
  async (t) => {
    for (const start of [0, 65_400]) {
      const counters = new MediaCounters();
      const rtcp = new DownstreamRtcp(true, counters, 0);
      // 400 packets in 400 ms (a 720p layer's pace is ≈ 270 a second): more than the first 64 slots hold in
      // the 1.5 s a packet is kept, so the ring doubles as it goes (to 512).
      for (let i = 0; i < 400; i++) {
        const seq = (start + i) & 0xffff;
        const p = rtcp.packetFor(seq, 100, i);
        p.buf[p.off] = 0x80;
        p.headerLength = 12;
        p.length = 100;
        rtcp.sent(seq, i, p);
      }
      const notConnected = { state: 'connecting' } as unknown as Parameters<DownstreamRtcp['onNack']>[2];
      rtcp.onNack([(start + 10) & 0xffff, (start + 300) & 0xffff], 420, notConnected);
      t.equal(counters.retransmits.sent, 2, `${start}: an early packet and a recent one both still kept`);
      t.equal(counters.retransmits.missing, 0, `${start}: nothing lost to the ring's growth`);
    }
  },
);

import t from 'tap';
import { DownstreamRtcp } from '../../../src/media/downstreamRtcp.js';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';

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

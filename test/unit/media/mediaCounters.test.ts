/**
 * media/mediaMetrics MediaCounters.sent: each way a packet left is counted in its own field of `sends` (what
 * sfu_rtp_sends_total{path} reports), one per call, the others untouched.
 */
import t from 'tap';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import { SEND_RESULTS } from '../../../src/media/srtpSend.js';

t.test('sent(r) counts r and nothing else', async (t) => {
  const c = new MediaCounters();
  SEND_RESULTS.forEach((r, i) => {
    for (let k = 0; k <= i; k++) {
      c.sent(r);
    }
  });
  t.same(
    SEND_RESULTS.map((r) => c.sends[r]),
    SEND_RESULTS.map((_, i) => i + 1),
    'result i counted i + 1 times',
  );
  t.same(Object.keys(c.sends).sort(), [...SEND_RESULTS].sort(), 'no other field appears');
});

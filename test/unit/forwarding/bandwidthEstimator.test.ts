/**
 * BandwidthEstimator tables: no cap until congestion; a REMB drop under what we send is congestion, one
 * that follows a lower rate we chose is not; loss above 10 %; probes that succeed raise the estimate, probes
 * that meet congestion fail without lowering it and back off; hold after congestion; a REMB that holds
 * well above the estimate raises it; bad values are ignored.
 */
import t from 'tap';
import { BandwidthEstimator } from '../../../src/forwarding/bandwidthEstimator.js';

t.test('no cap until congestion', async (t) => {
  const e = new BandwidthEstimator();
  e.setSendRate(1_500_000);
  for (let now = 0; now < 3000; now += 200) {
    e.onRemb(5_000_000, now);
    e.onLoss(0, now);
  }
  t.equal(e.estimateBps, Number.POSITIVE_INFINITY);
  t.equal(e.changes, 0);
});

t.test('a REMB drop under the send rate is congestion', async (t) => {
  const e = new BandwidthEstimator();
  e.setSendRate(1_500_000);
  e.onRemb(5_000_000, 0);
  e.onRemb(1_200_000, 200);
  t.equal(e.estimateBps, 1_200_000, 'falls to the REMB');
  e.setSendRate(500_000); // the SFU switched down
  e.onRemb(900_000, 400);
  t.equal(e.estimateBps, 1_200_000, 'a REMB above what we now send: not congestion');
  e.onRemb(400_000, 600);
  t.equal(e.estimateBps, 400_000, 'below what we send and dropping: congestion again');
});

t.test('a REMB that follows a lower rate we chose is not congestion', async (t) => {
  const e = new BandwidthEstimator();
  e.setSendRate(1_500_000);
  e.onRemb(5_000_000, 0);
  e.setSendRate(150_000); // the subscriber asked for a small size
  e.onRemb(230_000, 200);
  t.equal(e.estimateBps, Number.POSITIVE_INFINITY);
});

t.test('loss above 10 %', async (t) => {
  const e = new BandwidthEstimator();
  e.setSendRate(1_000_000);
  e.onLoss(0.1, 0);
  t.equal(e.estimateBps, Number.POSITIVE_INFINITY, 'exactly 10 %: not yet');
  e.onLoss(0.2, 100);
  t.equal(e.estimateBps, 900_000, 'send rate × (1 − loss / 2)');
});

t.test('probes: hold, success, failure and back-off', async (t) => {
  const e = new BandwidthEstimator();
  e.setSendRate(1_500_000);
  e.onRemb(5_000_000, 0);
  e.onRemb(800_000, 100); // congestion at 100
  e.setSendRate(500_000);
  t.equal(e.estimateBps, 800_000);
  t.notOk(e.mayProbe(1_700_000, 2099), 'held for 2 s after congestion');
  t.ok(e.mayProbe(1_700_000, 2100), 'then allowed');
  t.notOk(e.mayProbe(700_000, 2100), 'never for less than the estimate');
  e.startProbe(1_700_000, 2100);
  t.same(e.probing, { targetBps: 1_700_000 });
  t.ok(e.probeActive(2100) && e.probeActive(2699), 'padding for 600 ms');
  t.notOk(e.probeActive(2700));
  t.equal(e.tick(3499), undefined, 'still settling');
  e.onLoss(0.06, 3000); // over 5 % while probing
  t.equal(e.probing, undefined, 'failed');
  t.equal(e.estimateBps, 800_000, 'a failed probe does not lower the estimate');
  t.notOk(e.mayProbe(1_700_000, 3000 + 4999), 'back-off doubled to 5 s (and the 2 s hold)');
  t.ok(e.mayProbe(1_700_000, 8000));
  e.startProbe(1_700_000, 8000);
  e.onLoss(0, 8599); // a report during the padding does not cover it
  t.equal(e.tick(9400), undefined, 'no receiver report after the padding yet: still open');
  e.onLoss(0.01, 9500);
  t.equal(
    e.tick(9500),
    'succeeded',
    'no congestion through probe and settle, and a report after the padding',
  );
  t.equal(e.estimateBps, 1_700_000, 'the estimate becomes the target');
  t.notOk(e.mayProbe(2_000_000, 9500 + 2499), 'interval reset to 2.5 s after success');
  t.ok(e.mayProbe(2_000_000, 9500 + 2500));
});

t.test('a probe without a receiver report after it proves nothing: it fails after evidenceMs', async (t) => {
  const e = new BandwidthEstimator({ holdMs: 0 });
  e.setSendRate(1_500_000);
  e.onRemb(5_000_000, 0);
  e.onRemb(800_000, 100); // congestion: estimate 800 kbit/s
  t.equal(e.estimateBps, 800_000);
  e.startProbe(1_700_000, 2600);
  t.same(e.probing, { targetBps: 1_700_000 });
  // Padding until 3200, settled at 4000; no report comes.
  t.equal(e.tick(4000), undefined, 'settled, but no evidence yet');
  t.equal(e.tick(3200 + 2999), undefined, 'still waiting just before evidenceMs');
  t.equal(e.tick(3200 + 3000), 'failed', 'no report within 3 s of the padding: failed');
  t.equal(e.estimateBps, 800_000, 'the estimate is not raised, nor lowered');
  t.notOk(e.mayProbe(1_700_000, 6200 + 2499), 'the next probe after the usual 2.5 s');
  t.ok(e.mayProbe(1_700_000, 6200 + 2500), 'inconclusive is not congestion: no back-off');
});

t.test('repeated failures back off up to 8 s', async (t) => {
  const e = new BandwidthEstimator({ holdMs: 0 });
  e.setSendRate(500_000);
  e.onLoss(0.5, 0);
  let now = 0;
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    let wait = 0;
    while (!e.mayProbe(10_000_000, now + wait)) {
      wait += 100;
    }
    now += wait;
    waits.push(wait);
    e.startProbe(10_000_000, now);
    e.onLoss(0.5, now + 100);
    now += 100;
  }
  t.same(waits, [0, 5000, 8000, 8000, 8000], 'the first at once (no hold), then 2 × 2.5 s, capped at 8 s');
});

t.test('a REMB that holds well above the estimate raises it', async (t) => {
  const e = new BandwidthEstimator();
  e.setSendRate(1_000_000);
  e.onRemb(3_000_000, 0);
  e.onRemb(600_000, 100);
  t.equal(e.estimateBps, 600_000);
  e.setSendRate(500_000);
  for (let now = 2200; now <= 4400; now += 200) {
    e.onRemb(900_000, now);
  }
  t.equal(e.estimateBps, 900_000, 'after a whole window at ≥ 1.2 × the estimate');
});

t.test('bad values are ignored', async (t) => {
  const e = new BandwidthEstimator();
  e.setSendRate(1_000_000);
  for (const v of [NaN, -1, 0, Number.POSITIVE_INFINITY, 1e15]) {
    e.onRemb(v, 0);
    e.onLoss(v, 0);
  }
  e.onLoss(1.5, 0);
  e.setSendRate(NaN);
  t.equal(e.estimateBps, Number.POSITIVE_INFINITY);
  e.onRemb(5_000_000, 10);
  e.onRemb(1, 20);
  t.equal(e.estimateBps, 30_000, 'a tiny REMB is floored at 30 kbit/s');
});

t.test('probe outcome rows: what happens during and after a probe decides it', async (t) => {
  type Ev = ['loss', number, number] | ['remb', number, number] | ['tick', number];
  // Every row: estimate 800 kbit/s after congestion at 100; a probe to 1.7 Mbit/s starts at 2600, pads
  // until 3200, settles until 4000, and waits for evidence until 6200.
  const rows: [string, Ev[], (string | undefined)[], number][] = [
    [
      'a report after the padding, no congestion',
      [
        ['loss', 0.01, 3300],
        ['tick', 4000],
      ],
      ['succeeded'],
      1_700_000,
    ],
    [
      'the tick before settling decides nothing',
      [
        ['loss', 0, 3300],
        ['tick', 3999],
      ],
      [undefined],
      800_000,
    ],
    [
      'a report only during the padding: inconclusive, failed after 3 s',
      [
        ['loss', 0, 3100],
        ['tick', 4000],
        ['tick', 6199],
        ['tick', 6200],
      ],
      [undefined, undefined, 'failed'],
      800_000,
    ],
    [
      'exactly 5 % loss while probing is not congestion',
      [
        ['loss', 0.05, 3300],
        ['tick', 4000],
      ],
      ['succeeded'],
      1_700_000,
    ],
    [
      'over 5 % loss while probing: failed at once',
      [
        ['loss', 0.06, 3000],
        ['tick', 4000],
      ],
      [undefined],
      800_000,
    ],
    [
      'a REMB drop under the send rate while probing: failed at once',
      [
        ['remb', 1_000_000, 2700],
        ['remb', 500_000, 3000],
        ['tick', 4000],
      ],
      [undefined],
      800_000,
    ],
    [
      'loss during the settle period: failed',
      [
        ['loss', 0.2, 3600],
        ['loss', 0, 3700],
        ['tick', 4000],
      ],
      [undefined],
      800_000,
    ],
  ];
  for (const [name, events, wantTicks, wantEstimate] of rows) {
    const e = new BandwidthEstimator({ holdMs: 0 });
    e.setSendRate(1_500_000);
    e.onRemb(5_000_000, 0);
    e.onRemb(800_000, 100);
    e.startProbe(1_700_000, 2600);
    const ticks: (string | undefined)[] = [];
    for (const ev of events) {
      if (ev[0] === 'loss') {
        e.onLoss(ev[1], ev[2]);
      } else if (ev[0] === 'remb') {
        e.onRemb(ev[1], ev[2]);
      } else {
        ticks.push(e.tick(ev[1]));
      }
    }
    t.strictSame(ticks, wantTicks, `${name}: outcomes`);
    t.equal(e.estimateBps, wantEstimate, `${name}: estimate`);
  }
});

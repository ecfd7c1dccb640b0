/**
 * DelayGradient tables: abs-send-time unwrapping across the 64 s wrap, 5 ms send-time groups, bursts that
 * queued behind each other join one group, reordered packets are ignored, invalid input is ignored, a long
 * gap restarts, a growing queue is overuse and a draining one underuse, the threshold stays within 6–600.
 */
import t from 'tap';
import { ABS_SEND_TIME_TICKS_PER_MS, DelayGradient } from '../../../src/forwarding/delayGradient.js';

const WRAP = 1 << 24;
const abs = (ms: number, offset = 0): number => (Math.round(ms * ABS_SEND_TIME_TICKS_PER_MS) + offset) % WRAP;

t.test('groups of 5 ms send time', async (t) => {
  const d = new DelayGradient();
  for (const [send, arrival] of [
    [0, 20],
    [2, 22],
    [5, 25],
  ] as const) {
    d.onPacket(abs(send), arrival);
  }
  t.equal(d.groups, 0, 'send times within 5 ms of the first: one open group');
  d.onPacket(abs(6), 26);
  t.equal(d.groups, 1, '6 ms after the first: the group completes');
  d.onPacket(abs(11), 31);
  t.equal(d.groups, 1, 'within 5 ms of the new first (6)');
  d.onPacket(abs(12), 32);
  t.equal(d.groups, 2);
});

t.test('a burst that queued joins the current group', async (t) => {
  const d = new DelayGradient();
  d.onPacket(abs(0), 100);
  // Sent 20 ms later but arrived 1 ms later: it waited behind the first (negative propagation delta).
  d.onPacket(abs(20), 101);
  t.equal(d.groups, 0, 'burst: same group');
  // Sent 40 ms later and arriving 6 ms later: over the 5 ms burst spacing, a new group.
  d.onPacket(abs(40), 107);
  t.equal(d.groups, 1);
  // A burst spanning more than 100 ms of arrival time is cut.
  const e = new DelayGradient();
  let arrival = 0;
  for (let i = 0; i < 60; i++) {
    e.onPacket(abs(i * 10), arrival);
    arrival += 4; // 4 ms apart while sent 10 ms apart
  }
  t.ok(e.groups >= 2, `long bursts are split (${String(e.groups)} groups)`);
});

t.test('unwrapping across the 64 s wrap is invisible', async (t) => {
  const run = (offset: number): number[] => {
    const d = new DelayGradient();
    const trends: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const send = i * 6; // 18 s of packets, 6 ms apart
      // arrival spacing slowly grows after 9 s (a queue building)
      const arrival = 50 + send + (send > 9000 ? (send - 9000) * 0.3 : 0);
      d.onPacket(abs(send, offset), arrival);
      trends.push(d.modifiedTrend);
    }
    return trends;
  };
  const plain = run(0);
  const wrapped = run(WRAP - abs(4000)); // wraps after 4 s
  t.same(wrapped, plain, 'same trend at every packet');
  t.ok(plain[plain.length - 1]! > 12.5, 'and the queue is seen');
});

t.test('reordered packets are ignored for delay', async (t) => {
  const a = new DelayGradient();
  const b = new DelayGradient();
  for (let i = 0; i < 400; i++) {
    a.onPacket(abs(i * 6), 20 + i * 6);
    b.onPacket(abs(i * 6), 20 + i * 6);
    if (i % 10 === 9) {
      b.onPacket(abs((i - 3) * 6), 21 + i * 6); // a late packet from three groups ago
    }
  }
  t.equal(b.groups, a.groups);
  t.equal(b.modifiedTrend, a.modifiedTrend);
  t.equal(b.usage, 'normal');
});

t.test('invalid input is ignored', async (t) => {
  const d = new DelayGradient();
  d.onPacket(abs(0), 0);
  for (const [v, at] of [
    [-1, 10],
    [WRAP, 10],
    [1.5, 10],
    [abs(10), Number.NaN],
    [abs(10), Number.POSITIVE_INFINITY],
  ] as const) {
    t.equal(d.onPacket(v, at), 'normal');
  }
  t.equal(d.groups, 0, 'nothing completed a group');
});

t.test('a growing queue is overuse, a draining one underuse', async (t) => {
  const d = new DelayGradient();
  let send = 0;
  let arrival = 20;
  for (let i = 0; i < 100; i++) {
    d.onPacket(abs(send), arrival);
    send += 6;
    arrival += 6;
  }
  t.equal(d.usage, 'normal', 'steady');
  let groupsToOveruse: number | undefined;
  const g0 = d.groups;
  for (let i = 0; i < 100; i++) {
    d.onPacket(abs(send), arrival);
    send += 6;
    arrival += 9; // each packet waits 3 ms more
    if (d.usage === 'overuse' && groupsToOveruse === undefined) {
      groupsToOveruse = d.groups - g0;
    }
  }
  t.ok(
    groupsToOveruse !== undefined && groupsToOveruse <= 10,
    `overuse within 10 groups (${String(groupsToOveruse)})`,
  );
  let sawUnderuse = false;
  for (let i = 0; i < 100; i++) {
    d.onPacket(abs(send), arrival);
    send += 6;
    arrival += 5.5; // the queue drains (spacing over 5 ms: not a burst)
    sawUnderuse ||= d.usage === 'underuse';
  }
  t.ok(sawUnderuse, 'underuse while draining');
  for (let i = 0; i < 200; i++) {
    d.onPacket(abs(send), arrival);
    send += 6;
    arrival += 6;
  }
  t.equal(d.usage, 'normal', 'normal again when steady');
  t.ok(d.thresholdMs >= 6 && d.thresholdMs <= 600, `threshold within 6–600 (${String(d.thresholdMs)})`);
});

t.test('a gap over 3 s restarts', async (t) => {
  const d = new DelayGradient();
  for (let i = 0; i < 50; i++) {
    d.onPacket(abs(i * 6), 20 + i * 6);
  }
  t.ok(d.groups > 0);
  d.onPacket(abs(5000), 20 + 49 * 6 + 3001);
  t.equal(d.groups, 0);
  t.equal(d.usage, 'normal');
});

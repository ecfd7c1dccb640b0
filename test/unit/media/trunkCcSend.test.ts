/**
 * TrunkSendCc (§8.5) with a fake clock:
 * - budget = min(REMB, loss bound, cap); the cap alone before a REMB;
 * - budget below demand: lowest layers kept, audio kept (even over budget), upgrades by remote subscriber
 *   count, the paused layers announced once (`changed`), nothing announced while nothing changes;
 * - recovery: a paused layer resumes only after the allocation wanted it for 1.5 s, a dip restarts the wait,
 *   the resume is announced; an estimate wobbling ±5 % around a layer's edge pauses it once, never flaps;
 * - a newly demanded layer that fits starts at once (no announcement: a track never announced sends all it
 *   demands); a track left out is forgotten;
 * - RR loss above 10 % cuts the budget to sent × (1 − loss / 2), under 2 % it recovers by 8 % per report;
 *   "sent" is the highest allocation of the last second, so a report arriving after the budget paused
 *   layers does not compound into a bound of audio alone; 2 s of clean reports lift the bound (a report over
 *   2 % restarts the 2 s).
 */
import t from 'tap';
import type { TrunkLayerDemand, TrunkTrackDemand } from '../../../src/forwarding/trunkAllocation.js';
import { TrunkSendCc } from '../../../src/media/link/trunkCcSend.js';

const L = (rid: string, kbps: number, subscribers = 1): TrunkLayerDemand => ({
  rid,
  bitrateBps: kbps * 1000,
  subscribers,
});
const audio = (id: string): TrunkTrackDemand => ({
  streamId: id,
  trackId: `${id}-a`,
  kind: 'audio',
  purpose: 'm.usermedia',
  speaker: false,
  bitrateBps: 40_000,
});
const camera = (id: string, layers: TrunkLayerDemand[], speaker = false): TrunkTrackDemand => ({
  streamId: id,
  trackId: `${id}-v`,
  kind: 'video',
  purpose: 'm.usermedia',
  speaker,
  layers,
});

const bob = camera('bob', [L('q', 150), L('h', 500), L('f', 1500)]);
const carol = camera('carol', [L('q', 150, 1), L('f', 1500, 3)], true);
const demand = [audio('bob'), bob, audio('carol'), carol];
const CAP = 20_000_000;

const sets = (d: {
  video: readonly { trackId: string; sending: readonly string[] }[];
}): Record<string, string> => Object.fromEntries(d.video.map((v) => [v.trackId, v.sending.join(',')]));

t.test('budget: the cap before a REMB, then min(REMB, cap)', async (t) => {
  const cc = new TrunkSendCc({ maxLinkBps: 1_500_000 });
  t.equal(cc.estimateBps, undefined);
  t.equal(cc.budgetBps, 1_500_000, 'the cap alone');
  cc.onRemb(3_000_000, 0);
  t.equal(cc.budgetBps, 1_500_000, 'REMB above the cap');
  cc.onRemb(900_000, 0);
  t.equal(cc.budgetBps, 900_000);
  t.equal(cc.estimateBps, 900_000);
  cc.onRemb(Number.NaN, 0);
  cc.onRemb(-1, 0);
  t.equal(cc.budgetBps, 900_000, 'bad REMBs ignored');
  t.equal(
    new TrunkSendCc({ maxLinkBps: 0 }).budgetBps,
    Number.POSITIVE_INFINITY,
    'no cap, no REMB: unbounded',
  );
});

t.test('under budget: lowest layers and audio kept, upgrades by subscribers, announced once', async (t) => {
  const cc = new TrunkSendCc({ maxLinkBps: CAP });
  const first = cc.allocate(demand, 0);
  t.same(sets(first), { 'bob-v': 'q,h,f', 'carol-v': 'q,f' }, 'no REMB yet: everything under the cap');
  t.same(first.changed, [], 'nothing to announce: everything demanded is sent');
  cc.onRemb(2_000_000, 0);
  const d = cc.allocate(demand, 100);
  // audio 80 + q 150 + q 150 = 380; carol f (3 subscribers) 1500 → 1880; bob h 500 does not fit; f neither.
  t.same(sets(d), { 'bob-v': 'q', 'carol-v': 'q,f' });
  t.same(d.changed, [{ streamId: 'bob', trackId: 'bob-v', sending: ['q'] }], 'bob paused h and f: announced');
  t.equal(d.usedBps, 1_880_000);
  t.same(cc.sendingOf('bob', 'bob-v'), ['q']);
  t.same(cc.allocate(demand, 200).changed, [], 'the same again: nothing new to announce');

  cc.onRemb(100_000, 0);
  const starved = cc.allocate(demand, 300);
  t.same(sets(starved), { 'bob-v': '', 'carol-v': '' }, 'not even a lowest layer fits next to the audio');
  t.equal(starved.usedBps, 80_000, 'audio still sent, over the budget');
  t.same(
    starved.changed.map((c) => c.trackId),
    ['bob-v', 'carol-v'],
  );
  cc.onRemb(250_000, 0);
  cc.allocate(demand, 400);
  const speakerFirst = cc.allocate(demand, 2000);
  t.same(sets(speakerFirst), { 'bob-v': '', 'carol-v': 'q' }, 'the active speaker’s lowest layer first');
});

t.test('recovery: resumed after 1.5 s of fitting; a dip restarts the wait; announced', async (t) => {
  const cc = new TrunkSendCc({ maxLinkBps: CAP });
  cc.allocate(demand, 0);
  cc.onRemb(2_000_000, 50);
  cc.allocate(demand, 100);
  t.same(cc.sendingOf('bob', 'bob-v'), ['q']);
  cc.onRemb(5_000_000, 150);
  let at = 200;
  const until = (end: number): ReturnType<TrunkSendCc['allocate']>[] => {
    const out = [];
    for (; at <= end; at += 100) {
      out.push(cc.allocate(demand, at));
    }
    return out;
  };
  until(1000);
  t.same(cc.sendingOf('bob', 'bob-v'), ['q'], '0.8 s of room: still paused');
  cc.onRemb(1_900_000, 1100); // a dip: h and f do not fit
  until(1100);
  cc.onRemb(5_000_000, 1100);
  const resumed = until(2600);
  t.same(cc.sendingOf('bob', 'bob-v'), ['q'], '1.4 s after the dip: still paused');
  t.ok(resumed.every((d) => d.changed.length === 0));
  const back = until(2700);
  t.same(cc.sendingOf('bob', 'bob-v'), ['q', 'h', 'f'], '1.5 s after the dip: resumed');
  t.same(
    back.at(-1)!.changed,
    [{ streamId: 'bob', trackId: 'bob-v', sending: ['q', 'h', 'f'] }],
    'announced',
  );
});

t.test('an estimate wobbling around a layer edge pauses once and never flaps', async (t) => {
  const one = [audio('bob'), camera('bob', [L('q', 150), L('f', 1000)])];
  const cc = new TrunkSendCc({ maxLinkBps: CAP });
  cc.allocate(one, 0);
  let announcements = 0;
  // needs 1190 kbit/s; the REMB wobbles 1130–1250 (±5 %) every 200 ms for 30 s.
  for (let at = 100, i = 0; at <= 30_000; at += 100, i++) {
    if (i % 2 === 0) {
      cc.onRemb(Math.floor(i / 2) % 2 === 0 ? 1_130_000 : 1_250_000, at);
    }
    announcements += cc.allocate(one, at).changed.length;
  }
  t.equal(announcements, 1, 'paused once (the 10 % margin)');
  t.same(cc.sendingOf('bob', 'bob-v'), ['q']);

  // Room for f with the margin for 1 s out of every 2 s: the 1.5 s hold keeps it paused.
  const held = new TrunkSendCc({ maxLinkBps: CAP });
  held.allocate(one, 0);
  announcements = 0;
  for (let at = 100; at <= 30_000; at += 100) {
    held.onRemb(Math.floor(at / 1000) % 2 === 0 ? 1_130_000 : 1_400_000, at);
    announcements += held.allocate(one, at).changed.length;
  }
  t.equal(announcements, 1, 'paused once (the hold)');
  held.onRemb(1_400_000, 30_000);
  for (let at = 30_100; at <= 31_600; at += 100) {
    announcements += held.allocate(one, at).changed.length;
  }
  t.same(held.sendingOf('bob', 'bob-v'), ['q', 'f'], 'resumed once the room lasts 1.5 s');
  t.equal(announcements, 2);
});

t.test('a newly demanded layer that fits starts at once; a track left out is forgotten', async (t) => {
  const cc = new TrunkSendCc({ maxLinkBps: CAP });
  cc.onRemb(5_000_000, 0);
  const onlyQ = [camera('bob', [L('q', 150)])];
  cc.allocate(onlyQ, 0);
  const more = cc.allocate([camera('bob', [L('q', 150), L('f', 1500)])], 100);
  t.same(sets(more), { 'bob-v': 'q,f' }, 'f at once');
  t.same(more.changed, [], 'sending all it demands: nothing to announce');
  cc.allocate([], 200);
  t.equal(cc.sendingOf('bob', 'bob-v'), undefined, 'forgotten');
  cc.onRemb(1_000_000, 0);
  const again = cc.allocate([camera('bob', [L('q', 150), L('f', 1500)])], 300);
  t.same(again.changed, [{ streamId: 'bob', trackId: 'bob-v', sending: ['q'] }], 'back as a new track');
});

t.test('RR loss: > 10 % cuts to sent × (1 − loss / 2), < 2 % recovers 8 % per report', async (t) => {
  const cc = new TrunkSendCc({ maxLinkBps: CAP });
  cc.onRemb(10_000_000, 0);
  cc.allocate(demand, 0); // sends 80 + 2150 + 1650 = 3880 kbit/s
  cc.onLossReports([64, 64], 100); // 25 %
  t.equal(Math.round(cc.budgetBps), Math.round(3_880_000 * (1 - 0.125)));
  cc.onLossReports([128], 200);
  t.equal(Math.round(cc.budgetBps), Math.round(3_880_000 * 0.875), 'a second cut waits 300 ms');
  cc.onLossReports([13], 500); // 5 %: hold
  t.equal(Math.round(cc.budgetBps), Math.round(3_880_000 * 0.875));
  cc.onLossReports([0, 2], 1000);
  t.equal(Math.round(cc.budgetBps), Math.round(3_880_000 * 0.875 * 1.08), '+8 %');
  for (let i = 0; i < 40; i++) {
    cc.onLossReports([0], 2000 + i * 500);
  }
  t.equal(cc.budgetBps, 10_000_000, 'the bound is gone once above the REMB');
  cc.onLossReports([Number.NaN, 300, -1], 30_000);
  t.equal(cc.budgetBps, 10_000_000, 'bad fractions ignored');
});

t.test(
  'padding: probes for a layer the REMB holds back, not one the cap holds back; backs off',
  async (t) => {
    const one = [audio('bob'), camera('bob', [L('q', 150), L('f', 1000)])];
    const cc = new TrunkSendCc({ maxLinkBps: CAP });
    t.equal(cc.allocate(one, 0).paddingBps, 0, 'no REMB: nothing to probe');
    cc.onRemb(1_000_000, 0);
    const d = cc.allocate(one, 100);
    t.same(sets(d), { 'bob-v': 'q' });
    // used 190; target 190 + 1100 = 1290; 0.9 × 1000 = 900 → 710 of padding
    t.equal(Math.round(d.paddingBps), 710_000, 'up to 0.9 × the REMB');
    cc.onRemb(2_000_000, 200);
    t.equal(Math.round(cc.allocate(one, 300).paddingBps), 1_100_000, 'up to used + the layer × 1.1');
    cc.allocate(one, 600); // padding since 100 ms
    cc.onRemb(1_200_000, 700); // a drop after 0.6 s of padding: the probe found the limit
    t.equal(cc.allocate(one, 800).paddingBps, 0, 'held after congestion');
    t.equal(cc.allocate(one, 2800).paddingBps, 0, 'the hold doubled to 4 s');
    t.equal(
      Math.round(cc.allocate(one, 4800).paddingBps),
      890_000,
      'padding again after 4 s (0.9 × 1200 − 190)',
    );
    t.same(cc.sendingOf('bob', 'bob-v'), ['q']);

    const capped = new TrunkSendCc({ maxLinkBps: 1_000_000 });
    capped.onRemb(5_000_000, 0);
    const c = capped.allocate(one, 100);
    t.same(sets(c), { 'bob-v': 'q' });
    t.equal(c.paddingBps, 0, 'the cap holds f back: no padding');
  },
);

t.test('a congestion sign in the first 0.5 s of padding is not blamed on the probe', async (t) => {
  const one = [audio('bob'), camera('bob', [L('q', 150), L('f', 1000)])];
  const cc = new TrunkSendCc({ maxLinkBps: CAP });
  cc.onRemb(1_000_000, 0);
  t.ok(cc.allocate(one, 100).paddingBps > 0, 'padding from 100 ms');
  cc.onRemb(900_000, 300);
  t.equal(cc.allocate(one, 400).paddingBps, 0, 'held');
  t.ok(cc.allocate(one, 2300).paddingBps > 0, 'after the plain 2 s hold: padding again (no doubling)');
});

t.test(
  'RR loss after layers were paused: the cut scales from what was sent in the last second',
  async (t) => {
    const cc = new TrunkSendCc({ maxLinkBps: CAP });
    cc.onRemb(10_000_000, 0);
    t.same(sets(cc.allocate(demand, 0)), { 'bob-v': 'q,h,f', 'carol-v': 'q,f' }, '3880 kbit/s sent');
    cc.onRemb(200_000, 100); // a REMB cut pauses every video layer: 80 kbit/s of audio is left
    const paused = cc.allocate(demand, 200);
    t.same(sets(paused), { 'bob-v': '', 'carol-v': '' }, 'only audio under 200 kbit/s');
    t.equal(paused.usedBps, 80_000);
    cc.onRemb(10_000_000, 300); // the estimate is back; then a report of the loss from before the pause
    cc.onLossReports([64], 400); // 25 %
    t.equal(
      Math.round(cc.budgetBps),
      Math.round(3_880_000 * 0.875),
      'cut from the 3880 kbit/s sent 0.4 s ago',
    );
    for (let at = 500; at <= 2600; at += 100) {
      cc.allocate(demand, at); // the sent rate under the bound
    }
    const used = cc.allocate(demand, 2700).usedBps;
    cc.onLossReports([64], 2800);
    t.equal(
      Math.round(cc.budgetBps),
      Math.round(Math.min(3_880_000 * 0.875, used * 0.875)),
      'later losses cut from the rate sent since',
    );
    const old = new TrunkSendCc({ maxLinkBps: CAP, lossBaseMs: 0 });
    old.onRemb(10_000_000, 0);
    old.allocate(demand, 0);
    old.onRemb(200_000, 100);
    old.allocate(demand, 200);
    old.onRemb(10_000_000, 300);
    old.onLossReports([64], 400);
    t.equal(
      Math.round(old.budgetBps),
      70_000,
      'without the window (lossBaseMs 0) it compounds to audio × 0.875',
    );
  },
);

t.test('a loss bound is lifted after 2 s of clean reports; a report over 2 % restarts that', async (t) => {
  const cc = new TrunkSendCc({ maxLinkBps: CAP });
  cc.onRemb(10_000_000, 0);
  cc.allocate(demand, 0); // 3880 kbit/s
  cc.onLossReports([128], 100); // 50 %: bound 3880 × 0.75
  const cut = 3_880_000 * 0.75;
  t.equal(Math.round(cc.budgetBps), Math.round(cut));
  cc.onLossReports([0], 600); // clean from 600
  cc.onLossReports([0], 1100);
  cc.onLossReports([13], 1600); // 5 %: holds, and the clean span restarts
  cc.onLossReports([0], 2100); // clean from 2100
  cc.onLossReports([0], 2600);
  cc.onLossReports([0], 3100);
  cc.onLossReports([0], 3600);
  t.ok(cc.budgetBps < 10_000_000, `1.5 s clean: still bounded (${String(Math.round(cc.budgetBps))})`);
  cc.onLossReports([0], 4100);
  t.equal(cc.budgetBps, 10_000_000, '2 s clean: the bound is gone, the REMB governs');
});

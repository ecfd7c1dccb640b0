/**
 * allocateTrunk tables (§8.5): budget = min(estimate, max_link_bps); audio always goes (even over budget);
 * then lowest layers of screenshares, then of cameras with the active speaker first; then upgrades by
 * subscriber count; a layer that does not fit is skipped and smaller ones still go; changes against what
 * was announced; the `layers` message; bad bitrates; the resume margin against flapping.
 */
import t from 'tap';
import {
  allocateTrunk,
  layersMessage,
  type TrunkTrackDemand,
  type TrunkLayerDemand,
} from '../../../src/forwarding/trunkAllocation.js';

const L = (rid: string, kbps: number, subscribers = 1): TrunkLayerDemand => ({
  rid,
  bitrateBps: kbps * 1000,
  subscribers,
});
const audio = (id: string, kbps = 40): TrunkTrackDemand => ({
  streamId: id,
  trackId: `${id}-a`,
  kind: 'audio',
  purpose: 'm.usermedia',
  speaker: false,
  bitrateBps: kbps * 1000,
});
const camera = (id: string, layers: TrunkLayerDemand[], speaker = false): TrunkTrackDemand => ({
  streamId: id,
  trackId: `${id}-v`,
  kind: 'video',
  purpose: 'm.usermedia',
  speaker,
  layers,
});
const screen = (id: string, layers: TrunkLayerDemand[]): TrunkTrackDemand => ({
  ...camera(id, layers),
  trackId: `${id}-ss`,
  purpose: 'm.screenshare',
});
const sending = (r: ReturnType<typeof allocateTrunk>): Record<string, string> =>
  Object.fromEntries(r.video.map((v) => [v.trackId, v.sending.join(',')]));

const bob = camera('bob', [L('q', 150, 1), L('h', 500, 1), L('f', 1500, 1)]);
const carol = camera('carol', [L('q', 150, 1), L('f', 1500, 3)], true);
const dave = screen('dave', [L('q', 300, 1), L('f', 1200, 1)]);

const rows: {
  name: string;
  estimateKbps: number;
  capKbps?: number;
  tracks: TrunkTrackDemand[];
  want: Record<string, string>;
}[] = [
  {
    name: 'everything fits',
    estimateKbps: 10_000,
    tracks: [audio('bob'), bob, audio('carol'), carol],
    want: { 'bob-v': 'q,h,f', 'carol-v': 'q,f' },
  },
  {
    name: 'the link cap bounds a larger estimate',
    estimateKbps: 10_000,
    capKbps: 1000,
    tracks: [audio('bob'), bob],
    want: { 'bob-v': 'q,h' },
  },
  {
    name: 'unknown estimate: the link cap alone',
    estimateKbps: Number.POSITIVE_INFINITY,
    capKbps: 700,
    tracks: [bob],
    want: { 'bob-v': 'q,h' },
  },
  {
    name: 'audio over budget still goes, video paused',
    estimateKbps: 100,
    tracks: [audio('bob', 60), audio('carol', 60), bob],
    want: { 'bob-v': '' },
  },
  {
    name: 'screenshare lowest layer before cameras',
    estimateKbps: 400,
    tracks: [bob, dave],
    want: { 'bob-v': '', 'dave-ss': 'q' },
  },
  {
    name: 'the active speaker camera first',
    estimateKbps: 200,
    tracks: [bob, carol],
    want: { 'bob-v': '', 'carol-v': 'q' },
  },
  {
    name: 'all lowest layers, then the upgrade most wanted (carol f: 3 subscribers)',
    estimateKbps: 1900,
    tracks: [bob, carol],
    want: { 'bob-v': 'q', 'carol-v': 'q,f' },
  },
  {
    name: 'an upgrade that does not fit is skipped, a smaller one goes',
    estimateKbps: 900,
    tracks: [bob, carol],
    want: { 'bob-v': 'q,h', 'carol-v': 'q' },
  },
  {
    name: 'upgrade ties: screenshare, then the speaker, then the lower layer',
    estimateKbps: 300 + 150 + 150 + 1200,
    tracks: [
      camera('eve', [L('q', 150, 1), L('f', 1200, 2)], true),
      camera('bob', [L('q', 150, 1), L('f', 1200, 2)]),
      screen('dave', [L('q', 300, 1), L('f', 1200, 2)]),
    ],
    want: { 'eve-v': 'q', 'bob-v': 'q', 'dave-ss': 'q,f' },
  },
  {
    name: 'no upgrade for a track whose lowest layer is paused',
    estimateKbps: 1000,
    tracks: [camera('big', [L('q', 1100, 1), L('f', 900, 9)])],
    want: { 'big-v': '' },
  },
  {
    name: 'bad bitrates count as 0',
    estimateKbps: 100,
    tracks: [camera('odd', [L('q', Number.NaN, 1), L('f', -5, 1)])],
    want: { 'odd-v': 'q,f' },
  },
];

for (const r of rows) {
  t.test(r.name, async (t) => {
    const a = allocateTrunk({
      estimateBps: r.estimateKbps * 1000,
      maxLinkBps: (r.capKbps ?? 20_000) * 1000,
      tracks: r.tracks,
    });
    t.same(sending(a), r.want);
    const audioBps = r.tracks.reduce((s, x) => s + (x.kind === 'audio' ? (x.bitrateBps ?? 0) : 0), 0);
    t.ok(a.usedBps <= Math.max(a.budgetBps, audioBps), 'within the budget (or audio alone exceeds it)');
  });
}

t.test('changes are against what was announced', async (t) => {
  const tracks = [audio('bob'), bob, carol];
  const full = allocateTrunk({ estimateBps: 10e6, maxLinkBps: 20e6, tracks });
  t.same(full.changed, [], 'first allocation sending all demanded: nothing to announce');
  const capped = allocateTrunk({ estimateBps: 1.9e6, maxLinkBps: 20e6, tracks, previous: full.video });
  t.same(
    capped.changed.map((c) => [c.trackId, c.sending]),
    [['bob-v', ['q']]],
  );
  t.same(layersMessage(capped.changed), {
    op: 'layers',
    tracks: [{ stream_id: 'bob', track_id: 'bob-v', sending: ['q'] }],
  });
  const same = allocateTrunk({ estimateBps: 1.95e6, maxLinkBps: 20e6, tracks, previous: capped.video });
  t.same(same.changed, [], 'the same sets: nothing new');
  const back = allocateTrunk({ estimateBps: 10e6, maxLinkBps: 20e6, tracks, previous: same.video });
  t.same(
    back.changed.map((c) => [c.trackId, c.sending]),
    [['bob-v', ['q', 'h', 'f']]],
    'resumed layers are announced too',
  );
  const first = allocateTrunk({ estimateBps: 200e3, maxLinkBps: 20e6, tracks: [bob] });
  t.same(
    first.changed.map((c) => c.sending),
    [['q']],
    'a never-announced track that cannot send all it demands',
  );
});

t.test('a paused layer resumes only with 10 % to spare', async (t) => {
  const tracks = [camera('bob', [L('q', 200), L('f', 1000)])];
  const paused = allocateTrunk({ estimateBps: 1.1e6, maxLinkBps: 20e6, tracks });
  t.same(sending(paused), { 'bob-v': 'q' });
  const edge = allocateTrunk({ estimateBps: 1.2e6, maxLinkBps: 20e6, tracks, previous: paused.video });
  t.same(sending(edge), { 'bob-v': 'q' }, 'fits exactly, but not with the margin: stays paused');
  t.same(edge.changed, []);
  const room = allocateTrunk({ estimateBps: 1.3e6, maxLinkBps: 20e6, tracks, previous: edge.video });
  t.same(sending(room), { 'bob-v': 'q,f' }, '1000 × 1.1 + 200 fits: resumes');
  const keep = allocateTrunk({ estimateBps: 1.2e6, maxLinkBps: 20e6, tracks, previous: room.video });
  t.same(sending(keep), { 'bob-v': 'q,f' }, 'a layer already sent needs no margin to stay');
  const none = allocateTrunk({
    estimateBps: 1.2e6,
    maxLinkBps: 20e6,
    tracks,
    previous: paused.video,
    resumeMargin: 0,
  });
  t.same(sending(none), { 'bob-v': 'q,f' }, 'margin 0');
});

/**
 * media/publisherRemb: a published track's demand is the highest layer its sinks want by size (`wantedLayer`
 * asked uncapped; a sink that cannot say takes the top; nobody: undefined), and PublisherRemb sends the cap when
 * the feature is off, else the held demand per transport.
 */
import t from 'tap';
import { REMB_HOLD_MS } from '../../../src/forwarding/publisherDemand.js';
import type { PublishedTrack } from '../../../src/media/publishedTrack.js';
import { PublisherRemb, trackDemand } from '../../../src/media/publisherRemb.js';
import type { TrackSink } from '../../../src/media/track.js';

const size = (w: number, h: number) => ({ width: w, height: h });
const LAYERS = [
  { size: size(320, 180), active: true, bitrateBps: 150_000 },
  { size: size(640, 360), active: true, bitrateBps: 500_000 },
  { size: size(1280, 720), active: true, bitrateBps: 1_500_000 },
];
/** Layer ids 10, 11, 12 lowest first. */
function track(sinks: TrackSink[]): PublishedTrack {
  return {
    selectable: () => ({ ids: [10, 11, 12], layers: LAYERS }),
    sinks: () => sinks.values(),
  } as unknown as PublishedTrack;
}
const base = { onPacket: () => undefined, onLayersChanged: () => undefined, onTrackClosed: () => undefined };
const asks: (boolean | undefined)[] = [];
const wanting = (id: number | undefined): TrackSink => ({
  ...base,
  wantedLayer: (capped?: boolean) => {
    asks.push(capped);
    return id;
  },
});

t.test('trackDemand: the highest rank wanted by size', async (t) => {
  const rows: [string, TrackSink[], number | undefined][] = [
    ['no sink', [], undefined],
    ['one at q', [wanting(10)], 0],
    ['q and f', [wanting(10), wanting(12)], 2],
    ['a sink that wants nothing (audio-only, closed)', [wanting(undefined)], undefined],
    ['a sink that cannot say: the top', [base], 2],
    ['an unknown layer id counts for nothing', [wanting(99), wanting(11)], 1],
  ];
  for (const [why, sinks, rank] of rows) {
    t.equal(trackDemand(track(sinks)).wantedRank, rank, why);
  }
  t.ok(
    asks.every((c) => c === false),
    'subscribers are asked by size alone (uncapped)',
  );
});

t.test('PublisherRemb: the cap when off; per transport, held, when on', async (t) => {
  const q = [track([wanting(10)])];
  const f = [track([wanting(12)])];
  const off = new PublisherRemb(4_000_000, false);
  t.equal(off.bps({}, q, true, 0), 4_000_000, 'off: the cap, whatever is wanted');
  const on = new PublisherRemb(4_000_000, true);
  const a = {};
  const b = {};
  t.equal(on.bps(a, q, true, 0), 4_000_000, 'a new transport: the cap during the hold');
  t.equal(on.bps(a, q, true, REMB_HOLD_MS), 270_000, 'then q alone: 200 k × 1.1 + 50 k of audio');
  t.equal(on.bps(b, f, false, REMB_HOLD_MS), 4_000_000, 'another transport holds on its own');
  t.equal(on.bps(b, f, false, 2 * REMB_HOLD_MS), 3_740_000, 'f wanted: (200 + 700 + 2,500) k × 1.1');
});

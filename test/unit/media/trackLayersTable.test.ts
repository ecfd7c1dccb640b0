/**
 * TrackLayers' table is built again only when something it shows changed: the same object while nothing did, a
 * new one (never the old one modified) after each change it shows — a layer's activity, its SSRC, its measured
 * size, its restriction, its bitrate window, a new layer, the declared size, the end of the wait for sizes.
 */
import t from 'tap';
import { SIZE_WAIT_MS, TrackLayers } from '../../../src/media/trackLayers.js';

const T0 = 1_000;

function fresh(): TrackLayers {
  const l = new TrackLayers('rtp');
  l.updateRids(['q', 'h', 'f'], new Map(), T0);
  return l;
}

t.test('the same table while nothing it shows changed', async (t) => {
  const l = fresh();
  const a = l.selectable(undefined);
  t.equal(l.selectable(undefined), a, 'asked again');
  const layer = l.get(0);
  if (layer !== undefined) {
    layer.windowBytes += 500; // bookkeeping the table does not show
    layer.lastPacketAt = T0;
  }
  t.equal(l.selectable(undefined), a, 'after bookkeeping it does not show');
});

t.test('a new table after each change it shows; the old one unchanged', async (t) => {
  const declared = { width: 1280, height: 720 };
  const rows: { name: string; change: (l: TrackLayers) => void; check: (l: TrackLayers) => boolean }[] = [
    {
      name: 'a layer becomes active',
      change: (l) => {
        const x = l.get(1);
        if (x !== undefined) x.active = true;
      },
      check: (l) => l.selectable(undefined).layers.some((r) => r.active),
    },
    {
      name: 'an SSRC is bound',
      change: (l) => void l.layerFor(0x1234, 'h'),
      check: (l) => l.selectable(undefined).layers.some((r) => r.ssrc === 0x1234),
    },
    {
      name: 'a measured size',
      change: (l) => {
        const x = l.get(2);
        if (x !== undefined) x.measured = { width: 1280, height: 720 };
      },
      check: (l) => l.selectable(undefined).layers.some((r) => r.measured?.width === 1280),
    },
    {
      name: 'a restriction',
      change: (l) => {
        l.updateRids(['q', 'h', 'f'], new Map([['q', { width: 320, height: 180 }]]), T0);
      },
      check: (l) => l.selectable(undefined).layers.some((r) => r.restricted?.width === 320),
    },
    {
      name: 'a bitrate window closes',
      change: (l) => {
        const x = l.get(0);
        if (x !== undefined) {
          x.lastPacketAt = T0 + 900;
          x.windowBytes = 12_500;
        }
        l.tick(T0 + 1000);
      },
      check: (l) => l.selectable(undefined).layers.some((r) => r.bitrateBps === 100_000),
    },
    {
      name: 'a new layer',
      change: (l) => {
        l.updateRids(['q', 'h', 'f', 'x'], new Map(), T0);
      },
      check: (l) => l.selectable(undefined).layers.length === 4,
    },
    {
      name: 'the wait for sizes ends',
      change: (l) => void l.tick(T0 + SIZE_WAIT_MS),
      check: (l) => l.selectable(undefined).sizesPending === false,
    },
  ];
  for (const row of rows) {
    const l = fresh();
    const before = l.selectable(undefined);
    const snapshot = JSON.stringify(before);
    row.change(l);
    const after = l.selectable(undefined);
    t.not(after, before, `${row.name}: a new table`);
    t.ok(row.check(l), `${row.name}: it shows the change`);
    t.equal(JSON.stringify(before), snapshot, `${row.name}: the old table as it was`);
  }
  const l = fresh();
  const none = l.selectable(undefined);
  const withDeclared = l.selectable(declared);
  t.not(withDeclared, none, 'a declared size: a new table');
  t.equal(withDeclared.layers[2]?.size?.width, 1280, 'sized from it');
  t.equal(l.selectable(declared), withDeclared, 'the same declared size: the same table');
});

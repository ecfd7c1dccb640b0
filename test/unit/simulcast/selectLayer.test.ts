/**
 * selectLayer tables (waterfall getOptimalLayer style): layers lowest first, the request, the chosen index.
 */
import t from 'tap';
import type { Size } from '../../../src/simulcast/layerOrder.js';
import { selectLayer } from '../../../src/simulcast/selectLayer.js';
import type { LayerRequest, SelectableLayer } from '../../../src/simulcast/selectLayer.js';

const low: Size = { width: 320, height: 180 };
const mid: Size = { width: 640, height: 360 };
const high: Size = { width: 1280, height: 720 };

/** An active layer of that size (and bitrate). */
function on(size: Size | undefined, bitrateBps?: number): SelectableLayer {
  return { size, active: true, ...(bitrateBps === undefined ? {} : { bitrateBps }) };
}

/** A stalled layer (no RTP recently). */
function off(size: Size | undefined, bitrateBps?: number): SelectableLayer {
  return { size, active: false, ...(bitrateBps === undefined ? {} : { bitrateBps }) };
}

const req = (width: number, height: number, more: Partial<LayerRequest> = {}): LayerRequest => ({
  width,
  height,
  ...more,
});

const three = [on(low), on(mid), on(high)];

type Row = [note: string, layers: SelectableLayer[], request: LayerRequest, want: number | undefined];

const bySize: Row[] = [
  ['exactly low', three, req(320, 180), 0],
  ['exactly mid', three, req(640, 360), 1],
  ['exactly high', three, req(1280, 720), 2],
  ['0×0 = unconstrained: the largest', three, req(0, 0), 2],
  ['bigger than every layer: the largest', three, req(1920, 1080), 2],
  ['between low and mid: the smallest that is at least as big', three, req(400, 200), 1],
  ['one pixel wider than low', three, req(321, 180), 1],
  ['one pixel taller than mid', three, req(640, 361), 2],
  ['tiny', three, req(1, 1), 0],
  ['portrait 180×320: low is too short, mid fits', three, req(180, 320), 1],
  ['portrait 360×640: only high fits', three, req(360, 640), 2],
  ['width only (height 0)', three, req(500, 0), 1],
  ['height only (width 0)', three, req(0, 400), 2],
  ['a single layer', [on(mid)], req(1920, 1080), 0],
  ['a single layer, small request', [on(mid)], req(1, 1), 0],
  ['no layers', [], req(640, 360), undefined],
  ['two layers', [on(low), on(high)], req(640, 360), 1],
];

const unknownSizes: Row[] = [
  ['unknown sizes never fit: skipped', [on(undefined), on(mid), on(undefined)], req(320, 180), 1],
  ['nothing known fits: the largest (unknown)', [on(undefined), on(mid), on(undefined)], req(1280, 720), 2],
  ['all unknown, a size requested: the largest', [on(undefined), on(undefined)], req(320, 180), 1],
  ['all unknown, unconstrained: the largest', [on(undefined), on(undefined)], req(0, 0), 1],
  [
    'sizes pending, a size requested: the lowest',
    [on(undefined), on(undefined), on(undefined)],
    req(1280, 720, { sizesPending: true }),
    0,
  ],
  [
    'sizes pending, unconstrained: still the largest',
    [on(undefined), on(undefined), on(undefined)],
    req(0, 0, { sizesPending: true }),
    2,
  ],
  [
    'sizes pending, the lowest stalled: the lowest flowing above it',
    [off(undefined), on(undefined), on(undefined)],
    req(320, 180, { sizesPending: true }),
    1,
  ],
  [
    'sizes pending, capped: the lowest still',
    [on(undefined, 150_000), on(undefined, 500_000)],
    req(320, 180, { sizesPending: true, maxBitrateBps: 100_000 }),
    0,
  ],
  [
    'sizes pending: false is not pending',
    [on(undefined), on(undefined)],
    req(320, 180, { sizesPending: false }),
    1,
  ],
];

const stalled: Row[] = [
  ['preferred stalled: the next one down', [on(low), off(mid), on(high)], req(640, 360), 0],
  ['top preferred, stalled: the next one down', [on(low), on(mid), off(high)], req(0, 0), 1],
  ['two stalled: further down', [on(low), off(mid), off(high)], req(1280, 720), 0],
  ['nothing below flows: the lowest flowing above', [off(low), on(mid), on(high)], req(320, 180), 1],
  ['nothing below flows, only the top', [off(low), off(mid), on(high)], req(320, 180), 2],
  ['middle preferred, only the top flows', [off(low), off(mid), on(high)], req(640, 360), 2],
  ['nothing flows', [off(low), off(mid), off(high)], req(640, 360), undefined],
  ['nothing flows, unconstrained', [off(low), off(mid), off(high)], req(0, 0), undefined],
  [
    'muted: stalled layers are not skipped',
    [off(low), off(mid), off(high)],
    req(640, 360, { muted: true }),
    1,
  ],
  ['muted, unconstrained', [off(low), off(mid), off(high)], req(0, 0, { muted: true }), 2],
  ['muted: false is not muted', [on(low), off(mid), on(high)], req(640, 360, { muted: false }), 0],
];

const bitrate = [on(low, 150_000), on(mid, 500_000), on(high, 1_500_000)];

const capped: Row[] = [
  ['no cap', bitrate, req(0, 0), 2],
  ['cap above the top', bitrate, req(0, 0, { maxBitrateBps: 2_000_000 }), 2],
  ['cap exactly the top bitrate: kept', bitrate, req(0, 0, { maxBitrateBps: 1_500_000 }), 2],
  ['cap just under the top: one down', bitrate, req(0, 0, { maxBitrateBps: 1_499_999 }), 1],
  ['cap under mid: the lowest', bitrate, req(0, 0, { maxBitrateBps: 400_000 }), 0],
  ['cap under every layer: still the lowest', bitrate, req(0, 0, { maxBitrateBps: 100_000 }), 0],
  ['cap 0: the lowest', bitrate, req(0, 0, { maxBitrateBps: 0 }), 0],
  ['cap only lowers, never raises the size choice', bitrate, req(320, 180, { maxBitrateBps: 2_000_000 }), 0],
  ['size then cap', bitrate, req(640, 360, { maxBitrateBps: 400_000 }), 0],
  [
    'unknown bitrate stops the lowering',
    [on(low, 150_000), on(mid, 500_000), on(high)],
    req(0, 0, { maxBitrateBps: 1 }),
    2,
  ],
  [
    'unknown bitrate below the start of the lowering stops it there',
    [on(low, 150_000), on(mid), on(high, 1_500_000)],
    req(0, 0, { maxBitrateBps: 1 }),
    1,
  ],
  [
    'capped layer stalled: further down',
    [on(low, 150_000), off(mid, 500_000), on(high, 1_500_000)],
    req(0, 0, { maxBitrateBps: 1_000_000 }),
    0,
  ],
  [
    'capped to the lowest, which is stalled: up to the lowest flowing',
    [off(low, 150_000), on(mid, 500_000), on(high, 1_500_000)],
    req(0, 0, { maxBitrateBps: 100_000 }),
    1,
  ],
];

for (const [name, rows] of [
  ['by requested size', bySize],
  ['unknown sizes', unknownSizes],
  ['stalled layers', stalled],
  ['bitrate cap', capped],
] as const) {
  t.test(name, async (t) => {
    for (const [note, layers, request, want] of rows) {
      t.equal(selectLayer(layers, request), want, `${note}: ${JSON.stringify(request)} → ${String(want)}`);
    }
  });
}

t.test('garbage requests do not throw and pick something sensible', async (t) => {
  t.equal(selectLayer(three, req(-1, -1)), 2, 'negative size: unconstrained');
  t.equal(selectLayer(three, req(Number.NaN, Number.NaN)), 2, 'NaN size: not a constraint, the largest');
  t.equal(selectLayer(three, req(Infinity, Infinity)), 2, 'infinite: the largest');
  t.doesNotThrow(() => selectLayer(bitrate, req(0, 0, { maxBitrateBps: Number.NaN })), 'NaN cap');
  t.ok(
    [0, 1, 2].includes(selectLayer(bitrate, req(0, 0, { maxBitrateBps: Number.NaN })) ?? -1),
    'NaN cap: a layer',
  );
  t.equal(selectLayer(bitrate, req(0, 0, { maxBitrateBps: -1 })), 0, 'negative cap: the lowest');
});

t.test('the input array is not modified', async (t) => {
  const layers = [on(low, 1), off(mid, 2), on(high, 3)];
  const copy = structuredClone(layers);
  selectLayer(layers, req(640, 360, { maxBitrateBps: 1 }));
  t.strictSame(layers, copy);
});

/**
 * orderLayers / effectiveSize tables: the first criterion known for EVERY layer decides the order
 * (restricted size, measured size, rid scheme, bitrate, offer order); rid names alone never win over sizes.
 */
import t from 'tap';
import { effectiveSize, orderLayers } from '../../../src/simulcast/layerOrder.js';
import type { LayerFacts, Size } from '../../../src/simulcast/layerOrder.js';

const low: Size = { width: 320, height: 180 };
const mid: Size = { width: 640, height: 360 };
const high: Size = { width: 1280, height: 720 };

const rid = (r: string | undefined, more: Partial<Omit<LayerFacts, 'rid'>> = {}): LayerFacts => ({
  rid: r,
  ...more,
});

type Row = [note: string, layers: LayerFacts[], want: number[]];

const rows: Row[] = [
  ['no layers', [], []],
  ['one layer', [rid('f', { bitrateBps: 1 })], [0]],
  // Restricted sizes (a=rid max-width/max-height) win over everything.
  [
    'restricted sizes, offer order high→low',
    [rid('a', { restricted: high }), rid('b', { restricted: mid }), rid('c', { restricted: low })],
    [2, 1, 0],
  ],
  [
    'restricted beats measured and rids that say otherwise',
    [
      rid('f', { restricted: low, measured: high, bitrateBps: 3 }),
      rid('q', { restricted: high, measured: low, bitrateBps: 1 }),
    ],
    [0, 1],
  ],
  [
    'restricted by area (a wide one vs a tall one)',
    [
      rid('y', { restricted: { width: 400, height: 400 } }),
      rid('x', { restricted: { width: 1000, height: 100 } }),
    ],
    [1, 0],
  ],
  [
    'equal restricted sizes keep the offer order',
    [rid('f', { restricted: mid }), rid('q', { restricted: mid })],
    [0, 1],
  ],
  // Measured sizes when some restriction is missing.
  [
    'one restriction missing: measured decides',
    [rid('a', { restricted: low, measured: high }), rid('b', { measured: low })],
    [1, 0],
  ],
  [
    'measured sizes, offer order mid, high, low',
    [rid('f', { measured: mid }), rid('h', { measured: high }), rid('q', { measured: low })],
    [2, 0, 1],
  ],
  // Known rid schemes when some size is missing.
  ['q/h/f', [rid('h'), rid('f'), rid('q')], [2, 0, 1]],
  ['l/m/h', [rid('h'), rid('l'), rid('m')], [1, 2, 0]],
  ["'h' below 'f' (q/h/f: half)", [rid('h'), rid('f')], [0, 1]],
  ["'h' above 'm' (l/m/h: high)", [rid('h'), rid('m')], [1, 0]],
  ["'h' above 'q' (q/h/f)", [rid('h'), rid('q')], [1, 0]],
  ["'h' above 'l' (l/m/h)", [rid('h'), rid('l')], [1, 0]],
  ['case-insensitive', [rid('F'), rid('Q'), rid('H')], [1, 2, 0]],
  ['low/mid/high', [rid('high'), rid('low'), rid('mid')], [1, 2, 0]],
  ['low/medium/high', [rid('medium'), rid('high'), rid('low')], [2, 0, 1]],
  ['0/1/2', [rid('2'), rid('0'), rid('1')], [1, 2, 0]],
  ['r0/r1/r2', [rid('r1'), rid('r2'), rid('r0')], [2, 0, 1]],
  ['a rid scheme beats bitrate', [rid('q', { bitrateBps: 900 }), rid('f', { bitrateBps: 100 })], [0, 1]],
  ['one measured size missing: the rid scheme decides', [rid('f', { measured: low }), rid('q')], [1, 0]],
  ['duplicate rids keep the offer order', [rid('h'), rid('h')], [0, 1]],
  // Bitrate when no scheme covers every rid.
  [
    'unknown rids: bitrate',
    [rid('a', { bitrateBps: 900_000 }), rid('b', { bitrateBps: 100_000 }), rid('c', { bitrateBps: 300_000 })],
    [1, 2, 0],
  ],
  ['mixed schemes (q and m): bitrate', [rid('q', { bitrateBps: 2 }), rid('m', { bitrateBps: 1 })], [1, 0]],
  ['missing rids: bitrate', [rid(undefined, { bitrateBps: 5 }), rid(undefined, { bitrateBps: 3 })], [1, 0]],
  // Else the offer order.
  ['a bitrate missing: offer order', [rid('a', { bitrateBps: 9 }), rid('b')], [0, 1]],
  ['a bitrate of 0: offer order', [rid('a', { bitrateBps: 9 }), rid('b', { bitrateBps: 0 })], [0, 1]],
  ['nothing known: offer order', [rid('x'), rid('y'), rid('z')], [0, 1, 2]],
  ['no rids at all: offer order', [rid(undefined), rid(undefined)], [0, 1]],
];

t.test('orderLayers', async (t) => {
  for (const [note, layers, want] of rows) {
    t.strictSame(orderLayers(layers), want, note);
  }
});

t.test('orderLayers does not reorder its input', async (t) => {
  const layers = [rid('f'), rid('q'), rid('h')];
  const before = structuredClone(layers);
  t.strictSame(orderLayers(layers), [1, 2, 0]);
  t.strictSame(layers, before);
});

type SizeRow = [
  note: string,
  facts: LayerFacts,
  rank: number,
  count: number,
  declared: Size | undefined,
  want: Size | undefined,
];

const declared = high;

const sizeRows: SizeRow[] = [
  ['measured wins', rid('q', { measured: mid, restricted: low }), 0, 3, declared, mid],
  ['then the restriction', rid('q', { restricted: low }), 2, 3, declared, low],
  ['then the declared size: top layer', rid('f'), 2, 3, declared, high],
  ['declared: one below the top is half', rid('h'), 1, 3, declared, mid],
  ['declared: two below the top is a quarter', rid('q'), 0, 3, declared, low],
  ['declared, one layer', rid(undefined), 0, 1, declared, high],
  ['declared, two layers, the lower', rid('l'), 0, 2, declared, mid],
  ['declared sizes are rounded', rid('q'), 0, 3, { width: 1279, height: 719 }, { width: 320, height: 180 }],
  [
    'declared odd size rounded half up',
    rid('l'),
    0,
    2,
    { width: 641, height: 361 },
    { width: 321, height: 181 },
  ],
  ['declared width 0: unknown', rid('f'), 2, 3, { width: 0, height: 720 }, undefined],
  ['declared height 0: unknown', rid('f'), 2, 3, { width: 1280, height: 0 }, undefined],
  ['declared negative: unknown', rid('f'), 2, 3, { width: -1280, height: -720 }, undefined],
  ['nothing known: unknown', rid('f'), 2, 3, undefined, undefined],
];

t.test('effectiveSize', async (t) => {
  for (const [note, facts, rank, count, decl, want] of sizeRows) {
    t.strictSame(effectiveSize(facts, rank, count, decl), want, note);
  }
});

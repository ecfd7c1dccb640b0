/**
 * layerTable tables: the rows of a track's layers in quality order, each with its rid, SSRC, restricted,
 * measured and declared-implied sizes, the size layer choice uses, bitrate and activity; rankOf.
 */
import t from 'tap';
import type { Size } from '../../../src/simulcast/layerOrder.js';
import { layerTable, rankOf, type LayerState } from '../../../src/simulcast/layerTable.js';

const low: Size = { width: 320, height: 180 };
const mid: Size = { width: 640, height: 360 };
const high: Size = { width: 1280, height: 720 };

function layer(id: number, rid: string | undefined, more: Partial<LayerState> = {}): LayerState {
  return {
    id,
    rid,
    ssrc: undefined,
    restricted: undefined,
    measured: undefined,
    bitrateBps: undefined,
    active: false,
    ...more,
  };
}

t.test('rows in quality order with every fact', async (t) => {
  // Offered f, q, h (rid order says nothing); ordered by the rid scheme q < h < f.
  const table = layerTable(
    [
      layer(0, 'f', { ssrc: 30, bitrateBps: 1_500_000, active: true }),
      layer(1, 'q', { ssrc: 10, measured: { width: 330, height: 190 }, active: true }),
      layer(2, 'h', { restricted: mid }),
    ],
    high,
  );
  t.strictSame(table.ids, [1, 2, 0]);
  t.strictSame(table.layers, [
    {
      id: 1,
      rank: 0,
      rid: 'q',
      ssrc: 10,
      restricted: undefined,
      measured: { width: 330, height: 190 },
      declared: low,
      size: { width: 330, height: 190 },
      active: true,
    },
    {
      id: 2,
      rank: 1,
      rid: 'h',
      ssrc: undefined,
      restricted: mid,
      measured: undefined,
      declared: mid,
      size: mid,
      active: false,
    },
    {
      id: 0,
      rank: 2,
      rid: 'f',
      ssrc: 30,
      restricted: undefined,
      measured: undefined,
      declared: high,
      size: high,
      active: true,
      bitrateBps: 1_500_000,
    },
  ]);
});

t.test('size used for choice: measured, else restricted, else declared-implied, else unknown', async (t) => {
  type Row = [string, LayerState[], Size | undefined, (Size | undefined)[]];
  const rows: Row[] = [
    ['no simulcast, nothing known', [layer(0, undefined)], undefined, [undefined]],
    ['no simulcast, declared', [layer(0, undefined)], high, [high]],
    [
      'measured over restricted',
      [
        layer(0, 'q', { restricted: low, measured: mid }),
        layer(1, 'f', { restricted: high, measured: high }),
      ],
      undefined,
      [mid, high],
    ],
    [
      'declared halves per rank below the top',
      [layer(0, 'q'), layer(1, 'h'), layer(2, 'f')],
      { width: 1281, height: 721 },
      [
        { width: 320, height: 180 },
        { width: 641, height: 361 },
        { width: 1281, height: 721 },
      ],
    ],
    ['declared unusable', [layer(0, 'q'), layer(1, 'f')], { width: 0, height: 720 }, [undefined, undefined]],
    [
      'only the top measured: the others halve per rank below it',
      [layer(0, 'q'), layer(1, 'h'), layer(2, 'f', { measured: high })],
      undefined,
      [low, mid, high],
    ],
    [
      'only the lowest measured: the others double per rank above it',
      [layer(0, 'q', { measured: low }), layer(1, 'h'), layer(2, 'f')],
      undefined,
      [low, mid, high],
    ],
    [
      'the nearest known layer, the one above on a tie',
      [
        layer(0, 'q', { measured: { width: 300, height: 150 } }),
        layer(1, 'h'),
        layer(2, 'f', { measured: { width: 1000, height: 500 } }),
      ],
      undefined,
      [
        { width: 300, height: 150 },
        { width: 500, height: 250 },
        { width: 1000, height: 500 },
      ],
    ],
    [
      'a restricted layer counts as known; declared-implied sizes win over neighbours',
      [layer(0, 'q'), layer(1, 'f', { restricted: high })],
      undefined,
      [mid, high],
    ],
    [
      'declared-implied sizes are already complete: no neighbour derivation',
      [layer(0, 'q'), layer(1, 'f', { measured: { width: 1000, height: 500 } })],
      high,
      [mid, { width: 1000, height: 500 }],
    ],
  ];
  for (const [name, layers, declared, sizes] of rows) {
    t.strictSame(
      layerTable(layers, declared).layers.map((l) => l.size),
      sizes,
      name,
    );
  }
});

t.test('sizesPending: simulcast layers awaited and none of their sizes known', async (t) => {
  const three = [layer(0, 'q'), layer(1, 'h'), layer(2, 'f')];
  t.equal(layerTable(three, undefined, true).sizesPending, true, 'awaited, nothing known');
  t.equal(layerTable(three, undefined, false).sizesPending, false, 'no longer awaited');
  t.equal(layerTable(three, undefined).sizesPending, false, 'not awaited by default');
  t.equal(layerTable(three, high, true).sizesPending, false, 'a declared size gives every layer one');
  t.equal(
    layerTable([layer(0, 'q'), layer(1, 'h'), layer(2, 'f', { measured: high })], undefined, true)
      .sizesPending,
    false,
    'one measured size gives the others one',
  );
  t.equal(
    layerTable([layer(0, undefined)], undefined, true).sizesPending,
    false,
    'one layer: nothing to choose',
  );
});

t.test('order follows measured sizes once every layer has one', async (t) => {
  const table = layerTable(
    [layer(0, 'a', { measured: high }), layer(1, 'b', { measured: low }), layer(2, 'c', { measured: mid })],
    undefined,
  );
  t.strictSame(table.ids, [1, 2, 0]);
  t.strictSame(
    table.layers.map((l) => l.rank),
    [0, 1, 2],
  );
  t.equal(rankOf(table, 0), 2, 'a is the top');
  t.equal(rankOf(table, 1), 0, 'b is the bottom');
  t.equal(rankOf(table, 7), -1, 'not a layer');
});

t.test('empty and input untouched', async (t) => {
  t.strictSame(layerTable([], high), { ids: [], layers: [], sizesPending: false });
  const input = [layer(0, 'f', { bitrateBps: 2 }), layer(1, 'q', { bitrateBps: 1 })];
  const copy = structuredClone(input);
  layerTable(input, undefined);
  t.strictSame(input, copy);
});

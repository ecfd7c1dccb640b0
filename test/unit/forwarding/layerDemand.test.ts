/**
 * LayerDemand tables (§8.3), fake `now`: the union of selected and pending layers in metadata order; a layer
 * kept 2 s after its last user and dropped at 2 s; `changed` only when the set changes; keep_lowest_layer;
 * unknown rids; metadata changes; nextChangeAt.
 */
import t from 'tap';
import { LayerDemand, withFallbacks } from '../../../src/forwarding/layerDemand.js';

type Step = [now: number, selected: string[], pending: string[], layers: string[], changed: boolean];

interface T {
  same: (found: unknown, wanted: unknown, message: string) => unknown;
}

const run = (t: T, d: LayerDemand, steps: Step[]): void => {
  for (const [now, selected, pending, layers, changed] of steps) {
    const r = d.update(selected, pending, now);
    t.same(
      { layers: r.layers, changed: r.changed },
      { layers, changed },
      `at ${String(now)}: sel ${selected.join(',')} pend ${pending.join(',')}`,
    );
  }
};

t.test('union, order and linger', async (t) => {
  run(t, new LayerDemand(['q', 'h', 'f']), [
    [0, [], [], [], false],
    [0, ['f', 'q'], [], ['q', 'f'], true],
    [100, ['q', 'f', 'q'], [], ['q', 'f'], false],
    [200, ['q'], ['h'], ['q', 'h', 'f'], true], // a pending switch target; f's last user left
    [300, ['q', 'h'], [], ['q', 'h', 'f'], false],
    [2199, ['q', 'h'], [], ['q', 'h', 'f'], false], // f still within 2 s of 200
    [2200, ['q', 'h'], [], ['q', 'h'], true], // 2 s after: dropped
    [2300, [], [], ['q', 'h'], false],
    [4299, [], [], ['q', 'h'], false],
    [4300, [], [], [], true], // everything gone: unsubscribe
  ]);
});

t.test('a layer used again within the linger stays without a change', async (t) => {
  run(t, new LayerDemand(['q', 'h', 'f']), [
    [0, ['h'], [], ['h'], true],
    [500, ['q'], [], ['q', 'h'], true],
    [1500, ['h'], [], ['q', 'h'], false],
    [3000, ['h'], [], ['q', 'h'], false], // q released at 1500
    [3500, ['h'], [], ['h'], true],
  ]);
});

t.test('keep_lowest_layer', async (t) => {
  run(t, new LayerDemand(['q', 'h', 'f'], { keepLowestLayer: true }), [
    [0, [], [], [], false],
    [0, ['f'], [], ['q', 'f'], true],
    [100, ['h'], [], ['q', 'h', 'f'], true],
    [2100, ['h'], [], ['q', 'h'], true],
    [2200, [], [], ['q', 'h'], false],
    [4200, [], [], [], true], // nothing demanded: not even the lowest
  ]);
});

t.test('unknown rids and metadata changes', async (t) => {
  const d = new LayerDemand(['l', 'm', 'h']);
  run(t, d, [[0, ['x', 'm'], ['y'], ['m'], true]]);
  d.setRids(['l', 'h']); // m removed from the track
  run(t, d, [[100, ['m', 'h'], [], ['h'], true]]);
  d.setRids(['l', 'm', 'h']);
  run(t, d, [[200, ['h'], [], ['h'], false]]);
});

t.test('nextChangeAt', async (t) => {
  const d = new LayerDemand(['q', 'h', 'f'], { lingerMs: 2000 });
  d.update(['q', 'h', 'f'], [], 0);
  t.equal(d.nextChangeAt(), undefined, 'nothing lingers');
  d.update(['q', 'h'], [], 100);
  d.update(['q'], [], 400);
  t.equal(d.nextChangeAt(), 2100);
  d.update(['q'], [], 2100);
  t.equal(d.nextChangeAt(), 2400);
  t.same(d.layers, ['q', 'h']);
  t.notOk(d.update(['q'], [], 2399).changed, 'time going on, nothing expired');
  t.ok(d.update(['q'], [], 2400).changed);
  t.equal(d.nextChangeAt(), undefined);
});

t.test('withFallbacks: the layers below a paused demanded layer, down to one the sender sends', async (t) => {
  const QHF = ['q', 'h', 'f'];
  const rows: [string, string[], string[], string[] | undefined, string[]][] = [
    ['no announcement: unchanged', ['f'], QHF, undefined, ['f']],
    ['nothing demanded', [], QHF, new Array<string>(), []],
    ['f demanded and sent', ['f'], QHF, ['f'], ['f']],
    ['f paused, nothing sent: down to the lowest', ['f'], QHF, [], ['q', 'h', 'f']],
    ['f paused, h sent: h only', ['f'], QHF, ['h'], ['h', 'f']],
    ['f paused, q sent: h and q', ['f'], QHF, ['q'], ['q', 'h', 'f']],
    ['h paused, q sent', ['h'], QHF, ['q'], ['q', 'h']],
    ['q paused: nothing below it', ['q'], QHF, [], ['q']],
    ['q and f demanded, f paused, q sent: h too', ['q', 'f'], QHF, ['q'], ['q', 'h', 'f']],
    ['q and f demanded, both sent', ['q', 'f'], QHF, ['q', 'f'], ['q', 'f']],
    ['two layers, top paused', ['h'], ['q', 'h'], [], ['q', 'h']],
    ['a single layer, paused', ['f'], ['f'], [], ['f']],
    ['an unknown rid is kept, at the end', ['x', 'f'], QHF, ['f'], ['f', 'x']],
  ];
  for (const [name, demanded, ordered, sending, want] of rows) {
    const input = [...demanded];
    t.same(
      withFallbacks(demanded, ordered, sending === undefined ? undefined : new Set(sending)),
      want,
      name,
    );
    t.same(demanded, input, `${name}: input untouched`);
  }
});

/**
 * LayerDemand tables (§8.3), fake `now`: the union of selected and pending layers in metadata order; a layer
 * kept 2 s after its last user and dropped at 2 s; `changed` only when the set changes; keep_lowest_layer;
 * unknown rids; metadata changes; nextChangeAt; withFallbacks; relayedDemand over a pause and resume of the
 * top layer (the wanted layer keeps it demanded; without it the demand falls to what flows and stays there).
 */
import t from 'tap';
import {
  LayerDemand,
  relayedDemand,
  withFallbacks,
  type LayerUse,
} from '../../../src/forwarding/layerDemand.js';

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

t.test('relayedDemand: a paused layer someone wants stays demanded, with a flowing fallback', async (t) => {
  const QHF = ['q', 'h', 'f'];
  const use = (current?: string, target?: string, wanted?: string): LayerUse => ({ current, target, wanted });
  type Row = [now: number, uses: LayerUse[], sending: string[] | undefined, want: string[], name: string];
  const rows: Row[] = [
    [0, [use(undefined, 'f', 'f')], undefined, ['f'], 'start: f wanted'],
    [100, [use('f', 'f', 'f')], undefined, ['f'], 'f flows'],
    [
      200,
      [use('f', undefined, 'f')],
      [],
      ['q', 'h', 'f'],
      'f paused, nothing else sent: f and everything below',
    ],
    [500, [use('f', 'h', 'f')], ['q', 'h'], ['h', 'f'], 'q and h sent: h is the fallback'],
    [800, [use('h', 'h', 'f')], ['q', 'h'], ['h', 'f'], 'switched down to h; f still wanted'],
    [
      5000,
      [use('h', 'h', 'f')],
      ['q', 'h'],
      ['h', 'f'],
      'long after: f still demanded (the sender probes for it)',
    ],
    [6000, [use('h', 'f', 'f')], ['h', 'f'], ['h', 'f'], 'f resumed: switching up'],
    [6200, [use('f', 'f', 'f')], ['h', 'f'], ['h', 'f'], 'on f; h lingers'],
    [8300, [use('f', 'f', 'f')], ['h', 'f'], ['f'], 'h released 2 s later'],
    [
      8400,
      [use('q', 'q', 'q'), use('f', 'f', 'f')],
      ['h', 'f'],
      ['q', 'f'],
      'q asked for: no announcement of it yet',
    ],
    [8500, [], ['q', 'f'], ['q', 'f'], 'no subscribers: the linger holds'],
    [11_000, [], ['q', 'f'], ['q'], 'nothing used: the lowest available'],
  ];
  const d = new LayerDemand(QHF);
  for (const [now, uses, sending, want, name] of rows) {
    const set = sending === undefined ? undefined : new Set(sending);
    const available = sending === undefined ? QHF : QHF.filter((r) => set!.has(r));
    t.same(relayedDemand(d, uses, QHF, set, available, now), want, `${String(now)} ms: ${name}`);
  }
  // §8.3 read literally (no wanted layer): once the subscriber is on h, f leaves the demand for good.
  const literal = new LayerDemand(QHF);
  const noWant = (current?: string, target?: string): LayerUse => use(current, target, undefined);
  relayedDemand(literal, [noWant('f', 'f')], QHF, undefined, QHF, 0);
  relayedDemand(literal, [noWant('h', 'h')], QHF, new Set(['q', 'h']), ['q', 'h'], 500);
  t.same(
    relayedDemand(literal, [noWant('h', 'h')], QHF, new Set(['q', 'h']), ['q', 'h'], 5000),
    ['h'],
    'without the wanted layer f is dropped: nothing would probe for it',
  );
});

t.test('relayedDemand, constrained: the lowest layer is demanded too, first', async (t) => {
  const QHF = ['q', 'h', 'f'];
  const use = (current?: string, target?: string, wanted?: string): LayerUse => ({ current, target, wanted });
  type Row = [
    uses: LayerUse[],
    sending: string[] | undefined,
    constrained: boolean,
    want: string[],
    name: string,
  ];
  const rows: Row[] = [
    [[use('f', 'f', 'f')], ['f'], false, ['f'], 'f flows, not constrained: f alone'],
    [[use('f', 'f', 'f')], ['f'], true, ['q', 'f'], 'f flows, constrained: q first, f the upgrade'],
    [[use('q', 'q', 'q')], ['q'], true, ['q'], 'q already demanded: not twice'],
    [[use('h', 'h', 'f')], ['q', 'h'], true, ['q', 'h', 'f'], 'a fallback below a paused f: q added'],
    [[], ['q'], true, ['q'], 'nothing used: the lowest available, as without'],
  ];
  for (const [uses, sending, constrained, want, name] of rows) {
    const d = new LayerDemand(QHF); // fresh per row: no linger from the row before
    const set = sending === undefined ? undefined : new Set(sending);
    const available = sending === undefined ? QHF : QHF.filter((r) => set!.has(r));
    t.same(relayedDemand(d, uses, QHF, set, available, 0, constrained), want, name);
  }
});

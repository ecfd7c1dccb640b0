/**
 * TrackLayers' wait for layer sizes (protocol.md §7): for SIZE_WAIT_MS after a simulcast track's first layer,
 * while none of its layers' sizes is known, the table says sizes are pending (a sized request starts on the
 * lowest layer); a restriction or a measured size ends it at once; the wait's end is a change (selection runs
 * again) only when still no size is known.
 */
import t from 'tap';
import { SIZE_WAIT_MS, TrackLayers } from '../../../src/media/trackLayers.js';

const T0 = 5_000;

t.test('pending until the wait ends; the end is a change', async (t) => {
  const l = new TrackLayers('announced');
  l.updateRids(['q', 'h', 'f'], new Map(), T0);
  t.equal(l.selectable(undefined).sizesPending, true, 'just created: pending');
  t.equal(l.tick(T0 + SIZE_WAIT_MS - 1), false, 'before the end: no change');
  t.equal(l.selectable(undefined).sizesPending, true);
  t.equal(l.tick(T0 + SIZE_WAIT_MS), true, 'the end: a change (selection runs again)');
  t.equal(l.selectable(undefined).sizesPending, false, 'then the largest rule applies again');
  t.equal(l.tick(T0 + 2 * SIZE_WAIT_MS), false, 'once');
});

t.test('a known size ends it at once; the end is then no change', async (t) => {
  const l = new TrackLayers('announced');
  l.updateRids(['q', 'h', 'f'], new Map([['f', { width: 1280, height: 720 }]]), T0);
  t.equal(l.selectable(undefined).sizesPending, false, 'announced with a size');
  t.same(
    l.selectable(undefined).layers.map((r) => r.size?.width),
    [320, 640, 1280],
    'the others derived from it',
  );
  t.equal(l.tick(T0 + SIZE_WAIT_MS), false, 'the end of the wait changes nothing');
  const d = new TrackLayers('announced');
  d.updateRids(['q', 'f'], new Map(), T0);
  t.equal(d.selectable({ width: 1280, height: 720 }).sizesPending, false, 'a declared size');
});

t.test('one layer: never pending', async (t) => {
  const l = new TrackLayers('rtp');
  l.updateRids([], new Map(), T0);
  t.equal(l.selectable(undefined).sizesPending, false);
  t.equal(l.tick(T0 + SIZE_WAIT_MS), false);
});

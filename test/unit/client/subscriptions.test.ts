// Tile-size subscriptions (client/subscriptions.ts): coalescing, only what changed, sizes as §5.2 wants them.
import t from 'tap';
import type { StreamMetadata } from '../../../client/metadata.js';
import { dimension, Subscriptions } from '../../../client/subscriptions.js';

const META: StreamMetadata = {
  'bob-s': {
    user_id: '@bob:x',
    device_id: 'B',
    tracks: { 'bob-a': { kind: 'audio' }, 'bob-v': { kind: 'video' } },
  },
  'carol-s': { user_id: '@carol:x', device_id: 'C', tracks: { 'carol-v': { kind: 'video' } } },
};

function setup() {
  let metadata: StreamMetadata = META;
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const frames: unknown[] = [];
  let failSend = false;
  const errors: unknown[] = [];
  const subs = new Subscriptions({
    send: (f) => {
      if (failSend) {
        throw new Error('data channel is closed');
      }
      frames.push(JSON.parse(f));
    },
    metadata: () => metadata,
    coalesceMs: 150,
    schedule: (fn, ms) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    onError: (e) => errors.push(e),
  });
  const fire = () => {
    for (const timer of timers.splice(0)) {
      if (!timer.cancelled) {
        timer.fn();
      }
    }
  };
  return {
    subs,
    frames,
    timers,
    fire,
    errors,
    setMetadata: (m: StreamMetadata) => (metadata = m),
    setFailSend: (v: boolean) => (failSend = v),
  };
}

t.test('rapid changes within the window go out as one frame with the last sizes', async (t) => {
  const s = setup();
  s.subs.subscribe('bob-s', { width: 320, height: 180 });
  s.subs.subscribe('bob-s', { width: 480, height: 270 });
  s.subs.subscribe('carol-s', { width: 100.4, height: 56.6 });
  s.subs.subscribe('bob-s', { width: 640, height: 360 });
  t.equal(s.timers.length, 1, 'one timer for the burst');
  t.equal(s.timers[0]!.ms, 150);
  t.same(s.frames, [], 'nothing before the window ends');
  s.fire();
  t.same(s.frames, [
    {
      op: 'subscribe',
      id: 'sub-1',
      start: [
        { stream_id: 'bob-s', track_id: 'bob-a' },
        { stream_id: 'bob-s', track_id: 'bob-v', width: 640, height: 360 },
        { stream_id: 'carol-s', track_id: 'carol-v', width: 100, height: 57 },
      ],
    },
  ]);

  // A resize sends only the resized video; the same size again sends nothing.
  s.subs.subscribe('bob-s', { width: 1280, height: 720 });
  s.subs.subscribe('carol-s', { width: 100, height: 57 });
  s.fire();
  t.same(s.frames[1], {
    op: 'subscribe',
    id: 'sub-2',
    start: [{ stream_id: 'bob-s', track_id: 'bob-v', width: 1280, height: 720 }],
  });
  s.subs.subscribe('bob-s', { width: 1280, height: 720 });
  s.fire();
  t.equal(s.frames.length, 2, 'no change, no frame');

  // A tile goes away, another resizes: unsubscribe first, then subscribe, in one window.
  s.subs.unsubscribe('carol-s');
  s.subs.subscribe('bob-s', { width: 0, height: 0 });
  s.fire();
  t.same(s.frames.slice(2), [
    { op: 'unsubscribe', id: 'unsub-3', stop: [{ stream_id: 'carol-s', track_id: 'carol-v' }] },
    { op: 'subscribe', id: 'sub-4', start: [{ stream_id: 'bob-s', track_id: 'bob-v' }] },
  ]);
  s.subs.unsubscribe('nobody');
  t.equal(s.timers.length, 0, 'unsubscribing an unknown stream schedules nothing');
});

t.test(
  'metadata: streams that leave are forgotten, new tracks of wanted streams subscribed, failures retried',
  async (t) => {
    const s = setup();
    s.subs.subscribe('dave-s', { width: 320, height: 180 });
    s.fire();
    t.same(s.frames, [], 'a stream not (yet) in the metadata is not sent');
    s.setMetadata({ ...META, 'dave-s': { tracks: { 'dave-v': { kind: 'video' } } } });
    s.subs.metadataChanged();
    s.fire();
    t.match(s.frames, [
      { op: 'subscribe', start: [{ stream_id: 'dave-s', track_id: 'dave-v', width: 320, height: 180 }] },
    ]);

    s.setMetadata(META);
    s.subs.metadataChanged();
    s.fire();
    t.equal(s.frames.length, 1, 'dave left: nothing to unsubscribe');

    s.subs.subscribe('bob-s', { width: 640, height: 360 });
    s.fire();
    s.subs.failed('sub-2', [{ stream_id: 'bob-s', track_id: 'bob-v' }]);
    s.subs.metadataChanged();
    s.fire();
    t.same(
      s.frames[2],
      {
        op: 'subscribe',
        id: 'sub-3',
        start: [{ stream_id: 'bob-s', track_id: 'bob-v', width: 640, height: 360 }],
      },
      'the failed track is asked for again',
    );
    s.subs.failed('sub-3', undefined);
    s.subs.metadataChanged();
    s.fire();
    t.match(
      s.frames[3],
      { id: 'sub-4', start: [{ track_id: 'bob-v' }] },
      'an error without `failed` fails the whole request',
    );

    s.setFailSend(true);
    s.subs.subscribe('carol-s', { width: 10, height: 10 });
    s.fire();
    t.match(s.errors, [{ message: /closed/ }], 'a send failure is reported, not thrown');
    s.setFailSend(false);
    s.subs.subscribe('carol-s', { width: 10, height: 10 });
    s.fire();
    t.match(s.frames[4], { start: [{ stream_id: 'carol-s' }] }, 'and retried on the next change');
    s.subs.close();
    s.subs.subscribe('carol-s', { width: 20, height: 20 });
    t.equal(s.timers.length, 0, 'closed: nothing scheduled');
  },
);

t.test('dimension: integers 1–16384, unconstrained for 0, negatives and non-numbers', async (t) => {
  t.equal(dimension(0.4), 1, 'any positive size is at least 1');
  t.equal(dimension(0), undefined);
  t.equal(dimension(-5), undefined);
  t.equal(dimension(Number.NaN), undefined);
  t.equal(dimension(Infinity), undefined);
  t.equal(dimension(0.6), 1);
  t.equal(dimension(639.5), 640);
  t.equal(dimension(99999), 16384);
});

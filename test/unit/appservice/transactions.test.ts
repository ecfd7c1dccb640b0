// TransactionProcessor pacing: room events reach the bus in chunks of ROOM_EVENT_CHUNK, in order, and the event
// loop runs between chunks — a large transaction never holds up timers, I/O or health checks until it is done.
import pino from 'pino';
import t from 'tap';
import { AppserviceEventBus, ROOM_EVENT_CHUNK } from '../../../src/appservice/eventBus.js';
import type { RoomEvent } from '../../../src/appservice/events.js';
import { TransactionProcessor } from '../../../src/appservice/transactions.js';
import { Metrics } from '../../../src/observability/metrics.js';

const FOCUS = { userId: '@sfu:example.org', deviceId: 'SFUDEV' };

function roomEvent(i: number): RoomEvent {
  return {
    type: 'm.room.member',
    state_key: `@u${i}:example.org`,
    sender: `@u${i}:example.org`,
    room_id: '!r:example.org',
    event_id: `$e${i}`,
    origin_server_ts: 1_700_000_000_000 + i,
    content: { membership: 'join' },
  };
}

function setup() {
  const bus = new AppserviceEventBus(() => undefined);
  const txns = new TransactionProcessor({
    bus,
    focus: FOCUS,
    metrics: new Metrics(),
    log: pino({ level: 'silent' }),
  });
  return { bus, txns };
}

t.test('room events go to the bus in order, in chunks, with the event loop run between them', async (t) => {
  const { bus, txns } = setup();
  const n = ROOM_EVENT_CHUNK * 2 + 7;
  const chunks: number[] = [];
  const seen: string[] = [];
  let loopRanAt: number | undefined;
  bus.subscribe('room_events', (evs) => {
    chunks.push(evs.length);
    seen.push(...evs.map((e) => e.event_id));
  });
  t.equal(txns.receive('t1', { events: Array.from({ length: n }, (_, i) => roomEvent(i)) }), 'accepted');
  setImmediate(() => {
    loopRanAt = seen.length;
  });
  await txns.drain();
  t.same(chunks, [ROOM_EVENT_CHUNK, ROOM_EVENT_CHUNK, 7], 'chunks of ROOM_EVENT_CHUNK');
  t.same(
    seen,
    Array.from({ length: n }, (_, i) => `$e${i}`),
    'every event once, in order',
  );
  t.ok(
    loopRanAt !== undefined && loopRanAt < n,
    `the event loop ran after ${String(loopRanAt)} of ${n} events`,
  );
});

t.test(
  'a room_event subscriber still sees each event once, and a single room_event reaches room_events',
  async (t) => {
    const { bus, txns } = setup();
    const singles: string[] = [];
    bus.subscribe('room_event', (ev) => {
      singles.push(ev.event_id);
    });
    txns.receive('t2', { events: [roomEvent(1), { not: 'an event' }, roomEvent(2)] });
    await txns.drain();
    t.same(singles, ['$e1', '$e2'], 'the malformed one skipped');
    const chunks: string[][] = [];
    bus.subscribe('room_events', (evs) => {
      chunks.push(evs.map((e) => e.event_id));
    });
    await bus.dispatch('room_event', roomEvent(3));
    t.same(chunks, [['$e3']]);
    t.same(singles.at(-1), '$e3', 'and its room_event subscriber');
  },
);

t.test('to-device messages are paced too: the loop runs within a long run of them', async (t) => {
  const { bus, txns } = setup();
  let handled = 0;
  let loopRanAt: number | undefined;
  bus.subscribe('to_device', () => {
    handled++;
  });
  const n = ROOM_EVENT_CHUNK * 2;
  const toDevice = Array.from({ length: n }, (_, i) => ({
    type: 'm.call.invite',
    sender: '@a:example.org',
    to_user_id: FOCUS.userId,
    to_device_id: FOCUS.deviceId,
    content: { i },
  }));
  txns.receive('t3', { events: [], to_device: toDevice });
  setImmediate(() => {
    loopRanAt = handled;
  });
  await txns.drain();
  t.equal(handled, n);
  t.ok(loopRanAt !== undefined && loopRanAt < n, `the event loop ran after ${String(loopRanAt)} of ${n}`);
});

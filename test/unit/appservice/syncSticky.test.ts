/**
 * The /sync transport feeds MSC4354 sticky sections (`sticky` and unstable `msc4354_sticky`) of joined rooms to
 * the event bus next to state and timeline, with the room id filled in (protocol.md §2.4 b, §3.3b).
 */
import { pino } from 'pino';
import t from 'tap';
import { AppserviceEventBus } from '../../../src/appservice/eventBus.js';
import type { RoomEvent } from '../../../src/appservice/events.js';
import type { HomeserverClient } from '../../../src/appservice/homeserverClient.js';
import { SyncTransport } from '../../../src/appservice/syncTransport.js';
import { member, ROOM, T0 } from '../../fixtures/matrix/events.js';
import { DAVE, rtcMember, stickyEvent } from '../../fixtures/matrix/sticky.js';
import { FakeClock } from '../../helpers/fakeClock.js';

const strip = (e: Record<string, unknown>): Record<string, unknown> => {
  const { room_id: _r, ...rest } = e;
  return rest;
};

t.test('sticky sections of /sync reach the bus as room events', async (t) => {
  const unstable = strip(stickyEvent(DAVE, rtcMember(DAVE, 'DAVEDEV')));
  const stable = strip(stickyEvent(DAVE, rtcMember(DAVE, 'PHONE'), { type: 'm.rtc.member' }));
  const joined = strip(member(DAVE, 'join'));
  const body = {
    next_batch: 's1',
    rooms: {
      join: {
        [ROOM]: {
          state: { events: [joined] },
          timeline: { events: [] },
          msc4354_sticky: { events: [unstable] },
          sticky: { events: [stable] },
        },
      },
    },
  };
  let calls = 0;
  let release: () => void = () => undefined;
  const client = {
    request: (_m: string, _p: string, o: { signal: AbortSignal }) => {
      calls++;
      if (calls === 1) {
        return Promise.resolve(body);
      }
      // Later polls wait until the transport is closed.
      return new Promise((_resolve, reject) => {
        release = () => {
          reject(new Error('aborted'));
        };
        o.signal.addEventListener('abort', release);
      });
    },
  } as unknown as HomeserverClient;
  const bus = new AppserviceEventBus(() => undefined);
  const seen: RoomEvent[] = [];
  bus.subscribe('room_event', (ev) => {
    seen.push(ev);
  });
  const sync = new SyncTransport({
    client,
    bus,
    focus: { userId: '@sfu:example.org', deviceId: 'SFUDEV1' },
    clock: new FakeClock(T0),
    log: pino({ level: 'silent' }),
  });
  sync.start();
  const end = Date.now() + 5_000;
  while (sync.syncs < 1 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await sync.close();
  t.same(
    seen.map((e) => [e.type, e.room_id, e.content['member']]),
    [
      ['m.room.member', ROOM, undefined],
      ['m.rtc.member', ROOM, { user_id: DAVE, device_id: 'PHONE', id: 'm-PHONE' }],
      ['org.matrix.msc4143.rtc.member', ROOM, { user_id: DAVE, device_id: 'DAVEDEV', id: 'm-DAVEDEV' }],
    ],
  );
  t.match(seen[2], { sticky: { duration_ms: 3_600_000 } }, 'the top-level sticky object is kept');
});

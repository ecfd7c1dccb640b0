// The start-up rebuild shell (protocol.md §8.7, §2.6) with fakes: the homeserver's joined rooms and room state
// (HTTP errors, too many rooms, junk state) feed the membership store, and the rebuild hands each qualifying
// conference to the conference manager once; a failing room is logged once and never stops the others.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { rebuildConferences, type RebuildTargetPort } from '../../../src/appservice/conferenceRebuild.js';
import { AppserviceEventBus } from '../../../src/appservice/eventBus.js';
import { MatrixHttpError, type HomeserverClient } from '../../../src/appservice/homeserverClient.js';
import { MembershipMetrics } from '../../../src/appservice/membershipMetrics.js';
import { MembershipService } from '../../../src/appservice/membershipService.js';
import { Metrics } from '../../../src/observability/metrics.js';
import {
  ALICE,
  BOB,
  CONF,
  member,
  OTHER_CONF,
  REMOTE_SFU,
  SFU,
  session,
  sessionEvent,
  T0,
} from '../../fixtures/matrix/events.js';
import { FakeClock } from '../../helpers/fakeClock.js';

const REMOTE_ACTIVE = { type: 'org.matrix.msc3898', ...REMOTE_SFU };

function roomState(confIds: readonly string[] = [CONF]): unknown[] {
  const strip = (e: Record<string, unknown>) => ({ ...e, room_id: undefined });
  return [
    strip(member(ALICE, 'join')),
    strip(member(BOB, 'join')),
    ...confIds.flatMap((c, i) => [
      strip(sessionEvent(ALICE, `A${i}`, session(`A${i}`, { call_id: c }))),
      strip(sessionEvent(BOB, `B${i}`, session(`B${i}`, { call_id: c, focus_active: REMOTE_ACTIVE }))),
    ]),
  ];
}

interface Fake {
  rooms: () => Promise<string[]>;
  state: (roomId: string) => Promise<unknown[]>;
}

function setup(fake: Fake, maxRooms = 100) {
  const clock = new FakeClock(T0);
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (l: string) => logs.push(JSON.parse(l) as Record<string, unknown>) },
  );
  const metrics = new Metrics({ defaultMetrics: false, registry: new Registry() });
  const stateCalls: string[] = [];
  const client = {
    joinedRooms: fake.rooms,
    roomState: (roomId: string, maxBytes?: number) => {
      stateCalls.push(`${roomId}|${String(maxBytes)}`);
      return fake.state(roomId);
    },
    roomMessages: () => Promise.resolve({ chunk: [] }),
  } as unknown as HomeserverClient;
  const svc = new MembershipService({
    client,
    bus: new AppserviceEventBus(() => undefined),
    clock,
    log,
    metrics: new MembershipMetrics(metrics.registry, metrics.eventsIgnored),
    focus: SFU,
    serverName: 'example.org',
    autoJoin: true,
    autoJoinAllow: [],
    maxRooms,
    maxRoomStateBytes: 4096,
  });
  const calls: string[] = [];
  const port = (fail: (roomId: string) => boolean = () => false): RebuildTargetPort => ({
    rebuild(roomId, confId) {
      calls.push(`${roomId}|${confId}`);
      if (fail(roomId)) {
        throw new Error('boom');
      }
      return 'rebuilt';
    },
  });
  const run = (p: RebuildTargetPort, max = 100) =>
    rebuildConferences({
      source: svc.store,
      conferences: p,
      focus: SFU,
      now: clock.now(),
      maxConferences: max,
      log,
    });
  return { svc, logs, calls, port, run, stateCalls };
}

const room = (i: number) => `!r${String(i).padStart(4, '0')}:example.org`;

t.test('joined rooms and their state → one rebuild per qualifying conference', async (t) => {
  const s = setup({
    rooms: () => Promise.resolve([room(1), room(2), room(3)]),
    state: (r) =>
      r === room(2)
        ? Promise.reject(new MatrixHttpError('GET', '/state', 403, 'M_FORBIDDEN', 'no', {}))
        : Promise.resolve(roomState(r === room(3) ? [CONF, OTHER_CONF] : [CONF])),
  });
  t.equal(await s.svc.bootstrapAll(), 2, 'the room whose /state failed is skipped');
  t.same(
    s.stateCalls,
    [`${room(1)}|4096`, `${room(2)}|4096`, `${room(3)}|4096`],
    'limits.max_room_state_bytes',
  );
  t.same(s.run(s.port()), { rebuilt: 3, existing: 0, skipped: 0, failedRooms: 0 });
  t.same(s.calls, [`${room(1)}|${CONF}`, `${room(3)}|${CONF}`, `${room(3)}|${OTHER_CONF}`]);
  t.equal(s.logs.filter((l) => l['msg'] === 'room state bootstrap failed').length, 1, 'logged once');
});

t.test('a huge joined-room list: limits.max_joined_rooms bounds the reads and the rebuilds', async (t) => {
  const rooms = Array.from({ length: 5000 }, (_, i) => room(i));
  const s = setup({ rooms: () => Promise.resolve(rooms), state: () => Promise.resolve(roomState()) }, 50);
  t.equal(await s.svc.bootstrapAll(), 50);
  t.equal(s.stateCalls.length, 50, 'only the first 50 rooms are read');
  t.ok(s.logs.some((l) => typeof l['msg'] === 'string' && l['msg'].includes('limits.max_joined_rooms')));
  t.same(s.run(s.port(), 10), { rebuilt: 10, existing: 0, skipped: 40, failedRooms: 0 });
});

t.test(
  'the room list itself fails: bootstrapAll rejects (start-up retries) and nothing is rebuilt',
  async (t) => {
    const s = setup({
      rooms: () => Promise.reject(new MatrixHttpError('GET', '/joined_rooms', 500, 'M_UNKNOWN', 'down', {})),
      state: () => Promise.resolve(roomState()),
    });
    await t.rejects(s.svc.bootstrapAll());
    t.same(s.run(s.port()), { rebuilt: 0, existing: 0, skipped: 0, failedRooms: 0 });
    t.same(s.calls, []);
  },
);

t.test('junk room state: nothing qualifies, nothing throws', async (t) => {
  const junk: unknown[] = [null, 1, 'x', [], {}, { type: 'm.room.member' }, { content: [] }];
  const s = setup({ rooms: () => Promise.resolve([room(1), room(2)]), state: () => Promise.resolve(junk) });
  t.equal(await s.svc.bootstrapAll(), 2);
  t.same(s.run(s.port()), { rebuilt: 0, existing: 0, skipped: 0, failedRooms: 0 });
});

t.test('a room whose rebuild throws is logged once and skipped; the others go on', async (t) => {
  const s = setup({
    rooms: () => Promise.resolve([room(1), room(2)]),
    state: () => Promise.resolve(roomState([CONF, OTHER_CONF])),
  });
  await s.svc.bootstrapAll();
  const report = s.run(s.port((r) => r === room(1)));
  t.same(report, { rebuilt: 2, existing: 0, skipped: 0, failedRooms: 1 });
  t.same(s.calls, [`${room(1)}|${CONF}`, `${room(2)}|${CONF}`, `${room(2)}|${OTHER_CONF}`]);
  t.equal(s.logs.filter((l) => l['msg'] === 'conference rebuild failed for this room').length, 1);
});

t.test('existing conferences are counted; a closed manager stops the rebuild', async (t) => {
  const s = setup({
    rooms: () => Promise.resolve([room(1), room(2)]),
    state: () => Promise.resolve(roomState()),
  });
  await s.svc.bootstrapAll();
  const answers: ('rebuilt' | 'exists' | 'closed')[] = ['exists', 'closed'];
  const report = s.run({ rebuild: () => answers.shift() ?? 'rebuilt' });
  t.same(report, { rebuilt: 0, existing: 1, skipped: 0, failedRooms: 0 });
});

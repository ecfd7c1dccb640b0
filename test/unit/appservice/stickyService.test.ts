/**
 * Format (d) through the MembershipService on a fake clock: the expiry timer revokes a sticky membership, and a
 * room bootstrap recovers sticky members from `/messages` (paged backwards, an hour deep, bounded pages).
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { AppserviceEventBus } from '../../../src/appservice/eventBus.js';
import type { RoomEvent } from '../../../src/appservice/events.js';
import type { HomeserverClient } from '../../../src/appservice/homeserverClient.js';
import { MembershipMetrics } from '../../../src/appservice/membershipMetrics.js';
import { MembershipService } from '../../../src/appservice/membershipService.js';
import type { Revocation } from '../../../src/conference/ports.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { HOUR, member, q, ROOM, SFU, T0 } from '../../fixtures/matrix/events.js';
import { DAVE, rtcMember, stickyEvent } from '../../fixtures/matrix/sticky.js';
import { FakeClock } from '../../helpers/fakeClock.js';

const MIN = 60_000;

interface MessagesCall {
  roomId: string;
  page: { dir: string; from?: string; limit: number; filter?: Record<string, unknown> };
}

/** `timeline` newest first, served `limit` at a time with tokens `t<index>`. */
function setup(timeline: unknown[] = [], opts: { maxPages?: number; pageSize?: number } = {}) {
  const clock = new FakeClock(T0);
  const bus = new AppserviceEventBus(() => undefined);
  const metrics = new Metrics({ defaultMetrics: false, registry: new Registry() });
  const calls: MessagesCall[] = [];
  const client = {
    joinedRooms: () => Promise.resolve([ROOM]),
    roomState: () =>
      Promise.resolve([{ ...member(DAVE, 'join', { ts: T0 - 2 * HOUR }), room_id: undefined }]),
    roomMessages: (roomId: string, page: MessagesCall['page']) => {
      calls.push({ roomId, page });
      const start = page.from === undefined ? 0 : Number(page.from.slice(1));
      const chunk = timeline.slice(start, start + page.limit);
      const next = start + chunk.length;
      return Promise.resolve(next < timeline.length ? { chunk, end: `t${next}` } : { chunk });
    },
  } as unknown as HomeserverClient;
  const svc = new MembershipService({
    client,
    bus,
    clock,
    log: pino({ level: 'silent' }),
    metrics: new MembershipMetrics(metrics.registry, metrics.eventsIgnored),
    focus: SFU,
    serverName: 'example.org',
    autoJoin: true,
    autoJoinAllow: [],
    stickyRecovery: opts,
  });
  svc.attach();
  const revoked: Revocation[] = [];
  svc.on('revoked', (r) => revoked.push(r));
  const send = (ev: unknown) => bus.dispatch('room_event', ev as RoomEvent);
  return { clock, svc, revoked, send, calls, metrics };
}

const daveAt = (ts: number, over: Record<string, unknown> = {}, key = 'm-DAVEDEV') =>
  stickyEvent(DAVE, rtcMember(DAVE, 'DAVEDEV', key, over), { ts, durationMs: 10 * MIN });

t.test('the expiry timer revokes a sticky membership at the end of its stickiness', async (t) => {
  const { clock, svc, revoked, send, metrics } = setup();
  await send(member(DAVE, 'join'));
  await send(daveAt(T0));
  t.equal(svc.authorize(q(DAVE, 'DAVEDEV'), clock.now()).allowed, true);
  t.match(await metrics.registry.metrics(), /sfu_memberships\{format="sticky"\} 1/);
  t.equal(clock.pendingTimers, 1, 'one timer armed');
  clock.advance(10 * MIN - 1);
  t.same(revoked, []);
  clock.advance(1);
  t.match(revoked, [{ userId: DAVE, deviceId: 'DAVEDEV', reason: 'expired' }]);
  t.equal(clock.pendingTimers, 0);
});

t.test('a refresh with the same sticky key moves the timer; a leave revokes at once', async (t) => {
  const { clock, revoked, send } = setup();
  await send(member(DAVE, 'join'));
  await send(daveAt(T0));
  clock.advance(5 * MIN);
  await send(daveAt(clock.now()));
  clock.advance(5 * MIN);
  t.same(revoked, [], 'refreshed: not expired at the first end');
  await send(stickyEvent(DAVE, { msc4354_sticky_key: 'm-DAVEDEV' }, { ts: clock.now() }));
  t.match(revoked, [{ userId: DAVE, reason: 'left_membership' }]);
  clock.advance(HOUR);
  t.equal(revoked.length, 1, 'nothing more to revoke later');
});

t.test('ignored sticky events are counted by reason', async (t) => {
  const { send, metrics } = setup();
  await send(member(DAVE, 'join'));
  await send(stickyEvent(DAVE, rtcMember(DAVE, 'DAVEDEV'), { durationMs: null }));
  await send(stickyEvent(DAVE, { member: {} }));
  const text = await metrics.registry.getSingleMetricAsString('sfu_events_ignored_total');
  t.match(text, /reason="not_sticky"\} 1/);
  t.match(text, /reason="bad_sticky_key"\} 1/);
});

t.test('bootstrap recovers sticky members from /messages, newest page first, an hour deep', async (t) => {
  // Newest first: a live membership, its older value for the same key, a message, an event past the hour.
  const timeline = [
    daveAt(T0 - MIN),
    daveAt(T0 - 2 * MIN, { rtc_transports: [] }),
    { type: 'm.room.message', sender: DAVE, origin_server_ts: T0 - 3 * MIN, event_id: '$m', content: {} },
    daveAt(T0 - HOUR - 1, {}, 'm-old'),
    daveAt(T0 - 2 * HOUR, {}, 'm-older'),
  ];
  const { clock, svc, calls } = setup(timeline, { pageSize: 2 });
  t.equal(await svc.bootstrapAll(), 1);
  t.same(svc.authorize(q(DAVE, 'DAVEDEV'), clock.now()), { allowed: true, expiresAt: T0 + 9 * MIN });
  t.equal(svc.store.countByFormat(clock.now()).sticky, 1, 'only the newest value of the key');
  t.same(
    calls.map((c) => c.page.from),
    [undefined, 't2'],
    'paged back until an event older than an hour',
  );
  t.match(calls[0], {
    roomId: ROOM,
    page: { dir: 'b', limit: 2, filter: { types: ['m.rtc.member', 'org.matrix.msc4143.rtc.member'] } },
  });
});

t.test('recovery reads at most maxPages pages', async (t) => {
  const timeline = Array.from({ length: 10 }, (_, i) => daveAt(T0 - i * MIN, {}, `m-${i}`));
  const { svc, calls } = setup(timeline, { pageSize: 2, maxPages: 3 });
  await svc.bootstrapAll();
  t.equal(calls.length, 3);
  t.equal(svc.store.countByFormat(T0).sticky, 6, 'the events of the pages read');
});

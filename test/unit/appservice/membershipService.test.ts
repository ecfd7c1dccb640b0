/** The membership service's timer: one timer at the next expiry, fired on a fake clock. */
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
import {
  ALICE,
  BOB,
  CONF,
  member,
  ROOM,
  SFU,
  session,
  sessionEvent,
  T0,
} from '../../fixtures/matrix/events.js';
import { FakeClock } from '../../helpers/fakeClock.js';

function setup() {
  const clock = new FakeClock(T0);
  const bus = new AppserviceEventBus(() => undefined);
  const metrics = new Metrics({ defaultMetrics: false, registry: new Registry() });
  /** What `GET /rooms/{id}/state` answers (tests replace it). */
  const state: { events: unknown[]; reads: string[] } = { events: [], reads: [] };
  const client = {
    joinRoom: () => Promise.resolve(),
    roomState: (roomId: string) => {
      state.reads.push(roomId);
      return Promise.resolve(state.events);
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
  });
  svc.attach();
  const revoked: Revocation[] = [];
  svc.on('revoked', (r) => revoked.push(r));
  const send = (ev: unknown) => bus.dispatch('room_event', ev as RoomEvent);
  return { clock, svc, revoked, send, metrics, state };
}

t.test('an expiry with no other event is reported by the timer at the expiry time', async (t) => {
  const { clock, svc, revoked, send } = setup();
  await send(member(ALICE, 'join'));
  await send(sessionEvent(ALICE, 'ALICEDEV', session('ALICEDEV', { created_ts: T0, expires: 10_000 })));
  t.equal(clock.pendingTimers, 1, 'one timer armed');
  clock.advance(9_999);
  t.same(revoked, [], '1 ms before expiry: nothing');
  t.equal(
    svc.authorize(
      { roomId: ROOM, userId: ALICE, deviceId: 'ALICEDEV', confId: CONF, focus: SFU },
      clock.now(),
    ).allowed,
    true,
  );
  clock.advance(1);
  t.equal(revoked.length, 1, 'at the expiry time: revoked');
  t.match(revoked[0], { roomId: ROOM, userId: ALICE, deviceId: 'ALICEDEV', reason: 'expired' });
  t.equal(clock.pendingTimers, 0, 'no timer left once nothing is live');
  clock.advance(60_000);
  t.equal(revoked.length, 1, 'reported once');
});

t.test('the timer follows the earliest expiry as memberships come and go', async (t) => {
  const { clock, revoked, send } = setup();
  await send(member(ALICE, 'join'));
  await send(member(BOB, 'join'));
  await send(sessionEvent(ALICE, 'ALICEDEV', session('ALICEDEV', { created_ts: T0, expires: 20_000 })));
  await send(sessionEvent(BOB, 'BOBDEV', session('BOBDEV', { created_ts: T0, expires: 5_000 })));
  t.equal(clock.pendingTimers, 1, 'still exactly one timer');
  clock.advance(5_000);
  t.same(
    revoked.map((r) => [r.userId, r.reason]),
    [[BOB, 'expired']],
  );
  // Alice refreshes her membership before it expires: the timer moves.
  clock.advance(10_000);
  await send(
    sessionEvent(ALICE, 'ALICEDEV', session('ALICEDEV', { created_ts: clock.now(), expires: 20_000 }), {
      ts: clock.now(),
    }),
  );
  clock.advance(10_000);
  t.equal(revoked.length, 1, 'refreshed membership did not expire at the old time');
  clock.advance(10_000);
  t.same(
    revoked.map((r) => [r.userId, r.reason]),
    [
      [BOB, 'expired'],
      [ALICE, 'expired'],
    ],
  );
});

t.test('sfu_memberships gauge and decision counter', async (t) => {
  const { clock, svc, send, metrics } = setup();
  await send(member(ALICE, 'join'));
  await send(sessionEvent(ALICE, 'ALICEDEV', session('ALICEDEV', { created_ts: T0, expires: 10_000 })));
  svc.authorize({ roomId: ROOM, userId: ALICE, deviceId: 'ALICEDEV', confId: CONF, focus: SFU }, clock.now());
  svc.authorize({ roomId: ROOM, userId: BOB, deviceId: 'BOBDEV', confId: CONF, focus: SFU }, clock.now());
  const text = await metrics.registry.metrics();
  t.match(text, /sfu_memberships\{format="session"\} 1/);
  t.match(text, /sfu_authorization_decisions_total\{result="allowed",reason="ok"\} 1/);
  t.match(text, /sfu_authorization_decisions_total\{result="denied",reason="not_joined"\} 1/);
});

t.test(
  'malformed call member events are counted in sfu_events_ignored_total and grant nothing',
  async (t) => {
    const { clock, svc, send, metrics } = setup();
    await send(member(ALICE, 'join'));
    await send(
      sessionEvent(ALICE, 'ALICEDEV', session('ALICEDEV'), {
        stateKey: '_@mallory:example.org_ALICEDEV_m.call',
      }),
    );
    await send({ type: 'org.matrix.msc3401.call.member', room_id: ROOM, sender: ALICE, content: 'nope' });
    t.equal(
      svc.authorize(
        { roomId: ROOM, userId: ALICE, deviceId: 'ALICEDEV', confId: CONF, focus: SFU },
        clock.now(),
      ).allowed,
      false,
    );
    const text = await metrics.registry.getSingleMetricAsString('sfu_events_ignored_total');
    t.match(text, /reason="bad_state_key"\} 1/);
  },
);

t.test('a timer that fires early neither reports early nor loses the expiry', async (t) => {
  const { clock, revoked, send } = setup();
  // Make timers longer than 1 ms fire 1 ms before their due time, as Node's can.
  const onTime = clock.setTimeout.bind(clock);
  clock.setTimeout = (fn, ms) => onTime(fn, ms > 1 ? ms - 1 : ms);
  await send(member(ALICE, 'join'));
  await send(sessionEvent(ALICE, 'ALICEDEV', session('ALICEDEV', { created_ts: T0, expires: 10_000 })));
  clock.advance(9_999);
  t.same(revoked, [], 'not reported before the expiry');
  clock.advance(1);
  t.equal(revoked.length, 1, 'reported at the expiry');
  t.equal(revoked[0]?.reason, 'expired');
});

t.test('an expiry that passes while the event loop is busy is not lost by a re-arm', async (t) => {
  const { clock, revoked, send } = setup();
  await send(member(ALICE, 'join'));
  await send(member(BOB, 'join'));
  await send(sessionEvent(ALICE, 'ALICEDEV', session('ALICEDEV', { created_ts: T0, expires: 10_000 })));
  await send(sessionEvent(BOB, 'BOBDEV', session('BOBDEV', { created_ts: T0, expires: 60_000 })));
  // Time passes Alice's expiry without timers running, then an unrelated event re-arms.
  clock.jump(10_500);
  await send(
    sessionEvent(BOB, 'BOBDEV', session('BOBDEV', { created_ts: clock.now(), expires: 60_000 }), {
      ts: clock.now(),
    }),
  );
  clock.advance(0);
  t.same(
    revoked.map((r) => [r.userId, r.reason]),
    [[ALICE, 'expired']],
  );
});

t.test(
  'resyncAll (the homeserver is back): every held room re-read; a membership gone meanwhile is revoked',
  async (t) => {
    const { clock, svc, revoked, send, state } = setup();
    await send(member(ALICE, 'join'));
    await send(sessionEvent(ALICE, 'ALICEDEV', session('ALICEDEV', { created_ts: T0, expires: 3_600_000 })));
    const q = { roomId: ROOM, userId: ALICE, deviceId: 'ALICEDEV', confId: CONF, focus: SFU };
    t.equal(svc.authorize(q, clock.now()).allowed, true, 'before the outage: a member');
    // During the outage Alice left the call; the homeserver's push of that change never arrived.
    state.events = [member(ALICE, 'join')];
    t.equal(await svc.resyncAll(), 1, 'one room re-read');
    t.same(state.reads, [ROOM]);
    t.equal(svc.authorize(q, clock.now()).allowed, false, 'after the resync: no longer a member');
    t.match(revoked, [{ roomId: ROOM, userId: ALICE, deviceId: 'ALICEDEV' }], 'her session revoked');
    svc.close();
    t.equal(await svc.resyncAll(), 0, 'after close: nothing re-read, no rejection');
  },
);

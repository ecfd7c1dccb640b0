// Format (d) in the MembershipStore (protocol.md §3.3b, §3.4, §3.7): sticky memberships grant, expire, are
// replaced per sticky key, end on leave, and are revoked like the other formats, all at explicit clock
// readings.
import t from 'tap';
import { MembershipStore } from '../../../../src/appservice/membership/store.js';
import {
  ALICE,
  CONF,
  HOUR,
  member,
  q,
  REMOTE_SFU,
  ROOM,
  SFU,
  storeWith,
  T0,
} from '../../../fixtures/matrix/events.js';
import { DAVE, rtcMember, stickyEvent } from '../../../fixtures/matrix/sticky.js';

const MIN = 60_000;
const joined = member(DAVE, 'join');
const daveSticky = (over: Record<string, unknown> = {}, ts = T0, key = 'm-DAVEDEV') =>
  stickyEvent(DAVE, rtcMember(DAVE, 'DAVEDEV', key, over), { ts });

t.test('a sticky membership grants, counts and names its focus until its stickiness ends', async (t) => {
  const store = storeWith([joined, daveSticky()]);
  t.same(store.authorize(q(DAVE, 'DAVEDEV'), T0), { allowed: true, expiresAt: T0 + HOUR });
  t.same(store.resolveRoom({ userId: DAVE, deviceId: 'DAVEDEV', confId: CONF, focus: SFU }, T0), {
    kind: 'room',
    roomId: ROOM,
  });
  t.same(store.countByFormat(T0), { legacy: 0, memberships: 0, session: 0, sticky: 1 });
  t.same(store.fociInUse(ROOM, CONF, T0), [SFU]);
  t.equal(store.nextExpiry(T0), T0 + HOUR);
  t.equal(store.authorize(q(DAVE, 'DAVEDEV'), T0 + HOUR - 1).allowed, true, '1 ms before the end');
  t.same(store.authorize(q(DAVE, 'DAVEDEV'), T0 + HOUR), { allowed: false, reason: 'expired' });
  t.same(store.expire(T0 + HOUR - 1), [], 'nothing revoked before the end');
  t.same(store.expire(T0 + HOUR), [
    {
      roomId: ROOM,
      userId: DAVE,
      deviceId: 'DAVEDEV',
      callId: '',
      scope: 'm.room',
      reason: 'expired',
      foci: [SFU],
    },
  ]);
  t.same(store.expire(T0 + HOUR + 1), [], 'reported once');
  t.equal(store.nextExpiry(T0 + HOUR), undefined);
});

t.test('not joined to the room: no grant', async (t) => {
  const store = storeWith([daveSticky()]);
  t.same(store.authorize(q(DAVE, 'DAVEDEV'), T0), { allowed: false, reason: 'not_joined' });
});

t.test('a future origin_server_ts cannot extend the stickiness past receipt + 1 h', async (t) => {
  const store = new MembershipStore();
  store.applyEvent(joined, T0);
  store.applyEvent(daveSticky({}, T0 + 30 * MIN), T0);
  t.equal(store.authorize(q(DAVE, 'DAVEDEV'), T0 + HOUR - 1).allowed, true);
  t.same(store.authorize(q(DAVE, 'DAVEDEV'), T0 + HOUR), { allowed: false, reason: 'expired' });
});

t.test('a later event with the same sticky key replaces the membership', async (t) => {
  const store = storeWith([joined, daveSticky()]);
  // Refreshed 50 min later: the stickiness restarts.
  t.same(store.applyEvent(daveSticky({}, T0 + 50 * MIN), T0 + 50 * MIN).revocations, []);
  t.same(store.authorize(q(DAVE, 'DAVEDEV'), T0 + HOUR), { allowed: true, expiresAt: T0 + 110 * MIN });
  // Now naming another focus: this focus is revoked.
  const res = store.applyEvent(daveSticky({ rtc_transports: [REMOTE_SFU] }, T0 + 60 * MIN), T0 + 60 * MIN);
  t.match(res, {
    applied: true,
    revocations: [{ userId: DAVE, deviceId: 'DAVEDEV', reason: 'focus_removed' }],
  });
  t.same(store.authorize(q(DAVE, 'DAVEDEV'), T0 + 60 * MIN), { allowed: false, reason: 'other_focus' });
  t.same(store.countByFormat(T0 + 60 * MIN).sticky, 1, 'one value per sticky key');
});

t.test('an older event with the same sticky key is stale', async (t) => {
  const store = storeWith([joined, daveSticky({}, T0 + MIN)]);
  const res = store.applyEvent(daveSticky({ rtc_transports: [REMOTE_SFU] }, T0), T0 + 2 * MIN);
  t.match(res, { applied: false, ignored: 'stale' });
  t.equal(store.authorize(q(DAVE, 'DAVEDEV'), T0 + 2 * MIN).allowed, true);
});

t.test('different sticky keys of one device are separate memberships', async (t) => {
  const store = storeWith([
    joined,
    daveSticky({}, T0, 'm-1'),
    daveSticky({ slot_id: `m.call#${CONF}` }, T0, 'm-2'),
  ]);
  t.equal(store.countByFormat(T0).sticky, 2);
  const res = store.applyEvent(stickyEvent(DAVE, { msc4354_sticky_key: 'm-1' }, { ts: T0 + 1 }), T0 + 1);
  t.same(
    res.revocations.map((r) => [r.callId, r.reason]),
    [['', 'left_membership']],
  );
  t.equal(store.authorize(q(DAVE, 'DAVEDEV'), T0 + 1).allowed, true, 'the other key still grants');
});

t.test(
  'leaving ends the membership: member.membership "leave" or content with only the sticky key',
  async (t) => {
    const leaves: [string, Record<string, unknown>][] = [
      [
        'membership leave',
        rtcMember(DAVE, 'DAVEDEV', 'm-DAVEDEV', { member: { membership: 'leave', id: 'm-DAVEDEV' } }),
      ],
      ['only the sticky key', { msc4354_sticky_key: 'm-DAVEDEV' }],
      ['only the stable sticky key', { sticky_key: 'm-DAVEDEV' }],
    ];
    for (const [name, content] of leaves) {
      const store = storeWith([joined, daveSticky()]);
      const res = store.applyEvent(stickyEvent(DAVE, content, { ts: T0 + MIN }), T0 + MIN);
      t.match(
        res,
        { applied: true, revocations: [{ userId: DAVE, reason: 'left_membership', foci: [SFU] }] },
        name,
      );
      t.notOk('ignored' in res, `${name}: a leave is not an error`);
      t.same(
        store.authorize(q(DAVE, 'DAVEDEV'), T0 + MIN),
        { allowed: false, reason: 'no_membership' },
        name,
      );
      t.equal(store.nextExpiry(T0 + MIN), undefined, `${name}: no timer needed`);
    }
  },
);

t.test('invalid content for a held sticky key ends it and is reported', async (t) => {
  const store = storeWith([joined, daveSticky()]);
  const res = store.applyEvent(
    daveSticky({ member: { user_id: ALICE, device_id: 'DAVEDEV', id: 'm-DAVEDEV' } }, T0 + MIN),
    T0 + MIN,
  );
  t.match(res, { applied: true, ignored: 'bad_content', revocations: [{ reason: 'left_membership' }] });
});

t.test('another sender cannot write or end a user’s sticky membership', async (t) => {
  const store = storeWith([joined, member(ALICE, 'join'), daveSticky()]);
  // Alice sends Dave's sticky key and claims Dave's device: her own slot, and invalid (user_id ≠ sender).
  const spoof = stickyEvent(
    ALICE,
    rtcMember(DAVE, 'DAVEDEV', 'm-DAVEDEV', { rtc_transports: [REMOTE_SFU] }),
    {
      ts: T0 + MIN,
    },
  );
  t.match(store.applyEvent(spoof, T0 + MIN), { ignored: 'bad_content', revocations: [] });
  t.match(
    store.applyEvent(stickyEvent(ALICE, { msc4354_sticky_key: 'm-DAVEDEV' }, { ts: T0 + MIN }), T0 + MIN),
    { revocations: [] },
  );
  t.same(store.authorize(q(DAVE, 'DAVEDEV'), T0 + MIN), { allowed: true, expiresAt: T0 + HOUR });
  t.same(store.authorize(q(ALICE, 'DAVEDEV'), T0 + MIN), { allowed: false, reason: 'no_membership' });
});

t.test('not sticky or without a sticky key: ignored, the held value stays', async (t) => {
  const store = storeWith([joined, daveSticky()]);
  const notSticky = stickyEvent(
    DAVE,
    { msc4354_sticky_key: 'm-DAVEDEV' },
    { ts: T0 + MIN, durationMs: null },
  );
  t.match(store.applyEvent(notSticky, T0 + MIN), { applied: false, ignored: 'not_sticky' });
  const keyless = stickyEvent(DAVE, { member: { membership: 'leave' } }, { ts: T0 + MIN });
  t.match(store.applyEvent(keyless, T0 + MIN), { applied: false, ignored: 'bad_sticky_key' });
  t.equal(store.authorize(q(DAVE, 'DAVEDEV'), T0 + MIN).allowed, true);
});

t.test('the user leaving the room revokes the sticky membership', async (t) => {
  const rows: [string, unknown, string][] = [
    ['leave', member(DAVE, 'leave', { ts: T0 + MIN }), 'left_room'],
    ['kick', member(DAVE, 'leave', { ts: T0 + MIN, sender: '@mod:example.org' }), 'kicked'],
    ['ban', member(DAVE, 'ban', { ts: T0 + MIN, sender: '@mod:example.org' }), 'banned'],
  ];
  for (const [name, event, reason] of rows) {
    const store = storeWith([joined, daveSticky()]);
    t.match(
      store.applyEvent(event, T0 + MIN).revocations,
      [{ userId: DAVE, deviceId: 'DAVEDEV', reason }],
      name,
    );
  }
});

t.test('a room state re-read (bootstrap) keeps the sticky memberships', async (t) => {
  const store = storeWith([joined, daveSticky()]);
  const res = store.bootstrapRoom(ROOM, [{ ...joined, room_id: undefined }], T0 + MIN);
  t.same(res.revocations, []);
  t.equal(store.authorize(q(DAVE, 'DAVEDEV'), T0 + MIN).allowed, true);
  const gone = store.bootstrapRoom(ROOM, [member(DAVE, 'leave', { ts: T0 + MIN })], T0 + 2 * MIN);
  t.match(gone.revocations, [{ userId: DAVE, reason: 'left_room' }]);
});

t.test('forgetting the room drops sticky memberships', async (t) => {
  const store = storeWith([joined, daveSticky()]);
  t.match(store.forgetRoom(ROOM), [{ userId: DAVE, reason: 'room_forgotten' }]);
  t.equal(store.authorize(q(DAVE, 'DAVEDEV'), T0).allowed, false);
});

t.test('sticky values past any possible stickiness are pruned and do not block older replays', async (t) => {
  const store = storeWith([joined, daveSticky()]);
  t.equal(store.expire(T0 + HOUR).length, 1);
  // After the prune a replayed event for the key is judged on its own (here: long expired), not as stale.
  const replay = store.applyEvent(daveSticky({}, T0 - MIN), T0 + HOUR + 1);
  t.match(replay, { applied: true });
  t.notOk('ignored' in replay);
  t.same(store.authorize(q(DAVE, 'DAVEDEV'), T0 + HOUR + 1), { allowed: false, reason: 'expired' });
});

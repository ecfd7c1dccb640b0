// Deferred application (MembershipStore.applyEvent(…, defer) + flush): a batch of events costs one
// recomputation per user it touched, not one per event, and revokes exactly what the same events applied one by
// one revoke, net of the batch (issue: 5,000 m.room.member events next to a 5,000-entry membership event blocked
// the focus for 36 s).
import t from 'tap';
import { MembershipStore } from '../../../../src/appservice/membership/store.js';
import { RoomState } from '../../../../src/appservice/membership/roomState.js';
import { ALICE, BOB, HOUR, T0, legacy, member, q } from '../../../fixtures/matrix/events.js';

const ENTRIES = 2000;
const EVENTS = 2000;

/** Counts the membership entries RoomState.entriesOf hands out while `fn` runs. */
function entriesRead(fn: () => void): number {
  const original = Object.getOwnPropertyDescriptor(RoomState.prototype, 'entriesOf')!;
  const read = original.value as (this: RoomState, userId: string) => readonly unknown[];
  let n = 0;
  Object.defineProperty(RoomState.prototype, 'entriesOf', {
    ...original,
    value: function (this: RoomState, userId: string) {
      const out = read.call(this, userId);
      n += out.length;
      return out;
    },
  });
  try {
    fn();
  } finally {
    Object.defineProperty(RoomState.prototype, 'entriesOf', original);
  }
  return n;
}

/** Alice joined with ENTRIES devices in one format (a) event, and Bob with one. */
function crowded(): MembershipStore {
  const s = new MembershipStore();
  const devices = Array.from({ length: ENTRIES }, (_, i) => ({ deviceId: `D${i}`, expiresTs: T0 + HOUR }));
  for (const ev of [member(ALICE, 'join'), legacy(ALICE, devices), member(BOB, 'join')]) {
    s.applyEvent(ev, T0);
  }
  s.applyEvent(legacy(BOB, [{ deviceId: 'BOBDEV', expiresTs: T0 + HOUR }]), T0);
  return s;
}

/** EVENTS m.room.member events for Alice alternating leave/join, newest last; `last` is the final one. */
function churn(last: 'join' | 'leave'): unknown[] {
  return Array.from({ length: EVENTS }, (_, i) =>
    member(ALICE, (EVENTS - 1 - i) % 2 === 0 ? last : last === 'join' ? 'leave' : 'join', { ts: T0 + 1 + i }),
  );
}

t.test('a deferred batch reads a user’s entries a bounded number of times, not once per event', async (t) => {
  const s = crowded();
  const read = entriesRead(() => {
    for (const ev of churn('join')) {
      s.applyEvent(ev, T0 + 10, true);
    }
    s.flush(T0 + 10);
  });
  t.ok(
    read <= 4 * ENTRIES,
    `entries read: ${read} (≤ ${4 * ENTRIES}; one per event would be ${EVENTS * ENTRIES})`,
  );
});

t.test('deferred: revocations are those of the batch’s net change, reported at flush', async (t) => {
  for (const last of ['join', 'leave'] as const) {
    const s = crowded();
    const during = churn(last).flatMap((ev) => s.applyEvent(ev, T0 + 10, true).revocations);
    t.same(during, [], `${last}: nothing reported before the flush`);
    t.equal(
      s.authorize(q(ALICE, 'D0'), T0 + 10).allowed,
      last === 'join',
      `${last}: authorization reads the state applied, before the flush`,
    );
    const revs = s.flush(T0 + 10);
    if (last === 'join') {
      t.same(revs, [], 'joined again at the end: nothing revoked');
    } else {
      t.equal(revs.length, ENTRIES, 'left at the end: every one of Alice’s devices revoked once');
      t.ok(
        revs.every((r) => r.userId === ALICE && r.reason === 'left_room'),
        'all Alice’s, reason left_room',
      );
    }
    t.same(s.flush(T0 + 10), [], `${last}: a second flush has nothing left`);
  }
});

t.test('one by one, the same events revoke each leave (the non-deferred path is unchanged)', async (t) => {
  const s = crowded();
  const revs = churn('join')
    .slice(-3)
    .flatMap((ev) => s.applyEvent(ev, T0 + 10).revocations);
  // The last three alternate join, leave, join: the leave revokes every device once.
  t.equal(revs.length, ENTRIES);
});

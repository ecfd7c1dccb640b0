// bootstrapRoom's `appliedDuring`: events applied while the `/state` request was in flight survive the answer,
// which was taken before them. Without them a membership that first appeared during the request (a slot the
// answer lacks) vanished and its device's invite was refused (seen as an intermittent hangup in the outage test).
import t from 'tap';
import { MembershipStore } from '../../../../src/appservice/membership/store.js';
import { ALICE, HOUR, ROOM, T0, legacy, member, q } from '../../../fixtures/matrix/events.js';

/** A `/state` answer: events without room_id, taken before Alice's membership existed. */
const answer = [member(ALICE, 'join')].map(({ room_id: _r, ...e }) => e);
const aliceMembership = legacy(ALICE, [{ deviceId: 'ALICEDEV', expiresTs: T0 + HOUR }]);

function pushedDuringRequest(): MembershipStore {
  const s = new MembershipStore();
  s.applyEvent(member(ALICE, 'join'), T0);
  s.applyEvent(aliceMembership, T0 + 1); // pushed while the /state request is in flight
  return s;
}

t.test('a membership pushed during the request is kept when passed as appliedDuring', async (t) => {
  const s = pushedDuringRequest();
  const res = s.bootstrapRoom(ROOM, answer, T0 + 2, [aliceMembership]);
  t.same(res.revocations, [], 'nothing revoked');
  t.equal(s.authorize(q(ALICE, 'ALICEDEV'), T0 + 2).allowed, true, 'Alice’s device still authorized');
});

t.test('without it the answer drops the membership (why appliedDuring exists)', async (t) => {
  const s = pushedDuringRequest();
  const res = s.bootstrapRoom(ROOM, answer, T0 + 2);
  t.equal(res.revocations.length, 1, 'revoked by the older answer');
  t.equal(s.authorize(q(ALICE, 'ALICEDEV'), T0 + 2).allowed, false);
});

t.test('an event of the answer newer than a replayed one wins (the ordering rule)', async (t) => {
  const s = pushedDuringRequest();
  const emptied = legacy(ALICE, [], { ts: T0 + 5 });
  const newer = [member(ALICE, 'join'), emptied].map(({ room_id: _r, ...e }) => e);
  s.bootstrapRoom(ROOM, newer, T0 + 6, [aliceMembership]);
  t.equal(
    s.authorize(q(ALICE, 'ALICEDEV'), T0 + 6).allowed,
    false,
    'the answer’s later (empty) membership holds',
  );
});

/** The client's format (d) writer (protocol.md §3.3b): sticky member events, one sticky key from join to leave. */
import t from 'tap';
import { formatD, RTC_MEMBER_TYPE, STICKY_PARAM } from '../../../client/index.js';

const me = { userId: '@dave:example.org', deviceId: 'DAVEDEV' };
const focus = { user_id: '@sfu:example.org', device_id: 'SFUDEV1' };

t.test(
  'join: a sticky rtc.member event naming the focus first; the key is reused until a leave',
  async (t) => {
    const w = formatD(600_000);
    const a = w.join(me, focus, { callId: '' }, 0);
    t.equal(a.kind, 'event');
    if (a.kind !== 'event') {
      return;
    }
    t.equal(a.eventType, RTC_MEMBER_TYPE);
    t.same(a.query, { [STICKY_PARAM]: '600000' });
    const key = a.content['msc4354_sticky_key'];
    t.type(key, 'string');
    t.match(a.content, {
      slot_id: 'm.call#',
      application: { type: 'm.call' },
      member: { user_id: me.userId, device_id: me.deviceId, id: key },
      rtc_transports: [{ type: 'org.matrix.msc3898', ...focus }],
    });
    const again = w.join(me, focus, { callId: 'c1' }, 0);
    t.equal(again.content['msc4354_sticky_key'], key, 'a refresh keeps the sticky key');
    t.equal(again.content['slot_id'], 'm.call#c1');
    const leave = w.leave(me);
    t.same(leave.content, { msc4354_sticky_key: key }, 'leave: only the sticky key');
    const next = w.join(me, focus, {}, 0);
    t.not(next.content['msc4354_sticky_key'], key, 'a join after a leave gets a new key');
  },
);

t.test('default stickiness is 1 h', async (t) => {
  const a = formatD().join(me, focus, {}, 0);
  t.same(a.kind === 'event' ? a.query : undefined, { [STICKY_PARAM]: '3600000' });
});

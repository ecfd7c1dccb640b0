/**
 * The test homeserver's MSC4354 sticky events and GET /messages, over HTTP: what a format (d) MatrixRTC client
 * sends and what the SFU reads back (AS push, /sync, /messages), and the requests a real server refuses.
 */
import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import {
  call,
  enc,
  pushedEvents,
  registration,
  SERVER,
  SFU,
  startStubAppservice,
} from './fixtures/helpers.js';

const V3 = '/_matrix/client/v3';
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const RTC = 'org.matrix.msc4143.rtc.member';
const UNSTABLE = 'org.matrix.msc4354.sticky_duration_ms';

async function setup(t: { teardown(fn: () => Promise<void>): void }) {
  let now = T0;
  const reg = registration(null);
  const stub = await startStubAppservice(reg.hs_token);
  const hs = await startTestHomeserver({
    serverName: SERVER,
    now: () => now,
    appservices: [{ ...reg, url: stub.url }],
  });
  t.teardown(async () => {
    await hs.close();
    await stub.close();
  });
  const alice = hs.createUser('alice');
  const roomId = hs.createRoom(alice.userId, { preset: 'public_chat' });
  hs.join(SFU, roomId);
  let txn = 0;
  const send = (content: Record<string, unknown>, query: Record<string, string> = {}) =>
    call(hs, 'PUT', `${V3}/rooms/${enc(roomId)}/send/${RTC}/t${++txn}`, {
      token: alice.accessToken,
      query,
      body: content,
    });
  return {
    hs,
    stub,
    alice,
    roomId,
    send,
    setNow: (ms: number) => {
      now = ms;
    },
    asToken: reg.as_token,
  };
}

t.test('a sticky event carries its duration, reaches the AS, /sync and /messages', async (t) => {
  const { hs, stub, alice, roomId, send, setNow, asToken } = await setup(t);
  const content = { msc4354_sticky_key: 'k1', member: { id: 'k1' } };
  const sent = await send(content, { [UNSTABLE]: String(HOUR) });
  t.equal(sent.status, 200);
  const stable = await send({ sticky_key: 'k2' }, { sticky_duration_ms: '600000' });
  t.equal(stable.status, 200);
  const plain = await send({ msc4354_sticky_key: 'k3' });
  await hs.pushesSettled();

  const pushed = pushedEvents(stub).filter((e) => e.type === RTC);
  t.match(pushed, [
    { event_id: sent.body.event_id, msc4354_sticky: { duration_ms: HOUR }, content },
    { event_id: stable.body.event_id, sticky: { duration_ms: 600_000 } },
    { event_id: plain.body.event_id },
  ]);
  t.notOk('msc4354_sticky' in pushed[2] || 'sticky' in pushed[2], 'no parameter: not sticky');

  // Initial /sync: the timeline is empty, so the unexpired sticky events come in their own sections.
  setNow(T0 + 1000);
  const initial = await call(hs, 'GET', `${V3}/sync`, { token: alice.accessToken });
  const room = initial.body.rooms.join[roomId];
  t.same(room.timeline.events, []);
  t.match(room.msc4354_sticky.events, [
    { event_id: sent.body.event_id, unsigned: { msc4354_sticky_duration_ttl_ms: HOUR - 1000 } },
  ]);
  t.match(room.sticky.events, [
    { event_id: stable.body.event_id, unsigned: { sticky_duration_remaining_ms: 600_000 - 1000 } },
  ]);
  t.notOk('room_id' in room.msc4354_sticky.events[0]);

  setNow(T0 + 700_000);
  const later = await call(hs, 'GET', `${V3}/sync`, { token: alice.accessToken });
  t.equal(later.body.rooms.join[roomId].sticky, undefined, 'an expired sticky event is no longer sent');
  t.equal(later.body.rooms.join[roomId].msc4354_sticky.events.length, 1);

  // The appservice reads them back with /messages, newest first, filtered by type.
  const messages = await call(hs, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, {
    token: asToken,
    query: { user_id: SFU, dir: 'b', limit: '2', filter: JSON.stringify({ types: [RTC] }) },
  });
  t.equal(messages.status, 200);
  t.same(
    messages.body.chunk.map((e: { event_id: string }) => e.event_id),
    [plain.body.event_id, stable.body.event_id],
  );
  t.match(messages.body.chunk[1], { room_id: roomId, sticky: { duration_ms: 600_000 } });
  const next = await call(hs, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, {
    token: asToken,
    query: {
      user_id: SFU,
      dir: 'b',
      limit: '2',
      from: messages.body.end,
      filter: JSON.stringify({ types: [RTC] }),
    },
  });
  t.same(
    next.body.chunk.map((e: { event_id: string }) => e.event_id),
    [sent.body.event_id],
  );
  t.equal(next.body.end, undefined, 'the start of the room: no end token');
  t.same(hs.rejections, []);
});

t.test('sticky durations a server refuses', async (t) => {
  const { hs, send } = await setup(t);
  const bad: Record<string, string>[] = [
    { [UNSTABLE]: '-1' },
    { [UNSTABLE]: '3600001' },
    { [UNSTABLE]: '1.5' },
    { [UNSTABLE]: 'soon' },
    { sticky_duration_ms: '' },
    { [UNSTABLE]: '1000', sticky_duration_ms: '2000' },
  ];
  for (const query of bad) {
    const res = await send({ msc4354_sticky_key: 'k' }, query);
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_PARAM'], JSON.stringify(query));
  }
  t.equal(hs.rejections.length, bad.length, 'each refusal is recorded');
  t.equal((await send({}, { [UNSTABLE]: '0' })).status, 200, '0 is a valid duration');
  t.equal((await send({}, { [UNSTABLE]: '1000', sticky_duration_ms: '1000' })).status, 200, 'both, agreeing');
});

t.test('/messages: pagination both ways, parameters checked, visibility', async (t) => {
  const { hs, alice, roomId } = await setup(t);
  const ids = [1, 2, 3].map(
    (i) => hs.sendMessage(alice.userId, roomId, 'm.room.message', { body: `${i}` }).event_id,
  );
  const get = (query: Record<string, string>, token = alice.accessToken) =>
    call(hs, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, { token, query });
  const forward = await get({ dir: 'f', limit: '100', filter: JSON.stringify({ types: ['m.room.mess*'] }) });
  t.same(
    forward.body.chunk.map((e: { event_id: string }) => e.event_id),
    ids,
  );
  const back = await get({ dir: 'b', limit: '1' });
  t.same(back.body.chunk[0].event_id, ids[2]);
  const back2 = await get({ dir: 'b', limit: '1', from: back.body.end });
  t.same(back2.body.chunk[0].event_id, ids[1]);
  t.equal(back2.body.start, back.body.end);

  const refusals: [Record<string, string>, number, string][] = [
    [{}, 400, 'M_MISSING_PARAM'],
    [{ dir: 'x' }, 400, 'M_INVALID_PARAM'],
    [{ dir: 'b', limit: '-1' }, 400, 'M_INVALID_PARAM'],
    [{ dir: 'b', from: 'nope' }, 400, 'M_INVALID_PARAM'],
    [{ dir: 'b', filter: '{' }, 400, 'M_NOT_JSON'],
    [{ dir: 'b', filter: '[]' }, 400, 'M_INVALID_PARAM'],
    [{ dir: 'b', filter: '{"types":"m.room.message"}' }, 400, 'M_INVALID_PARAM'],
  ];
  for (const [query, status, errcode] of refusals) {
    const res = await get(query);
    t.same([res.status, res.body.errcode], [status, errcode], JSON.stringify(query));
  }
  t.equal(hs.rejections.length, refusals.length);
  const stranger = hs.createUser('mallory');
  const res = await get({ dir: 'b' }, stranger.accessToken);
  t.same([res.status, res.body.errcode], [403, 'M_FORBIDDEN'], 'not a member');
});

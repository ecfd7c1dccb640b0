import t from 'tap';
import type { RoomEvent, ToDeviceEvent } from '../../../src/appservice/events.js';
import { asApp, buildTestSfu, HS_TOKEN, testConfig, type Teardown } from '../../../harness/sfu.js';
import { MAX_PARAM_LENGTH } from '../../../src/http/server.js';

const auth = { authorization: `Bearer ${HS_TOKEN}` };
const json = { 'content-type': 'application/json' };

function roomEvent(n: number): RoomEvent {
  return {
    type: 'm.room.message',
    event_id: `$e${n}`,
    room_id: '!r1:example.org',
    sender: '@alice:example.org',
    origin_server_ts: 1_700_000_000_000 + n,
    content: { body: `hello ${n}` },
  };
}

function toDevice(
  n: number,
  to = { user: '@sfu:example.org', device: 'SFUDEV1' },
  type = 'm.call.invite',
): ToDeviceEvent {
  return {
    type,
    sender: '@alice:example.org',
    to_user_id: to.user,
    to_device_id: to.device,
    content: { call_id: `c${n}` },
  };
}

function setup(t: Teardown) {
  const sfu = buildTestSfu();
  const seen: { kind: string; ev: unknown }[] = [];
  sfu.bus.subscribe('room_event', (ev) => {
    seen.push({ kind: 'room', ev });
  });
  sfu.bus.subscribe('to_device', (ev) => {
    seen.push({ kind: 'to_device', ev });
  });
  sfu.bus.subscribe('ephemeral', (ev) => {
    seen.push({ kind: 'ephemeral', ev });
  });
  const app = asApp(sfu);
  t.teardown(() => sfu.stop('test'));
  const put = (txnId: string, body: unknown, headers: Record<string, string> = auth, url?: string) =>
    app.inject({
      method: 'PUT',
      url: url ?? `/_matrix/app/v1/transactions/${txnId}`,
      headers: { ...json, ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { sfu, app, seen, put };
}

t.test(
  'auth: missing token 401, wrong token 403, disagreeing tokens 403, either spelling accepted',
  async (t) => {
    const { put, seen, sfu } = setup(t);
    let r = await put('t1', { events: [] }, {});
    t.equal(r.statusCode, 401);
    t.same(r.json(), { errcode: 'M_MISSING_TOKEN', error: 'Missing hs_token' });
    r = await put('t1', { events: [] }, { authorization: 'Bearer nope' });
    t.equal(r.statusCode, 403);
    t.equal(r.json().errcode, 'M_FORBIDDEN');
    r = await put('t1', { events: [] }, {}, `/_matrix/app/v1/transactions/t1?access_token=nope`);
    t.equal(r.statusCode, 403);
    r = await put('t1', { events: [] }, auth, `/_matrix/app/v1/transactions/t1?access_token=other`);
    t.equal(r.statusCode, 403, 'header and query disagree');
    r = await put(
      't1',
      { events: [roomEvent(1)] },
      {},
      `/_matrix/app/v1/transactions/t1?access_token=${HS_TOKEN}`,
    );
    t.equal(r.statusCode, 200, 'legacy query token');
    t.same(r.json(), {});
    r = await put('t2', { events: [roomEvent(2)] });
    t.equal(r.statusCode, 200, 'Bearer header');
    await sfu.transactions.drain();
    t.equal(seen.length, 2, 'only the two authorised transactions were processed');
  },
);

t.test('a duplicate txnId is answered 200 and processed once', async (t) => {
  const { put, seen, sfu } = setup(t);
  const body = { events: [roomEvent(1)] };
  const [a, b] = await Promise.all([put('dup', body), put('dup', body)]);
  t.equal(a.statusCode, 200);
  t.equal(b.statusCode, 200);
  const c = await put('dup', body);
  t.equal(c.statusCode, 200);
  await sfu.transactions.drain();
  t.equal(seen.length, 1);
  const metrics = await sfu.metrics.registry.getSingleMetricAsString('sfu_transactions_total');
  t.match(metrics, /result="duplicate"} 2/);
});

t.test('malformed bodies: 400 M_NOT_JSON / M_BAD_JSON, nothing processed', async (t) => {
  const { put, seen, sfu } = setup(t);
  const cases: { body: string; code: string; status: number }[] = [
    { body: '{"events": [', code: 'M_NOT_JSON', status: 400 },
    { body: '[1,2]', code: 'M_NOT_JSON', status: 400 },
    { body: '"str"', code: 'M_NOT_JSON', status: 400 },
    { body: '{"events": {}}', code: 'M_BAD_JSON', status: 400 },
    { body: '{}', code: 'M_BAD_JSON', status: 400 },
    { body: '{"events": [], "de.sorunome.msc2409.to_device": {}}', code: 'M_BAD_JSON', status: 400 },
    { body: '{"events": [], "to_device": 5}', code: 'M_BAD_JSON', status: 400 },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await put(`bad${i}`, c.body);
    t.equal(r.statusCode, c.status, c.body);
    t.equal(r.json().errcode, c.code, c.body);
  }
  // Invalid UTF-8 and a missing body.
  const app = asApp(sfu);
  let r = await app.inject({
    method: 'PUT',
    url: '/_matrix/app/v1/transactions/bin',
    headers: { ...auth, ...json },
    payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
  });
  t.equal(r.json().errcode, 'M_NOT_JSON', 'invalid UTF-8');
  r = await app.inject({ method: 'PUT', url: '/_matrix/app/v1/transactions/empty', headers: auth });
  t.equal(r.statusCode, 400);
  t.equal(r.json().errcode, 'M_NOT_JSON', 'no body');
  // A rejected txnId may be retried with a good body.
  r = await put('bad0', { events: [roomEvent(9)] });
  t.equal(r.statusCode, 200);
  await sfu.transactions.drain();
  t.equal(seen.length, 1);
});

t.test('oversize transaction → 413 M_TOO_LARGE', async (t) => {
  const sfu = buildTestSfu(testConfig({ limits: { max_transaction_bytes: 2048 } }));
  t.teardown(() => sfu.stop('test'));
  const r = await asApp(sfu).inject({
    method: 'PUT',
    url: '/_matrix/app/v1/transactions/big',
    headers: { ...auth, ...json },
    payload: JSON.stringify({ events: [{ ...roomEvent(1), content: { body: 'x'.repeat(4096) } }] }),
  });
  t.equal(r.statusCode, 413);
  t.same(r.json(), { errcode: 'M_TOO_LARGE', error: 'Transaction too large' });
});

t.test('events reach the bus: room events first, then to-device, then ephemeral, in order', async (t) => {
  const { put, seen, sfu } = setup(t);
  const r = await put('order', {
    events: [roomEvent(1), roomEvent(2)],
    'de.sorunome.msc2409.to_device': [toDevice(1), toDevice(2)],
    'de.sorunome.msc2409.ephemeral': [
      { type: 'm.typing', room_id: '!r1:example.org', content: { user_ids: [] } },
    ],
  });
  t.equal(r.statusCode, 200);
  await sfu.transactions.drain();
  t.same(
    seen.map((s) => s.kind),
    ['room', 'room', 'to_device', 'to_device', 'ephemeral'],
  );
  t.same(seen[2]!.ev, toDevice(1));
  t.same(seen[3]!.ev, toDevice(2));
});

t.test('to-device under the stable key; the stable key wins when both are present', async (t) => {
  const { put, seen, sfu } = setup(t);
  await put('stable', { events: [], to_device: [toDevice(1)] });
  await put('both', { events: [], to_device: [toDevice(2)], 'de.sorunome.msc2409.to_device': [toDevice(3)] });
  await put('ephemeral', { events: [], ephemeral: [{ type: 'm.receipt', content: {} }] });
  await sfu.transactions.drain();
  t.same(
    seen.map((s) => [s.kind, (s.ev as { content: { call_id?: string } }).content.call_id]),
    [
      ['to_device', 'c1'],
      ['to_device', 'c2'],
      ['ephemeral', undefined],
    ],
  );
});

t.test(
  'bad or foreign events are skipped and counted; the rest of the transaction still counts',
  async (t) => {
    const { put, seen, sfu } = setup(t);
    const r = await put('mixed', {
      events: [42, { type: 'm.room.message' }, roomEvent(1)],
      to_device: [
        toDevice(1, { user: '@other:example.org', device: 'SFUDEV1' }),
        toDevice(2, { user: '@sfu:example.org', device: 'OTHER' }),
        toDevice(3, { user: '@sfu:example.org', device: 'SFUDEV1' }, 'm.room.encrypted'),
        { type: 'm.call.invite', sender: '@a:b' },
        toDevice(4),
      ],
    });
    t.equal(r.statusCode, 200);
    await sfu.transactions.drain();
    t.same(
      seen.map((s) => s.kind),
      ['room', 'to_device'],
    );
    t.equal((seen[1]!.ev as ToDeviceEvent).content['call_id'], 'c4');
    const m = await sfu.metrics.registry.getSingleMetricAsString('sfu_events_ignored_total');
    t.match(m, /reason="malformed"} 3/);
    t.match(m, /reason="not_for_focus"} 2/);
    t.match(m, /reason="encrypted"} 1/);
  },
);

t.test('a throwing bus handler does not fail the transaction or stop other events', async (t) => {
  const { put, seen, sfu } = setup(t);
  sfu.bus.subscribe('room_event', () => {
    throw new Error('boom');
  });
  const r = await put('throw', { events: [roomEvent(1), roomEvent(2)] });
  t.equal(r.statusCode, 200);
  await sfu.transactions.drain();
  t.equal(seen.length, 2);
  const m = await sfu.metrics.registry.getSingleMetricAsString('sfu_events_ignored_total');
  t.match(m, /reason="handler_error"} 2/);
});

t.test('legacy unprefixed routes', async (t) => {
  const { app, put, seen, sfu } = setup(t);
  const r = await put('legacy', { events: [roomEvent(1)] }, auth, '/transactions/legacy');
  t.equal(r.statusCode, 200);
  await sfu.transactions.drain();
  t.equal(seen.length, 1);
  const u = await app.inject({ method: 'GET', url: '/users/%40sfu%3Aexample.org', headers: auth });
  t.equal(u.statusCode, 200);
  const a = await app.inject({ method: 'GET', url: '/rooms/%23a%3Aexample.org', headers: auth });
  t.equal(a.statusCode, 404);
});

t.test('ping, user and alias queries', async (t) => {
  const { app } = setup(t);
  let r = await app.inject({
    method: 'POST',
    url: '/_matrix/app/v1/ping',
    headers: { ...auth, ...json },
    payload: '{"transaction_id":"p1"}',
  });
  t.equal(r.statusCode, 200);
  t.same(r.json(), {});
  r = await app.inject({ method: 'POST', url: '/_matrix/app/v1/ping', headers: auth });
  t.equal(r.statusCode, 200, 'empty body is {}');
  r = await app.inject({
    method: 'POST',
    url: '/_matrix/app/v1/ping',
    headers: { ...auth, ...json },
    payload: '{"transaction_id":5}',
  });
  t.equal(r.statusCode, 400);
  t.equal(r.json().errcode, 'M_BAD_JSON');
  r = await app.inject({ method: 'POST', url: '/_matrix/app/v1/ping', headers: json, payload: '{}' });
  t.equal(r.statusCode, 401);

  r = await app.inject({ method: 'GET', url: '/_matrix/app/v1/users/%40sfu%3Aexample.org', headers: auth });
  t.equal(r.statusCode, 200);
  t.same(r.json(), {});
  r = await app.inject({ method: 'GET', url: '/_matrix/app/v1/users/%40bob%3Aexample.org', headers: auth });
  t.equal(r.statusCode, 404);
  t.same(r.json(), { errcode: 'M_NOT_FOUND', error: 'No such user' });
  r = await app.inject({ method: 'GET', url: '/_matrix/app/v1/users/%40sfu%3Aexample.org' });
  t.equal(r.statusCode, 401, 'queries need the token too');
  r = await app.inject({ method: 'GET', url: '/_matrix/app/v1/rooms/%23call%3Aexample.org', headers: auth });
  t.equal(r.statusCode, 404);
  t.same(r.json(), { errcode: 'M_NOT_FOUND', error: 'No such room alias' });
});

t.test('long ids in paths are routed (Matrix ids may be 255 bytes)', async (t) => {
  const { app } = setup(t);
  const longUser = encodeURIComponent(`@${'a'.repeat(240)}:example.org`);
  const r = await app.inject({ method: 'GET', url: `/_matrix/app/v1/users/${longUser}`, headers: auth });
  t.equal(r.statusCode, 404);
  t.same(r.json(), { errcode: 'M_NOT_FOUND', error: 'No such user' });
});

t.test(
  'a transaction id: 150 characters routed; past the path limit 414 M_TOO_LARGE, a Matrix error',
  async (t) => {
    const { put } = setup(t);
    const ok = await put('t'.repeat(150), { events: [] });
    t.equal(ok.statusCode, 200);
    t.same(ok.json(), {});
    const long = await put('t'.repeat(MAX_PARAM_LENGTH + 1), { events: [] });
    t.equal(long.statusCode, 414);
    t.same(long.json(), {
      errcode: 'M_TOO_LARGE',
      error: `Request URI too long: a path segment is over ${MAX_PARAM_LENGTH} characters`,
    });
    const bad = await put('%E0%A4%A', { events: [] });
    t.equal(
      bad.json<{ errcode?: string }>().errcode !== undefined,
      true,
      'a malformed URL: a Matrix errcode too',
    );
  },
);

t.test('unknown routes → 404 M_UNRECOGNIZED', async (t) => {
  const { app } = setup(t);
  for (const url of ['/_matrix/app/v1/thirdparty/protocol/irc', '/nope', '/_matrix/app/v2/transactions/1']) {
    const r = await app.inject({ method: 'GET', url, headers: auth });
    t.equal(r.statusCode, 404, url);
    t.same(r.json(), { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  }
  const r = await app.inject({ method: 'DELETE', url: '/_matrix/app/v1/transactions/1', headers: auth });
  t.equal(r.statusCode, 404);
  t.equal(r.json().errcode, 'M_UNRECOGNIZED');
});

t.test(
  'unknown routes with a body Fastify cannot parse → still 404 M_UNRECOGNIZED, not its own body',
  async (t) => {
    // Found by the transactions fuzz: a path that normalises to no route ("..") with a bad JSON body got Fastify's
    // FST_ERR_CTP_INVALID_JSON_BODY / FST_ERR_CTP_EMPTY_JSON_BODY reply.
    const { app } = setup(t);
    const bodies = ['{"a":', '', '{"__proto__":{"x":1}}'];
    for (const url of ['/_matrix/app/v1/transactions/..', '/nope']) {
      for (const payload of bodies) {
        const r = await app.inject({ method: 'PUT', url, headers: { ...auth, ...json }, payload });
        t.equal(r.statusCode, 404, `${url} ${JSON.stringify(payload)}`);
        t.same(r.json(), { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
      }
    }
  },
);

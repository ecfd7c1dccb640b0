/**
 * What a browser page needs from the test homeserver, kept strict: CORS (Client-Server API "Web browser clients":
 * OPTIONS answered with the CORS headers and nothing else; the headers on every answer), password login for users
 * created with a password (or registered with one), and `/.well-known/matrix/client` announcing the MatrixRTC foci.
 */
import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'X-Requested-With, Content-Type, Authorization',
};

function corsOf(res: Response): Record<string, string | null> {
  return Object.fromEntries(Object.keys(CORS).map((h) => [h, res.headers.get(h)]));
}

t.test('CORS: preflights answered with the spec headers, and the headers on every answer', async (t) => {
  const hs = await startTestHomeserver({ serverName: 'example.org', logger: false });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const roomId = hs.createRoom(alice.userId);

  const pre = await fetch(
    `${hs.url}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.topic/`,
    {
      method: 'OPTIONS',
      headers: {
        origin: 'http://page.test',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization,content-type',
      },
    },
  );
  t.equal(pre.status, 204, 'a preflight of a real endpoint');
  t.same(corsOf(pre), CORS);
  t.equal(await pre.text(), '', 'nothing else');
  t.same(
    hs.roomState(roomId).filter((e) => e.type === 'm.room.topic'),
    [],
    'no endpoint logic ran',
  );

  const plain = await fetch(`${hs.url}/_matrix/client/v3/login`, { method: 'OPTIONS' });
  t.equal(plain.status, 204, 'an OPTIONS without preflight headers');

  const versions = await fetch(`${hs.url}/_matrix/client/versions`, {
    headers: { origin: 'http://page.test' },
  });
  t.equal(versions.status, 200);
  t.same(corsOf(versions), CORS, 'a 200 carries them');
  const body = (await versions.json()) as { unstable_features: Record<string, boolean> };
  t.equal(body.unstable_features['org.matrix.msc4354'], true, 'sticky events announced');
  const denied = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`);
  t.equal(denied.status, 401);
  t.same(corsOf(denied), CORS, 'an error carries them (the page can read the errcode)');
  t.same(hs.rejections.length, 1, 'the missing token is a rejection as before');
  hs.rejections.length = 0;

  const rows: { what: string; path: string; headers: Record<string, string>; status: number; why: RegExp }[] =
    [
      {
        what: 'no such endpoint',
        path: '/_matrix/client/v3/nope',
        headers: {},
        status: 404,
        why: /Unrecognized/,
      },
      {
        what: 'a method the endpoint lacks',
        path: '/_matrix/client/versions',
        headers: { 'access-control-request-method': 'PUT' },
        status: 405,
        why: /method PUT/,
      },
      {
        what: 'a header the spec does not allow',
        path: '/_matrix/client/v3/login',
        headers: {
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, x-custom',
        },
        status: 400,
        why: /x-custom/,
      },
    ];
  for (const row of rows) {
    const res = await fetch(`${hs.url}${row.path}`, { method: 'OPTIONS', headers: row.headers });
    t.equal(res.status, row.status, row.what);
    t.same(corsOf(res), CORS, `${row.what}: still with the CORS headers`);
  }
  t.match(
    hs.rejections,
    rows.map((r) => ({ method: 'OPTIONS', path: r.path, status: r.status, why: r.why })),
    'each refused preflight is recorded',
  );
});

t.test('password login: right password → a new device; wrong or none → 403 M_FORBIDDEN', async (t) => {
  const hs = await startTestHomeserver({ serverName: 'example.org', logger: false });
  t.teardown(() => hs.close());
  hs.createUser('alice', { password: 'correct horse' });
  hs.createUser('nopass');
  const login = (user: string, password: string) =>
    fetch(`${hs.url}/_matrix/client/v3/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user }, password }),
    });

  const ok = await login('alice', 'correct horse');
  t.equal(ok.status, 200);
  const session = (await ok.json()) as Record<string, string>;
  t.match(session, { user_id: '@alice:example.org', device_id: /\S+/, access_token: /\S+/ });
  const whoami = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, {
    headers: { authorization: `Bearer ${session['access_token']}` },
  });
  t.same(await whoami.json(), { user_id: '@alice:example.org', device_id: session['device_id'] });

  for (const [user, password] of [
    ['alice', 'wrong'],
    ['@alice:example.org', ''],
    ['nopass', 'anything'],
    ['nobody', 'x'],
  ] as const) {
    const res = await login(user, password);
    t.equal(res.status, 403, `${user} / ${JSON.stringify(password)}`);
    t.match(await res.json(), { errcode: 'M_FORBIDDEN' });
  }

  // A dev user registered over HTTP with a password logs in with it.
  const reg = await fetch(`${hs.url}/_matrix/client/v3/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bob', password: 'bob-pw', auth: { type: 'm.login.dummy' } }),
  });
  t.equal(reg.status, 200);
  t.equal((await login('bob', 'bob-pw')).status, 200);
  t.same(hs.rejections, [], 'wrong passwords are outcomes, not spec violations');
});

t.test('/.well-known/matrix/client: the homeserver base URL and the configured rtc_foci', async (t) => {
  const focus = { type: 'org.matrix.msc3898', user_id: '@sfu:example.org', device_id: 'SFUDEV1' };
  const hs = await startTestHomeserver({ serverName: 'example.org', logger: false, rtcFoci: [focus] });
  t.teardown(() => hs.close());
  const get = async () => {
    const res = await fetch(`${hs.url}/.well-known/matrix/client`, {
      headers: { origin: 'http://page.test' },
    });
    t.equal(res.status, 200);
    t.equal(res.headers.get('access-control-allow-origin'), '*');
    return res.json();
  };
  t.same(await get(), { 'm.homeserver': { base_url: hs.url }, 'org.matrix.msc4143.rtc_foci': [focus] });
  const livekit = { type: 'livekit', livekit_service_url: 'https://lk.example.org' };
  hs.setRtcFoci([livekit, focus]);
  t.same(await get(), {
    'm.homeserver': { base_url: hs.url },
    'org.matrix.msc4143.rtc_foci': [livekit, focus],
  });
  hs.setRtcFoci(undefined);
  t.same(await get(), { 'm.homeserver': { base_url: hs.url } });
  const post = await fetch(`${hs.url}/.well-known/matrix/client`, { method: 'POST', body: '{}' });
  t.equal(post.status, 405);
  t.match(hs.rejections, [{ method: 'POST', path: '/.well-known/matrix/client', status: 405 }]);
});

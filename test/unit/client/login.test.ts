// Password login (client/login.ts): the request, and every failure as a named error with a hint.
import t from 'tap';
import { HomeserverUnreachableError, LoginError } from '../../../client/errors.js';
import { loginWithPassword } from '../../../client/login.js';
import { fakeFetch } from './fakeFetch.js';

const HS = 'https://hs.example.org';

t.test('m.login.password with an m.id.user identifier, no token; the new device comes back', async (t) => {
  const f = fakeFetch(() => ({
    status: 200,
    body: {
      user_id: '@alice:example.org',
      access_token: 'tok',
      device_id: 'NEWDEV',
      home_server: 'example.org',
    },
  }));
  const creds = await loginWithPassword(
    HS,
    { user: 'alice', password: 'pw', deviceName: 'Call page' },
    { fetch: f.fetch },
  );
  t.same(creds, { userId: '@alice:example.org', accessToken: 'tok', deviceId: 'NEWDEV' });
  t.equal(f.seen[0]!.method, 'POST');
  t.equal(f.seen[0]!.url.href, `${HS}/_matrix/client/v3/login`);
  t.equal(f.seen[0]!.headers['authorization'], undefined);
  t.same(f.seen[0]!.body, {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: 'alice' },
    password: 'pw',
    initial_device_display_name: 'Call page',
  });
});

t.test('failures: named, with the errcode and what to do', async (t) => {
  const rows = [
    {
      what: 'wrong password',
      respond: () => ({
        status: 403,
        body: { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' },
      }),
      want: {
        name: 'LoginError',
        errcode: 'M_FORBIDDEN',
        step: 'login',
        message: /wrong user name or password/,
        hint: /password/,
      },
    },
    {
      what: 'deactivated',
      respond: () => ({ status: 403, body: { errcode: 'M_USER_DEACTIVATED' } }),
      want: { name: 'LoginError', errcode: 'M_USER_DEACTIVATED' },
    },
    {
      what: 'rate limited',
      respond: () => ({ status: 429, body: { errcode: 'M_LIMIT_EXCEEDED' } }),
      want: { name: 'LoginError', errcode: 'M_LIMIT_EXCEEDED', hint: /Wait/ },
    },
    {
      what: 'no password login',
      respond: () => ({ status: 400, body: { errcode: 'M_UNKNOWN', error: 'Unknown login type' } }),
      want: { name: 'LoginError', errcode: 'M_UNKNOWN', hint: /m\.login\.password/ },
    },
    {
      what: 'an unusable answer',
      respond: () => ({ status: 200, body: { user_id: '@alice:example.org' } }),
      want: { name: 'HomeserverUnreachableError', message: /unusable/ },
    },
    {
      what: 'no answer',
      respond: () => 'hang' as const,
      want: { name: 'HomeserverUnreachableError', message: /timed out after 50 ms/, hint: /CORS/ },
    },
  ];
  for (const row of rows) {
    const f = fakeFetch(row.respond);
    await t.rejects(
      loginWithPassword(HS, { user: 'alice', password: 'x' }, { fetch: f.fetch, timeoutMs: 50 }),
      row.want,
      row.what,
    );
  }
  const down = () => Promise.reject(new TypeError('Failed to fetch'));
  const err = await loginWithPassword(HS, { user: 'alice', password: 'x' }, { fetch: down }).catch(
    (e: unknown) => e,
  );
  t.type(err, HomeserverUnreachableError);
  t.notOk(err instanceof LoginError);
  t.match(err, { step: 'login', message: /Failed to fetch/ });
});

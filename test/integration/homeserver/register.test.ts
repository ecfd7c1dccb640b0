import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import { call, registration, SERVER } from './fixtures/helpers.js';

const AS = 'm.login.application_service';

t.test('appservice registration (registration.yaml + AS API)', async (t) => {
  const reg = registration(null);
  const hs = await startTestHomeserver({ serverName: SERVER, appservices: [reg] });
  t.teardown(() => hs.close());
  const tok = reg.as_token;

  const created = await call(hs, 'POST', '/_matrix/client/v3/register', {
    token: tok,
    body: { type: AS, username: 'sfu_bot', inhibit_login: true },
  });
  t.equal(created.status, 200);
  t.same(created.body, { user_id: '@sfu_bot:example.org', home_server: SERVER });
  t.notOk('access_token' in created.body, 'inhibit_login: no token');

  const again = await call(hs, 'POST', '/_matrix/client/v3/register', {
    token: tok,
    body: { type: AS, username: 'sfu_bot', inhibit_login: true },
  });
  t.equal(again.status, 400);
  t.equal(again.body.errcode, 'M_USER_IN_USE');

  // The sender_localpart user exists from the start (as on Synapse): startup step 1 answers M_USER_IN_USE.
  const sender = await call(hs, 'POST', '/_matrix/client/v3/register', {
    token: tok,
    body: { type: AS, username: 'sfu', inhibit_login: true },
  });
  t.equal(sender.status, 400);
  t.equal(sender.body.errcode, 'M_USER_IN_USE');

  const outside = await call(hs, 'POST', '/_matrix/client/v3/register', {
    token: tok,
    body: { type: AS, username: 'bob', inhibit_login: true },
  });
  t.equal(outside.status, 400);
  t.equal(outside.body.errcode, 'M_EXCLUSIVE');

  const withLogin = await call(hs, 'POST', '/_matrix/client/v3/register', {
    token: tok,
    body: { type: AS, username: 'sfu_two', device_id: 'DEV2' },
  });
  t.equal(withLogin.status, 200);
  t.equal(withLogin.body.device_id, 'DEV2');
  t.type(withLogin.body.access_token, 'string');

  const wrongType = await call(hs, 'POST', '/_matrix/client/v3/register', {
    token: tok,
    body: { username: 'sfu_three', inhibit_login: true },
  });
  t.equal(wrongType.status, 400);
  t.equal(wrongType.body.errcode, 'M_BAD_JSON');

  const badToken = await call(hs, 'POST', '/_matrix/client/v3/register', {
    token: 'nope',
    body: { type: AS, username: 'sfu_four', inhibit_login: true },
  });
  t.equal(badToken.status, 401);
  t.equal(badToken.body.errcode, 'M_UNKNOWN_TOKEN');

  t.same(
    hs.rejections.map((r) => r.errcode),
    ['M_EXCLUSIVE', 'M_BAD_JSON', 'M_UNKNOWN_TOKEN'],
    'M_USER_IN_USE is an outcome, not a spec violation',
  );
});

t.test('plain registration goes through User-Interactive Auth', async (t) => {
  const hs = await startTestHomeserver({ serverName: SERVER, appservices: [registration(null)] });
  t.teardown(() => hs.close());

  const challenge = await call(hs, 'POST', '/_matrix/client/v3/register', { body: { username: 'alice' } });
  t.equal(challenge.status, 401);
  t.same(challenge.body.flows, [{ stages: ['m.login.dummy'] }]);
  t.type(challenge.body.session, 'string');

  const done = await call(hs, 'POST', '/_matrix/client/v3/register', {
    body: {
      username: 'alice',
      password: 'pw',
      auth: { type: 'm.login.dummy', session: challenge.body.session },
    },
  });
  t.equal(done.status, 200);
  t.equal(done.body.user_id, '@alice:example.org');
  const whoami = await call(hs, 'GET', '/_matrix/client/v3/account/whoami', {
    token: done.body.access_token,
  });
  t.same(whoami.body, { user_id: '@alice:example.org', device_id: done.body.device_id });

  const taken = await call(hs, 'POST', '/_matrix/client/v3/register', {
    body: { username: 'alice', auth: { type: 'm.login.dummy' } },
  });
  t.equal(taken.body.errcode, 'M_USER_IN_USE');

  const exclusive = await call(hs, 'POST', '/_matrix/client/v3/register', {
    body: { username: 'sfu_fake', auth: { type: 'm.login.dummy' } },
  });
  t.equal(exclusive.status, 400);
  t.equal(exclusive.body.errcode, 'M_EXCLUSIVE', 'checked before UIA');

  const invalid = await call(hs, 'POST', '/_matrix/client/v3/register', { body: { username: 'Not Valid' } });
  t.equal(invalid.status, 400);
  t.equal(invalid.body.errcode, 'M_INVALID_USERNAME');

  const asTypeNoToken = await call(hs, 'POST', '/_matrix/client/v3/register', {
    body: { type: AS, username: 'sfu_x' },
  });
  t.equal(asTypeNoToken.status, 401);
  t.equal(asTypeNoToken.body.errcode, 'M_MISSING_TOKEN');

  const badShape = await call(hs, 'POST', '/_matrix/client/v3/register', { body: { username: 5 } });
  t.equal(badShape.status, 400);
  t.equal(badShape.body.errcode, 'M_BAD_JSON');

  const guest = await call(hs, 'POST', '/_matrix/client/v3/register', { query: { kind: 'guest' }, body: {} });
  t.equal(guest.status, 403);
});

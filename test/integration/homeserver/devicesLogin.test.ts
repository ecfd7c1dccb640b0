import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import { call, enc, registration, SERVER, SFU } from './fixtures/helpers.js';

const AS = 'm.login.application_service';

t.test('SFU startup without MSC4190: PUT device 404, AS login creates it, then PUT 200', async (t) => {
  const reg = registration(null);
  const hs = await startTestHomeserver({ serverName: SERVER, appservices: [reg] });
  t.teardown(() => hs.close());
  const tok = reg.as_token;

  const missing = await call(hs, 'PUT', '/_matrix/client/v3/devices/SFUDEV1', {
    token: tok,
    query: { user_id: SFU },
    body: { display_name: 'SFU focus' },
  });
  t.equal(missing.status, 404);
  t.equal(missing.body.errcode, 'M_NOT_FOUND');

  const login = await call(hs, 'POST', '/_matrix/client/v3/login', {
    token: tok,
    body: {
      type: AS,
      identifier: { type: 'm.id.user', user: 'sfu' },
      device_id: 'SFUDEV1',
      initial_device_display_name: 'SFU focus',
    },
  });
  t.equal(login.status, 200);
  t.equal(login.body.user_id, SFU);
  t.equal(login.body.device_id, 'SFUDEV1', 'device_id honoured');
  t.type(login.body.access_token, 'string');

  const exists = await call(hs, 'PUT', '/_matrix/client/v3/devices/SFUDEV1', {
    token: tok,
    query: { user_id: SFU },
    body: { display_name: 'SFU focus' },
  });
  t.equal(exists.status, 200);
  t.same(exists.body, {});

  const asDevice = await call(hs, 'GET', '/_matrix/client/v3/account/whoami', {
    token: tok,
    query: { user_id: SFU, 'org.matrix.msc3202.device_id': 'SFUDEV1' },
  });
  t.same(asDevice.body, { user_id: SFU, device_id: 'SFUDEV1' });

  const asOnly = await call(hs, 'GET', '/_matrix/client/v3/account/whoami', { token: tok });
  t.same(asOnly.body, { user_id: SFU }, 'no device for a bare as_token');

  const unknownDevice = await call(hs, 'GET', '/_matrix/client/v3/account/whoami', {
    token: tok,
    query: { user_id: SFU, device_id: 'NOPE' },
  });
  t.equal(unknownDevice.status, 400);
  t.equal(unknownDevice.body.errcode, 'M_EXCLUSIVE');

  const fullId = await call(hs, 'POST', '/_matrix/client/v3/login', {
    token: tok,
    body: { type: AS, identifier: { type: 'm.id.user', user: SFU }, device_id: 'SFUDEV1' },
  });
  t.equal(fullId.body.device_id, 'SFUDEV1', 'existing device reused');
});

t.test('MSC4190: an appservice creates devices with PUT (201), then updates them (200)', async (t) => {
  const reg = registration(null);
  const hs = await startTestHomeserver({ serverName: SERVER, appservices: [reg], msc4190: true });
  t.teardown(() => hs.close());
  const put = () =>
    call(hs, 'PUT', '/_matrix/client/v3/devices/SFUDEV1', {
      token: reg.as_token,
      query: { user_id: SFU },
      body: { display_name: 'SFU focus' },
    });
  const first = await put();
  t.equal(first.status, 201);
  t.same(first.body, {});
  t.equal((await put()).status, 200);

  const alice = hs.createUser('alice');
  const user = await call(hs, 'PUT', '/_matrix/client/v3/devices/OTHER', {
    token: alice.accessToken,
    body: {},
  });
  t.equal(user.status, 404, 'regular users cannot create devices');
  const list = await call(hs, 'GET', '/_matrix/client/v3/devices', { token: reg.as_token });
  t.same(list.body, { devices: [{ device_id: 'SFUDEV1', display_name: 'SFU focus' }] });
});

t.test('login flows and password login', async (t) => {
  const reg = registration(null);
  const hs = await startTestHomeserver({ serverName: SERVER, appservices: [reg] });
  t.teardown(() => hs.close());
  hs.createUser('alice', { password: 'secret' });

  const flows = await call(hs, 'GET', '/_matrix/client/v3/login');
  t.same(
    flows.body.flows.map((f: { type: string }) => f.type),
    ['m.login.password', AS],
  );

  const ok = await call(hs, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'secret' },
  });
  t.equal(ok.status, 200);
  t.equal(ok.body.user_id, '@alice:example.org');

  const wrong = await call(hs, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'nope' },
  });
  t.equal(wrong.status, 403);
  t.equal(wrong.body.errcode, 'M_FORBIDDEN');

  const noPassword = await call(hs, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' } },
  });
  t.equal(noPassword.status, 400);
  t.equal(noPassword.body.errcode, 'M_BAD_JSON');

  const noUserInIdentifier = await call(hs, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user' }, password: 'x' },
  });
  t.equal(noUserInIdentifier.body.errcode, 'M_BAD_JSON');

  const asOutside = await call(hs, 'POST', '/_matrix/client/v3/login', {
    token: reg.as_token,
    body: { type: AS, identifier: { type: 'm.id.user', user: 'alice' } },
  });
  t.equal(asOutside.status, 403, 'an AS cannot log in outside its namespace');

  const asNoToken = await call(hs, 'POST', '/_matrix/client/v3/login', {
    body: { type: AS, identifier: { type: 'm.id.user', user: 'sfu' } },
  });
  t.equal(asNoToken.status, 401);
  t.equal(asNoToken.body.errcode, 'M_MISSING_TOKEN');

  const unknownType = await call(hs, 'POST', '/_matrix/client/v3/login', { body: { type: 'm.login.magic' } });
  t.equal(unknownType.status, 400);
  t.equal(unknownType.body.errcode, 'M_UNKNOWN');

  const device = await call(hs, 'GET', `/_matrix/client/v3/devices/${enc(ok.body.device_id)}`, {
    token: ok.body.access_token,
  });
  t.equal(device.body.device_id, ok.body.device_id);
});

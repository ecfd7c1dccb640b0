import t from 'tap';
import { startTestHomeserver } from '../../../harness/homeserver/index.js';
import { call, enc, registration, SERVER, SFU } from './fixtures/helpers.js';

t.test('authentication is strict', async (t) => {
  const reg = registration(null);
  const hs = await startTestHomeserver({ serverName: SERVER, appservices: [reg] });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const whoami = '/_matrix/client/v3/account/whoami';

  const missing = await call(hs, 'GET', whoami);
  t.equal(missing.status, 401);
  t.equal(missing.body.errcode, 'M_MISSING_TOKEN');

  const unknown = await call(hs, 'GET', whoami, { token: 'syt_nope' });
  t.equal(unknown.status, 401);
  t.equal(unknown.body.errcode, 'M_UNKNOWN_TOKEN');

  const viaQuery = await call(hs, 'GET', whoami, { query: { access_token: alice.accessToken } });
  t.equal(viaQuery.status, 200, 'access_token query parameter accepted');
  t.equal(viaQuery.body.user_id, alice.userId);

  const both = await call(hs, 'GET', whoami, {
    token: alice.accessToken,
    query: { access_token: alice.accessToken },
  });
  t.equal(both.status, 401, 'header and query parameter together are refused');

  const notBearer = await call(hs, 'GET', whoami, {
    headers: { authorization: `Basic ${alice.accessToken}` },
  });
  t.equal(notBearer.status, 401);
  t.equal(notBearer.body.errcode, 'M_MISSING_TOKEN');

  const masquerade = await call(hs, 'GET', whoami, { token: reg.as_token, query: { user_id: alice.userId } });
  t.equal(masquerade.status, 403, 'masquerading outside the namespace');
  t.equal(masquerade.body.errcode, 'M_FORBIDDEN');

  const unregistered = await call(hs, 'GET', whoami, {
    token: reg.as_token,
    query: { user_id: '@sfu_ghost:example.org' },
  });
  t.equal(unregistered.status, 403, 'masquerading as a user the AS never registered');

  const asSelf = await call(hs, 'GET', whoami, { token: reg.as_token, query: { user_id: SFU } });
  t.same(asSelf.body, { user_id: SFU });

  const userIdIgnored = await call(hs, 'GET', whoami, { token: alice.accessToken, query: { user_id: SFU } });
  t.equal(userIdIgnored.body.user_id, alice.userId, 'user_id is meaningless for user tokens');

  t.same(
    hs.rejections.map((r) => [r.status, r.errcode]),
    [
      [401, 'M_MISSING_TOKEN'],
      [401, 'M_UNKNOWN_TOKEN'],
      [401, 'M_MISSING_TOKEN'],
      [401, 'M_MISSING_TOKEN'],
      [403, 'M_FORBIDDEN'],
      [403, 'M_FORBIDDEN'],
    ],
  );
  t.equal(hs.requests.length, 9, 'every request is logged');
  t.equal(hs.requests[4]!.userId, undefined);
  t.equal(hs.requests[7]!.appserviceId, 'sfu');
});

t.test('paths, methods and bodies are strict', async (t) => {
  const hs = await startTestHomeserver({ serverName: SERVER });
  t.teardown(() => hs.close());
  const alice = hs.createUser('alice');
  const token = alice.accessToken;

  const unknownPath = await call(hs, 'GET', '/_matrix/client/v3/nope', { token });
  t.equal(unknownPath.status, 404);
  t.equal(unknownPath.body.errcode, 'M_UNRECOGNIZED');

  const r0 = await call(hs, 'GET', '/_matrix/client/r0/account/whoami', { token });
  t.equal(r0.status, 404, 'only the v3 paths exist');

  const wrongMethod = await call(hs, 'POST', '/_matrix/client/v3/sync', { token, body: {} });
  t.equal(wrongMethod.status, 405);
  t.equal(wrongMethod.body.errcode, 'M_UNRECOGNIZED');

  const wrongMethodParam = await call(hs, 'POST', '/_matrix/client/v3/sendToDevice/m.x/1', {
    token,
    body: {},
  });
  t.equal(wrongMethodParam.status, 405);

  const notJson = await call(hs, 'PUT', '/_matrix/client/v3/sendToDevice/m.x/1', {
    token,
    raw: '{"messages": ',
  });
  t.equal(notJson.status, 400);
  t.equal(notJson.body.errcode, 'M_NOT_JSON');

  const empty = await call(hs, 'PUT', '/_matrix/client/v3/sendToDevice/m.x/2', { token, raw: '' });
  t.equal(empty.body.errcode, 'M_NOT_JSON', 'a required body may not be empty');

  const noBody = await call(hs, 'POST', `/_matrix/client/v3/createRoom`, { token });
  t.equal(noBody.body.errcode, 'M_NOT_JSON');

  const array = await call(hs, 'PUT', '/_matrix/client/v3/sendToDevice/m.x/3', { token, raw: '[]' });
  t.equal(array.status, 400);
  t.equal(array.body.errcode, 'M_BAD_JSON');

  const noMessages = await call(hs, 'PUT', '/_matrix/client/v3/sendToDevice/m.x/4', { token, body: {} });
  t.equal(noMessages.status, 400);
  t.equal(noMessages.body.errcode, 'M_BAD_JSON');

  const notUserKey = await call(hs, 'PUT', '/_matrix/client/v3/sendToDevice/m.x/5', {
    token,
    body: { messages: { alice: { DEV: {} } } },
  });
  t.equal(notUserKey.body.errcode, 'M_BAD_JSON', 'messages are keyed by user id');

  const contentNotObject = await call(hs, 'PUT', '/_matrix/client/v3/sendToDevice/m.x/6', {
    token,
    body: { messages: { [alice.userId]: { [alice.deviceId]: 'hi' } } },
  });
  t.equal(contentNotObject.body.errcode, 'M_BAD_JSON');

  const kickNoUser = await call(hs, 'POST', `/_matrix/client/v3/rooms/${enc('!r:example.org')}/kick`, {
    token,
    body: { reason: 'x' },
  });
  t.equal(kickNoUser.body.errcode, 'M_BAD_JSON');

  const badRoomId = await call(hs, 'GET', '/_matrix/client/v3/rooms/notaroom/state', { token });
  t.equal(badRoomId.status, 400);
  t.equal(badRoomId.body.errcode, 'M_INVALID_PARAM');

  const memberContent = await call(
    hs,
    'PUT',
    `/_matrix/client/v3/rooms/${enc(hs.createRoom(alice.userId))}/state/m.room.member/${enc(alice.userId)}`,
    { token, body: { membership: 'dancing' } },
  );
  t.equal(memberContent.body.errcode, 'M_BAD_JSON', 'm.room.member content follows its event schema');

  const badTimeout = await call(hs, 'GET', '/_matrix/client/v3/sync', { token, query: { timeout: 'soon' } });
  t.equal(badTimeout.body.errcode, 'M_INVALID_PARAM');
  const badSince = await call(hs, 'GET', '/_matrix/client/v3/sync', { token, query: { since: 'yesterday' } });
  t.equal(badSince.body.errcode, 'M_INVALID_PARAM');

  t.equal(hs.rejections.length, 16, 'every refusal above is recorded');
  t.same(hs.rejections[2], {
    method: 'POST',
    path: '/_matrix/client/v3/sync',
    status: 405,
    errcode: 'M_UNRECOGNIZED',
    why: 'Unrecognized request: method POST not allowed here',
  });
  t.notOk(
    hs.toDeviceInbox(alice.userId, alice.deviceId).length,
    'nothing was delivered by the refused requests',
  );
});

// The client's Client-Server HTTP over fetch (client/matrix.ts): bearer token and JSON, typed errors for
// non-2xx answers, timeouts, caller aborts and close() aborting what is in flight.
import t from 'tap';
import {
  ClientClosedError,
  MatrixApi,
  MatrixHttp,
  MatrixRequestError,
  RequestTimeoutError,
} from '../../../client/matrix.js';
import { fakeFetch } from './fakeFetch.js';

const HS = 'http://127.0.0.1:1';

t.test('a 2xx answer resolves with its JSON; token, method, body and path are sent', async (t) => {
  const f = fakeFetch(() => ({ status: 200, body: { event_id: '$e' } }));
  const api = new MatrixApi(new MatrixHttp(HS, 'tok', f.fetch));
  t.equal(await api.putState('!r:x', 'org.matrix.msc3401.call.member', '_@a:x_D_m.call', { a: 1 }), '$e');
  const req = f.seen[0]!;
  t.equal(req.method, 'PUT');
  t.equal(
    req.url.pathname,
    '/_matrix/client/v3/rooms/!r%3Ax/state/org.matrix.msc3401.call.member/_%40a%3Ax_D_m.call',
  );
  t.equal(req.headers['authorization'], 'Bearer tok');
  t.equal(req.headers['content-type'], 'application/json');
  t.same(req.body, { a: 1 });
});

t.test('a non-2xx answer rejects with MatrixRequestError carrying status, body and errcode', async (t) => {
  const f = fakeFetch(() => ({ status: 403, body: { errcode: 'M_FORBIDDEN', error: 'no' } }));
  const http = new MatrixHttp(HS, 'tok', f.fetch);
  const err = await http.request('GET', '/x').catch((e: unknown) => e);
  t.type(err, MatrixRequestError);
  t.match(err, { status: 403, errcode: 'M_FORBIDDEN', body: { error: 'no' }, message: /GET \/x → 403/ });
});

t.test('a request that gets no answer in time rejects with RequestTimeoutError', async (t) => {
  const f = fakeFetch(() => 'hang');
  const http = new MatrixHttp(HS, 'tok', f.fetch);
  const err = await http.request('GET', '/slow', undefined, { timeoutMs: 20 }).catch((e: unknown) => e);
  t.type(err, RequestTimeoutError);
  t.match(err, { message: 'GET /slow timed out after 20 ms' });
  t.equal(f.seen[0]!.signal?.aborted, true, 'the fetch itself was aborted');
});

t.test('close() aborts what is in flight; later requests reject at once', async (t) => {
  const f = fakeFetch(() => 'hang');
  const http = new MatrixHttp(HS, 'tok', f.fetch);
  const pending = http.request('GET', '/long', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e);
  http.close();
  t.type(await pending, ClientClosedError);
  t.type(await http.request('GET', '/again').catch((e: unknown) => e), ClientClosedError);
  t.equal(f.seen.length, 1, 'nothing sent after close');
});

t.test('a caller abort ends the request with an abort error', async (t) => {
  const f = fakeFetch(() => 'hang');
  const http = new MatrixHttp(HS, 'tok', f.fetch);
  const ac = new AbortController();
  const pending = http.request('GET', '/sync', undefined, { signal: ac.signal }).catch((e: unknown) => e);
  ac.abort();
  t.match(await pending, { message: 'GET /sync aborted' });
});

t.test('sync: next_batch and to_device events; a malformed answer is an error', async (t) => {
  let body: unknown = { next_batch: 'b2', to_device: { events: [{ type: 'x' }] } };
  const f = fakeFetch(() => ({ status: 200, body }));
  const api = new MatrixApi(new MatrixHttp(HS, 'tok', f.fetch));
  t.same(await api.sync('b1', 1000, new AbortController().signal), {
    nextBatch: 'b2',
    toDevice: [{ type: 'x' }],
  });
  t.equal(f.seen[0]!.url.search, '?since=b1&timeout=1000');
  body = { next_batch: 'b3' };
  t.same(await api.sync(undefined, 1000, new AbortController().signal), { nextBatch: 'b3', toDevice: [] });
  t.equal(f.seen[1]!.url.search, '', 'the first sync is an initial one');
  body = { nope: true };
  await t.rejects(api.sync('b3', 1000, new AbortController().signal), /\/sync answered/);
});

t.test('sendEvent and sendToDevice', async (t) => {
  const f = fakeFetch(() => ({ status: 200, body: { event_id: '$s' } }));
  const api = new MatrixApi(new MatrixHttp(HS, 'tok', f.fetch));
  t.equal(
    await api.sendEvent('!r:x', 'org.matrix.msc4143.rtc.member', 't1', { a: 1 }, { sticky: '3600000' }),
    '$s',
  );
  t.equal(f.seen[0]!.url.pathname, '/_matrix/client/v3/rooms/!r%3Ax/send/org.matrix.msc4143.rtc.member/t1');
  t.equal(f.seen[0]!.url.search, '?sticky=3600000');
  await api.sendToDevice('m.call.invite', 'D.1', { '@sfu:x': { SFU: { a: 1 } } });
  t.equal(f.seen[1]!.url.pathname, '/_matrix/client/v3/sendToDevice/m.call.invite/D.1');
  t.same(f.seen[1]!.body, { messages: { '@sfu:x': { SFU: { a: 1 } } } });
});

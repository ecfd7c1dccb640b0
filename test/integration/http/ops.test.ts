import t from 'tap';
import { buildTestSfu, opsApp, testConfig } from '../../../harness/sfu.js';

t.test('separate listeners by default; one when the ports are equal', async (t) => {
  const a = buildTestSfu();
  t.same(
    a.http.instances.map((i) => i.serves),
    [['appservice'], ['ops']],
  );
  const b = buildTestSfu(testConfig({ http: { port: 9000 } }));
  t.same(
    b.http.instances.map((i) => i.serves),
    [['appservice', 'ops']],
  );
  const r = await opsApp(b).inject({ method: 'GET', url: '/healthz' });
  t.equal(r.statusCode, 200, 'shared instance serves ops routes');
  await a.stop('test');
  await b.stop('test');
});

t.test('/healthz is 200 while the process runs', async (t) => {
  const sfu = buildTestSfu();
  t.teardown(() => sfu.stop('test'));
  const r = await opsApp(sfu).inject({ method: 'GET', url: '/healthz' });
  t.equal(r.statusCode, 200);
  t.same(r.json(), { status: 'ok' });
});

t.test(
  '/readyz is 503 until the homeserver answered, the focus is set up and media is up, then 200',
  async (t) => {
    const sfu = buildTestSfu();
    t.teardown(() => sfu.stop('test'));
    const app = opsApp(sfu);
    let r = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(r.statusCode, 503);
    t.equal(r.json().ready, false);
    sfu.readiness.set('media', true, 'ok');
    r = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(r.statusCode, 503, 'homeserver still missing');
    t.same(r.json().checks.homeserver.ok, false);
    sfu.readiness.set('homeserver', true, 'ok');
    r = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(r.statusCode, 503, 'focus set-up still missing');
    sfu.readiness.set('matrix', true, 'ok');
    r = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(r.statusCode, 200);
    t.same(r.json(), {
      ready: true,
      checks: {
        homeserver: { ok: true, detail: 'ok' },
        matrix: { ok: true, detail: 'ok' },
        media: { ok: true, detail: 'ok' },
      },
    });
    sfu.readiness.set('homeserver', false, 'gone');
    r = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(r.statusCode, 503, 'goes back to not ready');
  },
);

t.test('/metrics exposes the sfu_ metrics in Prometheus text format', async (t) => {
  const sfu = buildTestSfu();
  t.teardown(() => sfu.stop('test'));
  sfu.readiness.set('media', true, 'ok');
  const r = await opsApp(sfu).inject({ method: 'GET', url: '/metrics' });
  t.equal(r.statusCode, 200);
  t.match(r.headers['content-type'], /text\/plain/);
  for (const name of [
    'sfu_build_info',
    'sfu_ready',
    'sfu_transactions_total',
    'sfu_appservice_events_total',
    'sfu_events_ignored_total',
    'sfu_udp_receive_drops_total',
  ]) {
    t.match(r.body, new RegExp(`# TYPE ${name} `), name);
  }
  t.match(r.body, /sfu_ready\{check="media"\} 1/);
});

t.test('/metrics includes default Node metrics with a default registry', async (t) => {
  const { Metrics } = await import('../../../src/observability/metrics.js');
  const m = new Metrics();
  const text = await m.registry.metrics();
  t.match(text, /process_cpu_user_seconds_total/);
  t.match(text, /nodejs_eventloop_lag_seconds/);
});

t.test('/status describes the focus and readiness', async (t) => {
  const sfu = buildTestSfu();
  t.teardown(() => sfu.stop('test'));
  const r = await opsApp(sfu).inject({ method: 'GET', url: '/status' });
  t.equal(r.statusCode, 200);
  t.match(r.json(), {
    name: 'matrix-sfu',
    focus: { user_id: '@sfu:example.org', device_id: 'SFUDEV1' },
    to_device_transport: 'push',
    ready: false,
  });
});

t.test('ops routes need no token; appservice routes are not on the ops listener', async (t) => {
  const sfu = buildTestSfu();
  t.teardown(() => sfu.stop('test'));
  const r = await opsApp(sfu).inject({ method: 'PUT', url: '/_matrix/app/v1/transactions/1', payload: '{}' });
  t.equal(r.statusCode, 404);
  t.equal(r.json().errcode, 'M_UNRECOGNIZED');
});

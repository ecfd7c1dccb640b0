// HomeserverProbe.soon(): a failed homeserver request elsewhere makes the probe check at once (so /readyz says
// why soon after an outage starts), at most once per SOON_MIN_INTERVAL_MS and never two checks at once.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import t from 'tap';
import { HomeserverProbe, SOON_MIN_INTERVAL_MS } from '../../../src/appservice/homeserverProbe.js';
import { Readiness } from '../../../src/observability/readiness.js';
import { FakeClock } from '../../helpers/fakeClock.js';

t.test('soon() checks now when the last check is old enough, else not', async (t) => {
  let status = 200;
  let hits = 0;
  const srv = createServer((_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(status === 200 ? '{"versions":["v1.11"]}' : '<html>502</html>');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    srv.close();
  });
  const clock = new FakeClock();
  const readiness = new Readiness(['homeserver']);
  const probe = new HomeserverProbe({
    baseUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    timeoutMs: 2000,
    readiness,
    clock,
    log: pino({ level: 'silent' }),
  });
  t.teardown(() => {
    probe.close();
  });
  t.equal(await probe.check(), true);
  t.equal(hits, 1);
  status = 502;
  probe.soon();
  await new Promise((r) => setTimeout(r, 100));
  t.equal(hits, 1, 'right after a check: nothing');
  clock.jump(SOON_MIN_INTERVAL_MS);
  probe.soon();
  probe.soon();
  const until = Date.now() + 5000;
  while (readiness.snapshot()['homeserver']?.ok !== false && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(hits, 2, 'one check for two calls (the second while it was in flight)');
  t.match(readiness.snapshot()['homeserver'], { ok: false, detail: /answered 502/ });
});

t.test(
  'onRecovered: called when a check succeeds after a failed one — not at the first success, not twice',
  async (t) => {
    let status = 200;
    const srv = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(status === 200 ? '{"versions":["v1.11"]}' : '<html>502</html>');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      srv.close();
    });
    let recovered = 0;
    const probe = new HomeserverProbe({
      baseUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
      timeoutMs: 2000,
      readiness: new Readiness(['homeserver']),
      clock: new FakeClock(),
      log: pino({ level: 'silent' }),
      onRecovered: () => {
        recovered++;
      },
    });
    t.teardown(() => {
      probe.close();
    });
    // rows: [status answered, recoveries so far]
    const rows: [number, number][] = [
      [200, 0],
      [200, 0],
      [502, 0],
      [502, 0],
      [200, 1],
      [200, 1],
      [502, 1],
      [200, 2],
    ];
    for (const [s, want] of rows) {
      status = s;
      await probe.check();
      t.equal(recovered, want, `after a ${s}`);
    }
  },
);

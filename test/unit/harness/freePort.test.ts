/**
 * harness/net.ts freePort: ports come from this process's slice below the kernel's ephemeral range (so no
 * client socket can take one before the test's server listens), successive calls differ, and a port in use is
 * skipped.
 */
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { freePort } from '../../../harness/net.js';

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      resolve(srv);
    });
  });

t.test('from this process’s slice, below the ephemeral range; distinct; listenable', async (t) => {
  const start = 20_000 + (process.pid % 200) * 60;
  const ports = [await freePort(), await freePort(), await freePort()];
  for (const p of ports) {
    t.ok(p >= start && p < start + 60, `${p} in [${start}, ${start + 60})`);
    t.ok(p < 32_768, 'below the ephemeral range');
  }
  t.equal(new Set(ports).size, 3, 'distinct');
  const srv = await listen(ports[0] ?? 0);
  t.teardown(() => srv.close());
  t.pass('a server can listen on the port handed out');
});

t.test('a port in use is skipped', async (t) => {
  // Occupy every port of the slice but one: freePort must return that one.
  const start = 20_000 + (process.pid % 200) * 60;
  const held: Server[] = [];
  t.teardown(() => {
    for (const s of held) {
      s.close();
    }
  });
  const keep = start + 37;
  for (let p = start; p < start + 60; p++) {
    if (p !== keep) {
      held.push(await listen(p).catch(() => createServer()));
    }
  }
  t.equal(await freePort(), keep, 'the only free port of the slice');
});

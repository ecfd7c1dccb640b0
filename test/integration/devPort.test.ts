/** `npm run dev` with one of its ports taken: which port, which variable moves it, exit 2, no stack trace. */
import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { startDev } from '../helpers/devProcess.js';

t.test('npm run dev with a port taken: says which and how to move it, exit 2', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    blocker.close();
  });
  const taken = (blocker.address() as AddressInfo).port;
  const env = { ...process.env, DEV_HS_PORT: '0', DEV_AS_PORT: '0', DEV_HTTP_PORT: String(taken) };
  const { dev, out, kill } = startDev([], env);
  t.teardown(() => {
    kill('SIGKILL');
  });
  const code = await new Promise<number | null>((resolve) => {
    dev.once('exit', (c) => {
      resolve(c);
    });
    setTimeout(() => {
      resolve(null);
    }, 60_000);
  });
  t.equal(code, 2, `exit 2 (${out().slice(-600)})`);
  t.match(out(), new RegExp(`npm run dev: port ${taken} is already in use: .*DEV_HTTP_PORT=`));
  t.notMatch(out(), /\n\s+at /, 'no stack trace');
});

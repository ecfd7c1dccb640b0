/** `npm run dev` starts the SFU with the test homeserver, and `npm run dev:call` connects two clients through it. */
import { spawn } from 'node:child_process';
import t from 'tap';
import { freePort, waitExit } from '../../harness/net.js';

const root = new URL('../../', import.meta.url).pathname;

t.test('npm run dev + npm run dev:call', async (t) => {
  const env = {
    ...process.env,
    DEV_HS_PORT: String(await freePort()),
    DEV_AS_PORT: String(await freePort()),
    DEV_HTTP_PORT: String(await freePort()),
  };
  const dev = spawn('npm', ['run', 'dev'], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let devOut = '';
  dev.stdout.on('data', (d: Buffer) => (devOut += d.toString()));
  dev.stderr.on('data', (d: Buffer) => (devOut += d.toString()));
  const killDev = (signal: NodeJS.Signals) => {
    try {
      process.kill(-dev.pid!, signal);
    } catch {
      // already gone
    }
  };
  t.teardown(() => {
    killDev('SIGKILL');
  });
  const end = Date.now() + 60_000;
  while (!/^ready\./m.test(devOut) && Date.now() < end && dev.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
  }
  t.match(devOut, /^ready\. Try: npm run dev:call$/m, `dev started (${devOut.slice(-500)})`);
  t.match(devOut, new RegExp(`test homeserver  http://127\\.0\\.0\\.1:${env.DEV_HS_PORT}`));

  const call = spawn('npm', ['run', 'dev:call'], {
    cwd: root,
    env: { ...env, DEV_HS_URL: `http://127.0.0.1:${env.DEV_HS_PORT}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let callOut = '';
  call.stdout.on('data', (d: Buffer) => (callOut += d.toString()));
  call.stderr.on('data', (d: Buffer) => (callOut += d.toString()));
  const exit = await waitExit(call, 90_000);
  t.equal(exit.code, 0, `dev:call exit code (${callOut.slice(-800)})`);
  t.match(callOut, /^alice connected$/m);
  t.match(callOut, /^bob connected$/m);

  // SIGTERM to the whole group (npm and the node process it runs); the output pipe ends when both are gone.
  const ended = new Promise<void>((resolve) => dev.stdout.once('end', resolve));
  killDev('SIGTERM');
  await Promise.race([ended, new Promise((r) => setTimeout(r, 20_000))]);
  t.match(devOut, /^stopped$/m, 'dev stops on SIGTERM');
});

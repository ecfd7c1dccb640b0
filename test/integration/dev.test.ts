/** `npm run dev` starts the SFU with the test homeserver, and `npm run dev:call` connects two clients through it. */
import { spawn } from 'node:child_process';
import t from 'tap';
import { startDev } from '../helpers/devProcess.js';
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

t.test(
  'npm run dev -- --foci 2: two server names, one focus each, both ready, stops on SIGTERM',
  async (t) => {
    const env = { ...process.env, DEV_HS_PORT: '0', DEV_AS_PORT: '0', DEV_HTTP_PORT: '0' };
    const { dev, out, kill } = startDev(['--foci', '2'], env);
    t.teardown(() => {
      kill('SIGKILL');
    });
    const end = Date.now() + 60_000;
    while (!/^(ready|NOT ready)/m.test(out()) && Date.now() < end && dev.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    t.match(out(), /^ready\. 2 foci/m, `dev started (${out().slice(-800)})`);
    const hsUrls = [...out().matchAll(/^ {2}([a-z]\.example) +(http:\/\/127\.0\.0\.1:\d+)$/gm)];
    t.same(
      hsUrls.map((m) => m[1]),
      ['a.example', 'b.example'],
      'one homeserver URL per server name',
    );
    const foci = [
      ...out().matchAll(
        /^focus ([a-z]\.example) +(@sfu:[a-z]\.example) \/ (\S+) +ops (http:\/\/\S+\/readyz)/gm,
      ),
    ];
    t.same(
      foci.map((m) => [m[1], m[2], m[3]]),
      [
        ['a.example', '@sfu:a.example', 'SFU'],
        ['b.example', '@sfu:b.example', 'SFU'],
      ],
      'one focus per server name, named after it',
    );
    for (const m of foci) {
      const res = await fetch(m[4]!, { signal: AbortSignal.timeout(5000) });
      t.equal(res.status, 200, `${m[1]} focus /readyz`);
      await res.arrayBuffer();
    }
    // Each name's listener answers as its own homeserver (a login flow query needs no account).
    for (const m of hsUrls) {
      const res = await fetch(`${m[2]}/_matrix/client/versions`, { signal: AbortSignal.timeout(5000) });
      t.equal(res.status, 200, `${m[1]} homeserver answers`);
      await res.arrayBuffer();
    }
    const ended = new Promise<void>((resolve) => dev.stdout.once('end', resolve));
    kill('SIGTERM');
    await Promise.race([ended, new Promise((r) => setTimeout(r, 20_000))]);
    t.match(out(), /^stopped$/m, 'dev stops on SIGTERM');
    for (const m of foci) {
      const gone = await fetch(m[4]!, { signal: AbortSignal.timeout(2000) }).then(
        () => false,
        () => true,
      );
      t.ok(gone, `${m[1]} focus no longer listens`);
    }
  },
);

t.test('npm run dev with a bad --foci: a clear error and a non-zero exit', async (t) => {
  for (const args of [['--foci', '0'], ['--foci', 'two'], ['--foci'], ['--fooci', '2']]) {
    const { dev, out, kill } = startDev(args, process.env);
    t.teardown(() => {
      kill('SIGKILL');
    });
    const exit = await waitExit(dev, 30_000);
    t.not(exit.code, 0, `${args.join(' ')}: non-zero exit`);
    t.match(out(), /npm run dev: .*\nusage: npm run dev/, `${args.join(' ')}: says what is wrong`);
  }
});

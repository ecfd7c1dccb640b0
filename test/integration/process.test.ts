/**
 * The built CLI as a user runs it: help/version, registration generation, config errors (exit 78),
 * and a full start → /healthz → /readyz → transaction → SIGTERM → exit 0 cycle against a stub homeserver.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { startTestHomeserver, type AsRegistration } from '../../harness/homeserver/index.js';
import { freePort, pollUntil, waitExit } from '../../harness/net.js';

const root = new URL('../../', import.meta.url).pathname;
const main = join(root, 'dist/src/main.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

if (!existsSync(main)) {
  t.fail(`${main} is missing: run "npm run build" first (npm test does)`);
  process.exit(1);
}

/** config.example.yaml pointed at a test homeserver, with free ports and media on loopback. */
function exampleConfig(
  hsUrl: string,
  asPort: number,
  httpPort: number,
): Record<string, Record<string, unknown>> {
  const example = parse(readFileSync(join(root, 'config.example.yaml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  example['homeserver']!['url'] = hsUrl;
  example['appservice']!['port'] = asPort;
  example['http']!['port'] = httpPort;
  example['media']!['bind_address'] = '127.0.0.1';
  return example;
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'sfu-proc-'));
t.teardown(() => {
  rmSync(dir, { recursive: true, force: true });
});

t.test('--help and --version', async (t) => {
  const h = cli(['--help']);
  t.equal(h.code, 0);
  t.match(h.stdout, /Usage: matrix-sfu/);
  t.match(h.stdout, /--generate-registration/);
  const v = cli(['--version']);
  t.equal(v.code, 0);
  t.equal(v.stdout.trim(), pkg.version);
});

t.test('bad command lines exit 64', async (t) => {
  for (const args of [[], ['--bogus'], ['-r', '-c', 'x.yaml'], ['-u', 'http://x', '-c', 'x.yaml']]) {
    const r = cli(args);
    t.equal(r.code, 64, JSON.stringify(args));
    t.match(r.stderr, /matrix-sfu: /);
  }
});

t.test('-r writes a registration with fresh tokens', async (t) => {
  const cfg = join(dir, 'gen-config.yaml');
  writeFileSync(cfg, readFileSync(join(root, 'config.example.yaml')));
  const out = join(dir, 'reg.yaml');
  const r = cli(['-r', '-u', 'http://sfu.internal:9000', '-c', cfg, '-f', out]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /wrote/);
  const reg = parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  t.equal(reg['url'], 'http://sfu.internal:9000');
  t.equal(reg['sender_localpart'], 'sfu');
  t.equal(reg['receive_ephemeral'], true);
  t.equal(reg['de.sorunome.msc2409.push_ephemeral'], true);
  t.equal(statSync(out).mode & 0o777, 0o600, 'tokens are not world-readable');
  const first = reg['as_token'];
  cli(['-r', '-u', 'http://sfu.internal:9000', '-c', cfg, '-f', out]);
  const again = parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  t.not(again['as_token'], first, 'a new run makes new tokens');
});

t.test('--check-config refuses a registration that cannot receive to-device (push transport)', async (t) => {
  const sub = mkdtempSync(join(dir, 'nopush-'));
  const cfg = join(sub, 'config.yaml');
  writeFileSync(cfg, readFileSync(join(root, 'config.example.yaml')));
  const regFile = join(sub, 'registration.yaml');
  t.equal(cli(['-r', '-u', 'http://127.0.0.1:9000', '-c', cfg, '-f', regFile]).code, 0);
  t.equal(cli(['-c', cfg, '--check-config']).code, 0, 'as generated: valid');
  const reg = parse(readFileSync(regFile, 'utf8')) as Record<string, unknown>;
  delete reg['receive_ephemeral'];
  delete reg['de.sorunome.msc2409.push_ephemeral'];
  writeFileSync(regFile, stringify(reg));
  const r = cli(['-c', cfg, '--check-config']);
  t.equal(r.code, 78, 'refused');
  t.match(
    r.stderr,
    /registration .*registration\.yaml: to_device\.transport is push but the registration sets neither receive_ephemeral nor de\.sorunome\.msc2409\.push_ephemeral.*add "receive_ephemeral: true"/,
  );
});

t.test('a bad config exits 78 with one line per problem naming its path', async (t) => {
  const cfg = join(dir, 'bad.yaml');
  writeFileSync(
    cfg,
    stringify({
      homeserver: { url: 'http://localhost:8008', server_name: 'example.org' },
      media: { port_range: { min: 80, max: 90 } },
      keepalive: { intervl_s: 5 },
    }),
  );
  const r = cli(['-c', cfg]);
  t.equal(r.code, 78);
  const lines = r.stderr.trim().split('\n');
  t.ok(lines.includes('config.media.port_range.min: must be >= 1024'), r.stderr);
  t.ok(lines.includes('config.keepalive.intervl_s: unknown key'), r.stderr);
  const missing = cli(['-c', join(dir, 'nope.yaml')]);
  t.equal(missing.code, 78);
  t.match(missing.stderr, /config: cannot read .*nope\.yaml: ENOENT/);
});

t.test(
  'start from config.example.yaml against the test homeserver, become ready, stop on SIGTERM with exit 0',
  async (t) => {
    const hs = await startTestHomeserver({ serverName: 'example.org', logger: false });
    t.teardown(() => hs.close());
    const [asPort, httpPort] = [await freePort(), await freePort()];

    const example = exampleConfig(hs.url, asPort, httpPort);
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, stringify(example));
    t.equal(
      cli(['-r', '-u', `http://127.0.0.1:${asPort}`, '-c', cfg, '-f', join(dir, 'registration.yaml')]).code,
      0,
    );
    t.equal(cli(['-c', cfg, '--check-config']).code, 0, 'config and registration check out');
    const reg = parse(readFileSync(join(dir, 'registration.yaml'), 'utf8')) as AsRegistration;
    hs.addAppservice(reg);

    const child = spawn(process.execPath, [main, '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    t.teardown(() => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
      }
    });

    t.equal(
      await pollUntil(`http://127.0.0.1:${httpPort}/healthz`, (s) => s === 200, 20_000),
      200,
      'healthz',
    );
    t.equal(await pollUntil(`http://127.0.0.1:${httpPort}/readyz`, (s) => s === 200, 20_000), 200, 'readyz');
    const hc = cli(['--healthcheck', '-c', cfg]);
    t.equal(hc.code, 0, `--healthcheck while running: ${hc.stdout}${hc.stderr}`);
    t.match(hc.stdout, new RegExp(`healthy: http://127\\.0\\.0\\.1:${httpPort}/healthz: 200`));
    const txn = await fetch(`http://127.0.0.1:${asPort}/_matrix/app/v1/transactions/1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${reg.hs_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [] }),
    });
    t.equal(txn.status, 200, 'transaction accepted');

    child.kill('SIGTERM');
    const exit = await waitExit(child, 10_000);
    t.equal(exit.code, 0, `exit code (output: ${output.slice(-2000)})`);
    const down = cli(['--healthcheck', '-c', cfg]);
    t.equal(down.code, 1, '--healthcheck after the stop: unhealthy');
    t.match(down.stderr, /unhealthy: .*no answer/);
    // Exit 0 also proves the stop beat the 4.5 s deadline, after which main.ts exits 1.
    t.match(output, /"msg":"matrix-sfu started"/);
    t.match(output, /"msg":"stopped"/);
    t.equal(
      output.split('started without the Node flags --initial-old-space-size=256 --no-memory-reducer').length -
        1,
      1,
      'started without the Node flags npm start passes: said once',
    );
    t.notMatch(output, new RegExp(reg.hs_token), 'the hs_token never reaches the log');
    t.notMatch(output, new RegExp(reg.as_token), 'the as_token never reaches the log');
    t.same(hs.rejections, [], 'the SFU sent nothing the homeserver rejects');
  },
);

t.test(
  'a registration the homeserver has not loaded: /readyz and the log say so, with the fix',
  async (t) => {
    const hs = await startTestHomeserver({ serverName: 'example.org', logger: false });
    t.teardown(() => hs.close());
    const [asPort, httpPort] = [await freePort(), await freePort()];
    const example = exampleConfig(hs.url, asPort, httpPort);
    const sub = mkdtempSync(join(dir, 'unloaded-'));
    const cfg = join(sub, 'config.yaml');
    writeFileSync(cfg, stringify(example));
    t.equal(
      cli(['-r', '-u', `http://127.0.0.1:${asPort}`, '-c', cfg, '-f', join(sub, 'registration.yaml')]).code,
      0,
    );
    // Not hs.addAppservice(reg): the homeserver does not know the tokens, as when app_service_config_files misses it.
    const child = spawn(process.execPath, [main, '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    t.teardown(() => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
      }
    });
    let matrix: { ok?: boolean; detail?: string } | undefined;
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const body = (await fetch(`http://127.0.0.1:${httpPort}/readyz`)
        .then((r) => r.json())
        .catch(() => undefined)) as
        { checks?: Record<string, { ok?: boolean; detail?: string }> } | undefined;
      matrix = body?.checks?.['matrix'];
      if (matrix?.detail?.includes('M_UNKNOWN_TOKEN') === true) {
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    t.equal(matrix?.ok, false, 'not ready');
    t.match(matrix?.detail, /M_UNKNOWN_TOKEN.*app_service_config_files.*restart the homeserver/);
    // stdout is a pipe: the log line may arrive after /readyz already says it.
    const hintLine = /"hint":"the homeserver does not know this registration's as_token/;
    const logUntil = Date.now() + 10_000;
    while (!hintLine.test(output) && Date.now() < logUntil) {
      await new Promise((r) => setTimeout(r, 100));
    }
    t.match(output, hintLine, 'the log says it too');
    t.equal(child.exitCode, null, 'still running: it retries, so fixing the homeserver is enough');
    child.kill('SIGTERM');
    await waitExit(child, 10_000);
  },
);

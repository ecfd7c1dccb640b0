/**
 * scripts/build-native.js, the install script, into a scratch folder (SFU_NATIVE_BUILD_DIR): with the system
 * compiler it builds an add-on that loads; with no compiler (CC=/nonexistent, or cc not on PATH) it prints one
 * line saying the TypeScript SRTP is used, exits 0 and leaves no add-on behind — not even an earlier one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadNativeSrtp } from '../../../../src/media/srtp/nativeSrtp.js';

const SCRIPT = join(import.meta.dirname, '..', '..', '..', '..', 'scripts', 'build-native.js');
const hasCc = spawnSync('cc', ['--version']).status === 0;

function build(dir: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [SCRIPT], {
    encoding: 'utf8',
    env: { ...process.env, SFU_NATIVE_BUILD_DIR: dir, SFU_NATIVE_VERBOSE: '0', ...env },
  });
  return { status: r.status, lines: r.stdout.split('\n').filter((l) => l !== ''), stderr: r.stderr };
}

t.test('the build script', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'srtp-build-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const addon = join(dir, 'sfu_native.node');

  t.test(
    'with the system compiler: an add-on that loads',
    { skip: !hasCc && 'no cc on this machine' },
    async (t) => {
      const r = build(dir, {});
      t.equal(r.status, 0);
      t.match(r.lines, [/^native SRTP add-on built: .*sfu_native\.node \(\d+\.\d s\)$/]);
      t.equal(r.lines.length, 1, 'one line');
      t.equal(loadNativeSrtp(addon).reason, undefined, 'it loads');
    },
  );

  for (const [what, env] of [
    ['CC=/nonexistent', { CC: '/nonexistent' }],
    ['no cc on PATH', { PATH: '/nonexistent' }],
  ] as const) {
    t.test(`${what}: one line, exit 0, no add-on`, async (t) => {
      const r = build(dir, env);
      t.equal(r.status, 0, 'the install does not fail');
      t.equal(r.lines.length, 1, 'one line');
      t.match(
        r.lines[0],
        /^native SRTP add-on not built \(compiling: .* not found\); the pure-TypeScript SRTP is used$/,
      );
      t.equal(r.stderr, '', 'nothing on stderr');
      t.notOk(existsSync(addon), 'no add-on (an earlier one is removed)');
    });
  }
});

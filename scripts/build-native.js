// The `install` script (npm ci runs it): builds the native SRTP add-on, native/*.c → build/native/sfu_native.node,
// with the system C compiler (`CC`, default `cc`) against the headers of the Node that runs this script
// (<prefix>/include/node: node_api.h and OpenSSL's headers). It does not link OpenSSL: the add-on takes the
// EVP_* symbols from the node process that loads it, so it is built for that Node. No node-gyp, no network.
//
// It never fails the install: when anything is missing or fails it prints one line saying so and exits 0, and
// src/media/srtp/ uses its pure-TypeScript SRTP instead (same bytes). A stale add-on is removed first, so a
// failed rebuild never leaves one behind. `SFU_NATIVE_VERBOSE=1` prints the compiler's output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ABI = 8; // native/addon.c ABI_VERSION, checked again by src/media/srtp/nativeSrtp.ts
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'native');
// SFU_NATIVE_BUILD_DIR: another output folder (the build script's own test builds there).
const outDir = process.env.SFU_NATIVE_BUILD_DIR ?? join(root, 'build', 'native');
const target = join(outDir, 'sfu_native.node');
const verbose = process.env.SFU_NATIVE_VERBOSE === '1';

class NotBuilt extends Error {
  name = 'NotBuilt';
}

/** Runs a command; throws NotBuilt with `what` and the first line of its output when it fails. */
function run(what, cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (verbose && output !== '') {
    process.stderr.write(`${output}\n`);
  }
  if (r.error !== undefined) {
    throw new NotBuilt(
      r.error.code === 'ENOENT' ? `${what}: ${cmd} not found` : `${what}: ${r.error.message}`,
    );
  }
  if (r.status !== 0) {
    const first = output.split('\n').find((l) => /error/i.test(l)) ?? output.split('\n')[0] ?? '';
    throw new NotBuilt(`${what} failed (${r.status ?? r.signal}): ${first.slice(0, 200)}`);
  }
}

function build() {
  if (process.platform === 'win32') {
    throw new NotBuilt('Windows is not supported by this build script');
  }
  const include = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (!existsSync(join(include, 'node_api.h'))) {
    throw new NotBuilt(`Node's headers are not at ${include}`);
  }
  const sources = readdirSync(srcDir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(srcDir, f));
  const [cc, ...ccArgs] = (process.env.CC ?? 'cc').trim().split(/\s+/);
  const tmp = join(outDir, `sfu_native.${process.pid}.tmp.node`);
  const link = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : ['-Wl,-z,now'];
  try {
    run('compiling', cc, [
      ...ccArgs,
      '-std=c11',
      '-O2',
      '-fPIC',
      '-shared',
      '-fvisibility=hidden',
      '-Wall',
      '-Wextra',
      `-I${include}`,
      ...link,
      '-o',
      tmp,
      ...sources,
    ]);
    // Loaded in a child Node: a symbol this Node does not export fails the load here (-z now), not a packet later.
    run('loading it', process.execPath, [
      '-e',
      `if (require(${JSON.stringify(tmp)}).abi !== ${ABI}) { throw new Error('abi mismatch'); }`,
    ]);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
}

const t0 = process.hrtime.bigint();
try {
  mkdirSync(outDir, { recursive: true });
  rmSync(target, { force: true });
  build();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`native SRTP add-on built: ${target} (${s.toFixed(1)} s)\n`);
} catch (e) {
  const why = e instanceof NotBuilt ? e.message : String(e);
  process.stdout.write(`native SRTP add-on not built (${why}); the pure-TypeScript SRTP is used\n`);
}
process.exit(0);

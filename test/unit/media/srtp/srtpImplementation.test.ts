/**
 * media/srtp/createSrtpCipher and nativeSrtp: which implementation is used and why. SFU_NATIVE=0 selects the
 * TypeScript SRTP with that reason; the loader names why an add-on is not used (missing, not loadable, wrong
 * shape, wrong ABI) instead of throwing; the add-on the install built loads here and is the default;
 * `native: false` forces the TypeScript SRTP. Bad profiles and master keys are named errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  createSrtpCipher,
  createSrtpCipherFromKeys,
  srtpImplementation,
} from '../../../../src/media/srtp/createSrtpCipher.js';
import {
  loadNativeSrtp,
  nativeSrtpPath,
  NATIVE_SRTP_ABI,
  NATIVE_SRTP_FILE,
} from '../../../../src/media/srtp/nativeSrtp.js';
import { SRTP_AEAD_AES_128_GCM } from '../../../../src/media/srtp/srtpProfile.js';
import { NATIVE_SKIP } from './impls.js';

const KEY = Buffer.alloc(16, 1);
const SALT = Buffer.alloc(12, 2);

t.test('SFU_NATIVE=0: the TypeScript SRTP, and the reason', async (t) => {
  t.same(srtpImplementation({ SFU_NATIVE: '0' }), { native: false, reason: 'SFU_NATIVE=0' });
  const c = createSrtpCipher(SRTP_AEAD_AES_128_GCM, KEY, SALT, { env: { SFU_NATIVE: '0' } });
  t.equal(c.native, false);
});

t.test('native: false is the TypeScript SRTP whatever is built', async (t) => {
  t.equal(createSrtpCipher(SRTP_AEAD_AES_128_GCM, KEY, SALT, { native: false }).native, false);
});

t.test('the loader says why, instead of throwing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'srtp-load-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const missing = join(dir, 'none.node');
  t.match(loadNativeSrtp(missing), {
    binding: undefined,
    reason: /is not there \(the install did not build it\)/,
  });
  const garbage = join(dir, 'garbage.node');
  writeFileSync(garbage, 'not a shared object');
  t.match(loadNativeSrtp(garbage), { binding: undefined, reason: /garbage\.node does not load: / });
  const shapeless = join(dir, 'shapeless.cjs');
  writeFileSync(shapeless, 'module.exports = { abi: 1, createContext() {} };');
  t.match(loadNativeSrtp(shapeless), { binding: undefined, reason: /has no encryptRtp\(\)/ });
  const oldAbi = join(dir, 'old.cjs');
  writeFileSync(
    oldAbi,
    `const f = () => 0; module.exports = { abi: 0, createContext: f, encryptRtp: f, decryptRtp: f, encryptRtcp: f, decryptRtcp: f, sendBatch: f, watchReadable: f, unwatch: f, watchPause: f, recvBatch: f, metaAddress: f, gsoStats: f, watchesReadable: f };`,
  );
  t.match(loadNativeSrtp(oldAbi), {
    binding: undefined,
    reason: new RegExp(`has ABI 0, not ${NATIVE_SRTP_ABI}`),
  });
});

t.test(
  'the add-on built by the install script loads and is the default',
  { skip: NATIVE_SKIP },
  async (t) => {
    t.ok(nativeSrtpPath().endsWith(NATIVE_SRTP_FILE), 'looked for in the package root');
    t.equal(loadNativeSrtp(nativeSrtpPath()).reason, undefined, 'no reason not to use it');
    t.same(srtpImplementation({}), { native: true });
    t.equal(createSrtpCipher(SRTP_AEAD_AES_128_GCM, KEY, SALT, { env: {} }).native, true);
    t.equal(
      createSrtpCipher(SRTP_AEAD_AES_128_GCM, KEY, SALT, { native: true, env: { SFU_NATIVE: '0' } }).native,
      true,
    );
  },
);

t.test('bad profiles and master keys are named errors', async (t) => {
  t.throws(() => createSrtpCipher(2, KEY, SALT), { name: 'SrtpProfileError', message: /0x0002/ });
  t.throws(() => createSrtpCipher(SRTP_AEAD_AES_128_GCM, KEY, Buffer.alloc(14)), { name: 'SrtpKeyError' });
  t.throws(() => createSrtpCipher(1, Buffer.alloc(32), Buffer.alloc(14)), { name: 'SrtpKeyError' });
  const gcmKeys = { key: KEY, salt: SALT, authKey: Buffer.alloc(0) };
  for (const native of [false, ...(NATIVE_SKIP === false ? [true] : [])]) {
    t.ok(
      createSrtpCipherFromKeys(SRTP_AEAD_AES_128_GCM, { rtp: gcmKeys, rtcp: gcmKeys }, { native }),
      'fitting keys',
    );
    t.throws(
      () =>
        createSrtpCipherFromKeys(
          SRTP_AEAD_AES_128_GCM,
          { rtp: gcmKeys, rtcp: { ...gcmKeys, salt: Buffer.alloc(14) } },
          { native },
        ),
      { name: 'SrtpKeyError', message: /SRTCP session keys/ },
      `session keys of other lengths (native: ${native})`,
    );
    t.throws(
      () => createSrtpCipherFromKeys(1, { rtp: gcmKeys, rtcp: gcmKeys }, { native }),
      { name: 'SrtpKeyError', message: /SRTP session keys/ },
      `CM without an auth key (native: ${native})`,
    );
  }
});

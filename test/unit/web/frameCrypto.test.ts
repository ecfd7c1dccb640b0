/**
 * frameCrypto (the call page's E2EE) with Node's WebCrypto: frames round-trip; the VP8 keyframe's 10 bytes, an
 * interframe's 3 and Opus's 1 stay in the clear (the SFU reads them) and are authenticated; another key, a
 * changed clear byte, a cut frame or a plain frame do not decrypt; the same frame encrypts differently each
 * time (fresh IV).
 */
import t from 'tap';
import { clearBytes, decryptFrame, deriveKey, encryptFrame } from '../../../web/call/frameCrypto.js';

const bytes = (...b: number[]): Uint8Array<ArrayBuffer> => new Uint8Array(b);
const keyframe = bytes(0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 1, 2, 3, 4, 5, 6, 7, 8);
const delta = bytes(0x31, 0x00, 0x00, 9, 9, 9, 9, 9, 9, 9);
const opus = bytes(0xfc, 0xff, 0xfe, 1, 2, 3);

t.test('clear bytes', async (t) => {
  t.equal(clearBytes('video', keyframe), 10, 'VP8 keyframe (P bit 0)');
  t.equal(clearBytes('video', delta), 3, 'VP8 interframe');
  t.equal(clearBytes('audio', opus), 1, 'Opus TOC');
  t.equal(clearBytes('video', bytes(0x50, 1)), 2, 'never more than the frame');
  t.equal(clearBytes('video', bytes()), 0);
});

t.test('round trip, clear header, wrong key and tampering', async (t) => {
  const key = await deriveKey('correct horse');
  const other = await deriveKey('battery staple');
  for (const [name, kind, frame] of [
    ['keyframe', 'video', keyframe],
    ['interframe', 'video', delta],
    ['opus', 'audio', opus],
  ] as const) {
    const sealed = await encryptFrame(key, kind, frame);
    const n = clearBytes(kind, frame);
    t.same([...sealed.subarray(0, n)], [...frame.subarray(0, n)], `${name}: header in the clear`);
    t.equal(sealed[sealed.length - 1], n, `${name}: clear length in the trailer`);
    t.equal(sealed.length, frame.length + 16 + 12 + 1, `${name}: tag, IV and trailer added`);
    t.same(await decryptFrame(key, sealed), frame, `${name}: decrypts`);
    t.equal(await decryptFrame(other, sealed), undefined, `${name}: another key fails`);
    const changed = sealed.slice();
    changed[0] = (changed[0] ?? 0) ^ 0x80;
    t.equal(await decryptFrame(key, changed), undefined, `${name}: a changed clear byte fails`);
    t.equal(await decryptFrame(key, sealed.subarray(0, sealed.length - 5)), undefined, `${name}: cut fails`);
    t.not(
      Buffer.from(await encryptFrame(key, kind, frame)).toString('hex'),
      Buffer.from(sealed).toString('hex'),
      `${name}: fresh IV`,
    );
  }
  t.equal(await decryptFrame(key, keyframe), undefined, 'a plain frame is not accepted');
  const lying = (await encryptFrame(key, 'video', delta)).slice();
  lying[lying.length - 1] = 250;
  t.equal(await decryptFrame(key, lying), undefined, 'a clear length past the frame fails');
});

/**
 * The send slab (media/sendSlab.ts): views taken between resets do not overlap and start on 8-byte boundaries;
 * reset hands the same memory out again; a slab too full for the next datagram moves to a new buffer and leaves
 * what was taken from the old one untouched; a datagram larger than the slab still gets its bytes.
 */
import t from 'tap';
import { SendSlab, SLAB_BYTES } from '../../../src/media/sendSlab.js';

t.test('views between resets are disjoint and aligned; reset reuses the memory', async (t) => {
  const slab = new SendSlab(4096);
  const sizes = [1, 7, 8, 9, 1200, 13, 1000];
  const views = sizes.map((n, i) => {
    const v = slab.take(n);
    v.fill(i + 1);
    return v;
  });
  t.same(
    views.map((v) => v.length),
    sizes,
  );
  views.forEach((v, i) => {
    t.ok(
      v.every((x) => x === i + 1),
      `view ${i} kept its bytes`,
    );
    t.equal(v.byteOffset % 8, views[0]!.byteOffset % 8, `view ${i} aligned like the first`);
  });
  t.equal(
    slab.used,
    [1, 7, 8, 9, 1200, 13, 1000].reduce((a, n) => a + Math.ceil(n / 8) * 8, 0),
  );
  slab.reset();
  t.equal(slab.used, 0);
  const again = slab.take(16);
  t.equal(again.buffer, views[0]!.buffer, 'the same memory after a reset');
  t.equal(again.byteOffset, views[0]!.byteOffset);
});

t.test('full: a new buffer; the old views keep their bytes; an oversize datagram fits', async (t) => {
  const slab = new SendSlab(1024);
  const a = slab.take(1000);
  a.fill(0xaa);
  const b = slab.take(100); // 1000 + 100 > 1024
  b.fill(0xbb);
  t.not(b.buffer, a.buffer, 'moved to a new buffer');
  t.ok(
    a.every((x) => x === 0xaa),
    'the old view untouched',
  );
  const big = slab.take(5000);
  t.equal(big.length, 5000, 'larger than the slab');
  t.ok(
    b.every((x) => x === 0xbb),
    'earlier views untouched',
  );
  t.equal(new SendSlab().bytes, SLAB_BYTES);
});

t.test('reserve: offsets into the current buffer, as take hands out; a full slab replaced', async (t) => {
  const slab = new SendSlab(64);
  const first = slab.buffer;
  t.equal(slab.reserve(10), 0);
  t.equal(slab.reserve(5), 16, 'aligned to 8 bytes, after the first');
  const view = slab.take(3);
  t.equal(view.byteOffset - first.byteOffset, 24, 'take continues where reserve left off');
  t.equal(slab.buffer, first, 'still the first buffer');
  t.equal(slab.reserve(60), 0, 'past the end: a new buffer, from its start');
  t.not(slab.buffer, first, 'read the buffer after reserving');
  slab.reset();
  t.equal(slab.reserve(8), 0, 'reset: from the start again');
});

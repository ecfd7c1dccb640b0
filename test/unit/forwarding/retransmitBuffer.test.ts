/**
 * RetransmitBuffer tables: a stored packet is found by its sequence number (also across the 65535→0 wrap),
 * a slot reused by a newer packet no longer answers for the old one, age limit, de-duplication window.
 */
import t from 'tap';
import { RetransmitBuffer } from '../../../src/forwarding/retransmitBuffer.js';

t.test('capacity is a power of two', async (t) => {
  t.equal(new RetransmitBuffer(1000, 1000).capacity, 1024);
  t.equal(new RetransmitBuffer(1, 1000).capacity, 1);
  t.equal(new RetransmitBuffer(1 << 20, 1000).capacity, 1 << 15, 'bounded');
});

t.test('lookup, wrap, reuse, age, duplicates', async (t) => {
  for (const start of [0, 65530, 32767]) {
    const b = new RetransmitBuffer<string>(8, 1000);
    for (let i = 0; i < 10; i++) {
      b.put((start + i) & 0xffff, i * 10, `p${i}`);
    }
    const s = (i: number) => (start + i) & 0xffff;
    t.equal(b.check(s(9), 100, 20), 'send', `${start}: newest`);
    t.equal(b.get(s(9)), 'p9');
    t.equal(b.check(s(2), 100, 20), 'send', `${start}: oldest still held`);
    t.equal(b.check(s(1), 100, 20), 'missing', `${start}: slot reused by +9`);
    t.equal(b.get(s(1)), undefined);
    t.equal(b.check(s(10), 100, 20), 'missing', `${start}: never sent`);
    b.markResent(s(9), 100);
    t.equal(b.check(s(9), 119, 20), 'duplicate', `${start}: within the window`);
    t.equal(b.check(s(9), 120, 20), 'send', `${start}: window over`);
    t.equal(b.check(s(2), 1021, 20), 'too_old', `${start}: older than maxAge`);
    t.equal(b.check(s(2), 1020, 20), 'send', `${start}: exactly maxAge`);
    b.clear();
    t.equal(b.check(s(9), 100, 20), 'missing', `${start}: cleared`);
  }
});

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

t.test('evictsYoung: only a different packet still inside maxAge', async (t) => {
  const rows: { name: string; put: [number, number][]; seq: number; now: number; want: boolean }[] = [
    { name: 'empty slot', put: [], seq: 5, now: 0, want: false },
    { name: 'same number again', put: [[5, 0]], seq: 5, now: 10, want: false },
    { name: 'slot of a young packet', put: [[1, 0]], seq: 5, now: 100, want: true },
    { name: 'at exactly maxAge: still young', put: [[1, 0]], seq: 5, now: 1000, want: true },
    { name: 'past maxAge', put: [[1, 0]], seq: 5, now: 1001, want: false },
    { name: 'across the wrap', put: [[65535, 0]], seq: 3, now: 10, want: true },
  ];
  for (const r of rows) {
    const b = new RetransmitBuffer<string>(4, 1000);
    for (const [seq, at] of r.put) {
      b.put(seq, at, `p${seq}`);
    }
    t.equal(b.evictsYoung(r.seq, r.now), r.want, r.name);
  }
});

t.test('grow keeps every entry, its age and its resend mark, across the wrap', async (t) => {
  for (const start of [0, 65532, 1000]) {
    const b = new RetransmitBuffer<string>(4, 1000);
    const s = (i: number) => (start + i) & 0xffff;
    for (let i = 0; i < 4; i++) {
      b.put(s(i), i, `p${i}`);
    }
    b.markResent(s(1), 50);
    t.equal(b.evictsYoung(s(4), 60), true, `${start}: a fifth packet would push the first out`);
    b.grow();
    t.equal(b.capacity, 8);
    t.equal(b.evictsYoung(s(4), 60), false, `${start}: room for it after growing`);
    for (let i = 0; i < 4; i++) {
      t.equal(b.get(s(i)), `p${i}`, `${start}: p${i} kept`);
    }
    t.equal(b.check(s(1), 60, 20), 'duplicate', `${start}: the resend mark kept`);
    t.equal(b.check(s(0), 1001, 20), 'too_old', `${start}: its age kept`);
    for (let i = 4; i < 8; i++) {
      b.put(s(i), 100 + i, `p${i}`);
    }
    t.equal(b.get(s(0)), 'p0', `${start}: 8 held after growing`);
    b.put(s(8), 200, 'p8');
    t.equal(b.get(s(0)), undefined, `${start}: the ninth takes the first's slot`);
  }
  const big = new RetransmitBuffer<string>(1 << 15, 1000);
  big.grow();
  t.equal(big.capacity, 1 << 15, 'never past half the sequence space');
});

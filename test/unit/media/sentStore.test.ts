/**
 * media/sentStore: the packets one outgoing stream keeps for retransmission (a ring indexed by a retransmitter).
 * - Kept and answered as sent, across the 16-bit wrap; a number never sent, or answered twice within the window,
 *   is refused.
 * - Growth: while packets inside the age would be overwritten the store doubles, every packet kept, up to its
 *   most; past it (or past the age) the oldest slot is built again.
 * - A slot built again for a packet that never went out: the NACKed old number is `missing`, not the new bytes.
 * - `clear` forgets and keeps the memory; `release` forgets and lets it go.
 */
import t from 'tap';
import { SentStore } from '../../../src/media/sentStore.js';
import type { SentPacket } from '../../../src/media/sentPackets.js';

const WINDOW_MS = 10;

/** Builds packet `seq` (payload: `fill` repeated `n` times behind a 12-byte header) and sends it. */
function send(s: SentStore, seq: number, now: number, fill: number, n = 100): SentPacket {
  const p = s.slot(seq, 12 + n, now);
  p.buf.fill(0, p.off, p.off + 12);
  p.buf.fill(fill, p.off + 12, p.off + 12 + n);
  p.headerLength = 12;
  p.length = 12 + n;
  s.remember(seq, now, p);
  return p;
}

const bytesOf = (p: SentPacket) => Buffer.from(p.buf.subarray(p.off + p.headerLength, p.off + p.length));

t.test('kept and answered as sent, across the wrap', async (t) => {
  const s = new SentStore(0, { initialPackets: 8, maxPackets: 8, maxAgeMs: 1000 });
  const seqs = [65533, 65534, 65535, 0, 1, 2];
  seqs.forEach((seq, i) => send(s, seq, i, i + 1));
  s.refill(10, 1_000_000);
  seqs.forEach((seq, i) => {
    const p = s.answer(seq, 10, WINDOW_MS);
    t.not(typeof p, 'string', `${seq}: answered`);
    if (typeof p !== 'string') {
      t.equal(p.seq, seq, `${seq}: its number`);
      t.same(bytesOf(p), Buffer.alloc(100, i + 1), `${seq}: its bytes`);
    }
  });
  t.equal(s.answer(3, 10, WINDOW_MS), 'missing', 'never sent');
  t.equal(s.answer(0, 12, WINDOW_MS), 'duplicate', 'asked again within the window');
  s.refill(30, 1_000_000);
  t.not(typeof s.answer(0, 30, WINDOW_MS), 'string', 'and again after it');
});

t.test('grows while young packets would be overwritten, up to its most', async (t) => {
  const s = new SentStore(0, { initialPackets: 4, maxPackets: 16, maxAgeMs: 1000 });
  t.equal(s.capacity, 4);
  for (let i = 0; i < 12; i++) {
    send(s, 65530 + i, i, i + 1); // 65530 … 5: the wrap in the middle
  }
  t.equal(s.capacity, 16, 'doubled twice');
  s.refill(20, 10_000_000);
  for (let i = 0; i < 12; i++) {
    const seq = (65530 + i) & 0xffff;
    const p = s.answer(seq, 20, WINDOW_MS);
    t.ok(typeof p !== 'string' && bytesOf(p).equals(Buffer.alloc(100, i + 1)), `${seq}: kept through growth`);
  }
  for (let i = 12; i < 40; i++) {
    send(s, (65530 + i) & 0xffff, 20 + i, (i % 250) + 1);
  }
  t.equal(s.capacity, 16, 'not past its most');
  s.refill(100, 10_000_000);
  t.equal(s.answer(65530, 100, WINDOW_MS), 'missing', 'the oldest: overwritten');
});

t.test('a slot built again for a packet that never went out', async (t) => {
  const s = new SentStore(0, { initialPackets: 4, maxPackets: 4, maxAgeMs: 1000 });
  for (let seq = 0; seq < 4; seq++) {
    send(s, seq, seq, seq + 1);
  }
  const built = s.slot(4, 112, 5); // slot of 0, not sent (e.g. dropped before the send)
  built.buf.fill(99, built.off, built.off + 112);
  built.length = 112;
  s.refill(10, 1_000_000);
  t.equal(s.answer(0, 10, WINDOW_MS), 'missing', 'the old number: missing, not the new bytes');
  const p = s.answer(1, 10, WINDOW_MS);
  t.ok(typeof p !== 'string' && p.seq === 1, 'the others still answered');
});

t.test('clear keeps the memory, release lets it go', async (t) => {
  const s = new SentStore(0, { initialPackets: 64, maxPackets: 64, maxAgeMs: 1000 });
  for (let seq = 0; seq < 64; seq++) {
    send(s, seq, seq, 1);
  }
  const bytes = s.allocatedBytes;
  t.ok(bytes > 0, `allocated ${bytes}`);
  s.clear();
  s.refill(100, 1_000_000);
  t.equal(s.answer(5, 100, WINDOW_MS), 'missing', 'cleared: forgotten');
  t.equal(s.allocatedBytes, bytes, 'memory kept');
  send(s, 5, 101, 7);
  const p = s.answer(5, 102, WINDOW_MS);
  t.ok(typeof p !== 'string' && bytesOf(p).equals(Buffer.alloc(100, 7)), 'and used again');
  s.release();
  t.equal(s.answer(5, 200, WINDOW_MS), 'missing', 'released: forgotten');
  t.equal(s.allocatedBytes, 0, 'memory let go');
});

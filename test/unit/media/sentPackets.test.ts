/**
 * The ring forwarded video packets are built and kept in: slot `seq & mask` (wrap-around rows), a packet is
 * found only while its slot still holds it, an oversized packet gets a buffer of its own and the slot returns
 * to its chunk after, memory grows by chunks as sequence numbers first reach them, and the shared scratch for
 * packets not kept grows when it must.
 */
import t from 'tap';
import { scratchPacket, SentPacketRing, SLOT_BYTES } from '../../../src/media/sentPackets.js';

function build(ring: SentPacketRing, seq: number, fill: number, size = 100): void {
  const p = ring.slot(seq, size);
  p.buf.fill(fill, p.off, p.off + size);
  p.headerLength = 12;
  p.length = size;
}

t.test('capacity must be a power of two', async (t) => {
  for (const bad of [0, 3, 500, -8, 1.5]) {
    t.throws(() => new SentPacketRing(bad), RangeError, `${bad}`);
  }
  t.doesNotThrow(() => new SentPacketRing(512));
});

t.test('a packet is kept until its slot is built again (wrap-around rows)', async (t) => {
  const ring = new SentPacketRing(8);
  const rows: [string, number, number, boolean][] = [
    // [name, seq built, seq looked up, found]
    ['same seq', 5, 5, true],
    ['same slot, other seq', 5, 13, false],
    ['seq past 16 bits: masked', 0x10003, 3, true],
    ['0xffff', 0xffff, 0xffff, true],
  ];
  for (const [name, built, lookup, found] of rows) {
    build(ring, built, 1);
    t.equal(ring.get(lookup) !== undefined, found, name);
  }
  build(ring, 0xfffe, 0x11);
  build(ring, 0xffff, 0x22);
  build(ring, 0, 0x33); // wraps
  build(ring, 6, 0x44); // slot 6 held 0xfffe
  t.equal(ring.get(0xfffe), undefined, 'overwritten by 6 (same slot)');
  t.equal(ring.get(0xffff)?.buf[ring.get(0xffff)?.off ?? 0], 0x22, '0xffff kept, its bytes');
  t.equal(ring.get(0)?.buf[ring.get(0)?.off ?? 0], 0x33, '0 kept across the wrap');
  const unsent = ring.slot(9, 10); // slot 1, built but never given a length
  t.equal(unsent.seq, 9);
  t.equal(ring.get(9), undefined, 'a slot without a packet length holds nothing');
  ring.clear();
  t.equal(ring.get(0), undefined, 'cleared');
  t.equal(ring.get(0xffff), undefined, 'cleared');
});

t.test('slots do not overlap; the same object per slot', async (t) => {
  const ring = new SentPacketRing(128);
  for (let s = 0; s < 128; s++) {
    build(ring, s, s, SLOT_BYTES);
  }
  for (let s = 0; s < 128; s++) {
    const p = ring.get(s);
    t.ok(
      p !== undefined && p.buf.subarray(p.off, p.off + SLOT_BYTES).every((b) => b === s),
      `slot ${s} intact`,
    );
  }
  const p5 = ring.get(5);
  t.equal(ring.slot(128 + 5, 10), p5, 'slot 5 is one reused object');
});

t.test('oversized packets get their own buffer; the slot goes back to its chunk', async (t) => {
  const ring = new SentPacketRing(64);
  const normal = ring.slot(3, 100);
  const chunk = normal.buf;
  const off = normal.off;
  const big = ring.slot(67, SLOT_BYTES + 1);
  t.equal(big, normal, 'same slot object');
  t.not(big.buf, chunk, 'a buffer of its own');
  t.equal(big.off, 0);
  t.ok(big.buf.length >= SLOT_BYTES + 1);
  t.equal(ring.allocatedBytes, chunk.length + big.buf.length, 'the chunk and the oversized buffer');
  const again = ring.slot(131, 100);
  t.equal(again.buf, chunk, 'back in the chunk');
  t.equal(again.off, off, 'at its place');
  t.equal(ring.allocatedBytes, chunk.length);
});

t.test('memory grows by chunks as sequence numbers reach them', async (t) => {
  const ring = new SentPacketRing(512);
  t.equal(ring.allocatedBytes, 0, 'nothing before the first packet');
  ring.slot(0, 10);
  const chunk = ring.allocatedBytes;
  t.ok(chunk > 0);
  ring.slot(63, 10);
  t.equal(ring.allocatedBytes, chunk, 'slots 0–63: one chunk');
  ring.slot(64, 10);
  t.equal(ring.allocatedBytes, 2 * chunk, 'slot 64: a second chunk');
  for (let s = 0; s < 512; s++) {
    ring.slot(s, 10);
  }
  t.equal(ring.allocatedBytes, 8 * chunk, 'all 512 slots: eight chunks');
  t.equal(chunk, 64 * SLOT_BYTES);
});

t.test('scratch: one shared slot, grown for a larger packet', async (t) => {
  const a = scratchPacket(100);
  t.equal(scratchPacket(200), a, 'reused');
  t.equal(a.seq, -1);
  const big = scratchPacket(SLOT_BYTES * 3);
  t.ok(big.buf.length >= SLOT_BYTES * 3, 'large enough');
  t.equal(scratchPacket(10), big, 'the grown one is kept');
});

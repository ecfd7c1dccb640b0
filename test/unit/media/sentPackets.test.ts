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

t.test('memory grows by chunks as slots are first used', async (t) => {
  const ring = new SentPacketRing(512);
  t.equal(ring.allocatedBytes, 0, 'nothing before the first packet');
  ring.slot(0, 10);
  const chunk = ring.allocatedBytes;
  t.ok(chunk > 0);
  for (let s = 100; s < 163; s++) {
    ring.slot(s, 10);
  }
  t.equal(ring.allocatedBytes, chunk, '64 slots used: one chunk');
  ring.slot(300, 10);
  t.equal(ring.allocatedBytes, 2 * chunk, 'the 65th: a second chunk');
  for (let s = 0; s < 512; s++) {
    ring.slot(s, 10);
  }
  t.equal(ring.allocatedBytes, 8 * chunk, 'all 512 slots: eight chunks');
  t.equal(chunk, 64 * SLOT_BYTES);
});

t.test('grow: kept packets move to their slot of the larger ring with their bytes (wrap rows)', async (t) => {
  for (const start of [0, 65530, 4000]) {
    const ring = new SentPacketRing(8);
    const s = (i: number) => (start + i) & 0xffff;
    for (let i = 0; i < 8; i++) {
      build(ring, s(i), 0x40 + i);
    }
    ring.slot(s(2), 10).length = 0; // built again for s(2) but never sent: holds nothing
    const before = ring.allocatedBytes;
    ring.grow();
    t.equal(ring.capacity, 16);
    t.equal(ring.allocatedBytes, before, `${start}: no new memory to grow`);
    for (const i of [0, 1, 3, 4, 5, 6, 7]) {
      const p = ring.get(s(i));
      t.ok(p !== undefined && p.buf[p.off] === 0x40 + i, `${start}: packet ${i} kept, its bytes`);
    }
    t.equal(ring.get(s(2)), undefined, `${start}: the unsent one holds nothing`);
    for (let i = 8; i < 16; i++) {
      build(ring, s(i), 0x40 + i);
    }
    for (let i = 0; i < 16; i++) {
      const p = ring.get(s(i));
      if (i === 2) {
        continue;
      }
      t.ok(p !== undefined && p.buf[p.off] === 0x40 + i, `${start}: 16 held after growing (${i})`);
    }
    build(ring, s(16), 0x99);
    t.equal(ring.get(s(0)), undefined, `${start}: the 17th takes the first's slot`);
  }
});

t.test('scratch: one shared slot, grown for a larger packet', async (t) => {
  const a = scratchPacket(100);
  t.equal(scratchPacket(200), a, 'reused');
  t.equal(a.seq, -1);
  const big = scratchPacket(SLOT_BYTES * 3);
  t.ok(big.buf.length >= SLOT_BYTES * 3, 'large enough');
  t.equal(scratchPacket(10), big, 'the grown one is kept');
});

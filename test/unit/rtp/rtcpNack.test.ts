/**
 * Generic NACK (RFC 4585 §6.2.1) writer and readers: byte fixtures with the fields annotated, PID/BLP
 * packing across the 65535→0 wrap, the 255-entry cap, expansion bounds, and werift-shaped lost lists with
 * unwrapped, duplicate, huge and non-number values.
 */
import t from 'tap';
import {
  expandNackFci,
  MAX_NACK_SEQS,
  nackFci,
  nackPacket,
  normaliseNackList,
} from '../../../src/rtp/rtcpNack.js';

t.test('byte fixture', async (t) => {
  const b = Buffer.from(nackPacket(0x11223344, 0xaabbccdd, [100, 101, 116, 117]));
  t.equal(
    b.toString('hex'),
    [
      '81cd0004', // V=2 P=0 FMT=1 | PT=205 RTPFB | length 4 words (16 bytes + 4 = 20 bytes)
      '11223344', // sender SSRC
      'aabbccdd', // media SSRC
      '00648001', // PID 100 | BLP: bit 0 (101) and bit 15 (116)
      '00750000', // PID 117 (100 + 17 is outside the first mask)
    ].join(''),
  );
});

t.test('FCI packing', async (t) => {
  const rows: [number[], { pid: number; blp: number }[], string][] = [
    [[], [], 'nothing'],
    [[5], [{ pid: 5, blp: 0 }], 'one'],
    [[5, 6, 21], [{ pid: 5, blp: 0x8001 }], 'PID + 1 and PID + 16 in one entry'],
    [
      [5, 22],
      [
        { pid: 5, blp: 0 },
        { pid: 22, blp: 0 },
      ],
      'PID + 17 starts an entry',
    ],
    [[65535, 0, 1], [{ pid: 65535, blp: 0x0003 }], 'across the wrap'],
    [[65530, 10], [{ pid: 65530, blp: 0x8000 }], '65530 + 16 = 10'],
    [[7, 7, 7], [{ pid: 7, blp: 0 }], 'duplicates'],
  ];
  for (const [seqs, fci, note] of rows) {
    t.same(nackFci(seqs), fci, note);
    t.same(expandNackFci(fci), [...new Set(seqs.map((s) => s & 0xffff))], `${note}: round trip`);
  }
  const many = Array.from({ length: 300 }, (_, i) => i * 20);
  t.equal(Buffer.from(nackPacket(1, 2, many)).length, 12 + 4 * 255, 'at most 255 FCI entries');
});

t.test('expansion is bounded', async (t) => {
  const fci = Array.from({ length: 1000 }, (_, i) => ({ pid: (i * 17) & 0xffff, blp: 0xffff }));
  t.equal(expandNackFci(fci).length, MAX_NACK_SEQS, 'capped');
  t.equal(expandNackFci(fci, 10).length, 10);
  t.same(expandNackFci([{ pid: 65535, blp: 0x0001 }]), [65535, 0], 'wraps');
});

t.test('werift lost lists', async (t) => {
  t.same(normaliseNackList([65535, 65536, 65537]), [65535, 0, 1], 'unwrapped values masked');
  t.same(normaliseNackList([3, 3, 2]), [3, 2], 'de-duplicated, order kept');
  t.same(normaliseNackList(['1', null, -1, 1.5, NaN, 4]), [4], 'non-integers ignored');
  t.same(normaliseNackList(undefined), []);
  t.same(normaliseNackList({ length: 5 }), []);
  t.equal(normaliseNackList(Array.from({ length: 100_000 }, (_, i) => i)).length, MAX_NACK_SEQS, 'bounded');
});

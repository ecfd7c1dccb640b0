/**
 * rtp/packetView: the fixed header fields at their wrap-around values, CSRCs, padding, payload bounds, both
 * extension forms (found lazily, by id), re-pointing one view at many packets, and bad input (truncated,
 * bad version, bad padding, an extension block past the end) as an invalid result, never a throw.
 */
import t from 'tap';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';

function packet(h: Partial<Parameters<typeof writeRtpHeader>[0]>, payload: number[] = [1, 2, 3]): Uint8Array {
  const head = writeRtpHeader({
    payloadType: 96,
    sequenceNumber: 0,
    timestamp: 0,
    ssrc: 0,
    marker: false,
    extensions: [],
    ...h,
  });
  return Uint8Array.from([...head, ...payload]);
}

t.test('fixed header fields, wrap-around values', async (t) => {
  const rows = [
    { ssrc: 0, seq: 0, ts: 0, pt: 0, marker: false },
    { ssrc: 0xffffffff, seq: 0xffff, ts: 0xffffffff, pt: 127, marker: true },
    { ssrc: 0x80000000, seq: 0x8000, ts: 0x80000000, pt: 96, marker: true },
    { ssrc: 0x12345678, seq: 65535, ts: 4294967295, pt: 111, marker: false },
  ];
  const v = new RtpPacketView();
  for (const r of rows) {
    const bytes = packet({
      ssrc: r.ssrc,
      sequenceNumber: r.seq,
      timestamp: r.ts,
      payloadType: r.pt,
      marker: r.marker,
    });
    t.equal(v.reset(bytes), true, `valid: ${JSON.stringify(r)}`);
    t.same(
      { ssrc: v.ssrc, seq: v.seq, ts: v.ts, pt: v.pt, marker: v.marker },
      r,
      'fields read back (unsigned 32-bit)',
    );
    t.equal(v.payloadOffset, 12);
    t.equal(v.payloadLength, 3);
    t.equal(v.csrcCount, 0);
    t.equal(v.paddingLength, 0);
    t.equal(v.extensionProfile, 0);
    t.equal(v.problem, undefined);
  }
});

t.test('CSRCs and a non-zero offset into a larger buffer', async (t) => {
  const head = [0x82, 0xe0, 0x01, 0x02, 0, 0, 0, 9, 0xde, 0xad, 0xbe, 0xef];
  const csrcs = [0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 7];
  const big = Uint8Array.from([9, 9, 9, ...head, ...csrcs, 0xaa, 0xbb, 7, 7]);
  const v = new RtpPacketView();
  t.equal(v.reset(big, 3, big.length - 5), true);
  t.equal(v.csrcCount, 2);
  t.equal(v.csrc(0), 0xfffffffe);
  t.equal(v.csrc(1), 7);
  t.equal(v.csrc(2), undefined, 'past the count');
  t.equal(v.csrc(-1), undefined);
  t.equal(v.marker, true);
  t.equal(v.pt, 0x60);
  t.equal(v.seq, 0x0102);
  t.equal(v.ssrc, 0xdeadbeef);
  t.equal(v.payloadOffset, 3 + 12 + 8);
  t.equal(v.payloadLength, 2);
  t.same([...v.payload()], [0xaa, 0xbb], 'payload view, trailing bytes outside the packet excluded');
  t.equal(v.offset, 3);
  t.equal(v.length, big.length - 5);
});

t.test('padding: excluded from the payload; padding-only packets have an empty payload', async (t) => {
  const v = new RtpPacketView();
  const padded = packet({ padding: true }, [1, 2, 3, 0, 0, 3]);
  t.equal(v.reset(padded), true);
  t.equal(v.paddingLength, 3);
  t.equal(v.payloadLength, 3);
  t.same([...v.payload()], [1, 2, 3]);
  const only = packet({ padding: true }, [...new Array<number>(254).fill(0), 255]);
  t.equal(v.reset(only), true);
  t.equal(v.payloadLength, 0, 'padding only');
  t.equal(v.paddingLength, 255);
});

t.test('one-byte extensions, found lazily by id', async (t) => {
  const v = new RtpPacketView();
  const bytes = packet({
    extensions: [
      { id: 1, payload: Uint8Array.from([0x30]) }, // mid "0"
      { id: 3, payload: Uint8Array.from([1, 2, 3]) },
      { id: 14, payload: new Uint8Array(16).fill(5) },
    ],
  });
  t.equal(v.reset(bytes), true);
  t.equal(v.extensionProfile, 0xbede);
  t.same([...(v.extensionBytes(1) ?? [])], [0x30]);
  t.same([...(v.extensionBytes(3) ?? [])], [1, 2, 3]);
  t.equal(v.extensionBytes(14)?.length, 16, '16-byte element (length nibble 15)');
  t.equal(v.extension(2), -1, 'absent id');
  t.equal(v.foundLength, 0);
  t.equal(v.extension(15), -1, 'id 15 is never an element');
  t.equal(v.extensionEquals(1, Uint8Array.from([0x30])), true);
  t.equal(v.extensionEquals(1, Uint8Array.from([0x31])), false);
  t.equal(v.extensionEquals(3, Uint8Array.from([1, 2])), false, 'length differs');
  t.same([...v.payload()], [1, 2, 3], 'payload after the extension block');
});

t.test(
  'one-byte extensions: padding bytes skipped, id 15 stops the walk, overrun is not found',
  async (t) => {
    const v = new RtpPacketView();
    // profile BEDE, 2 words: [0 pad][id2 len1: aa][0 pad][id15 ...][id4 len1 (never reached)]
    const head = [0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 2];
    const ext = [0x00, 0x20, 0xaa, 0x00, 0xf0, 0x40, 0xbb, 0x00];
    t.equal(v.reset(Uint8Array.from([...head, ...ext, 9])), true);
    t.same([...(v.extensionBytes(2) ?? [])], [0xaa]);
    t.equal(v.extension(4), -1, 'after id 15 nothing is parsed');
    const overrun = [0x1f, 1, 2, 3, 0, 0, 0, 0]; // id 1, len 16 > the 8-byte block
    t.equal(v.reset(Uint8Array.from([...head, ...overrun])), true, 'the header itself is valid');
    t.equal(v.extension(1), -1, 'an element past the block is not returned');
  },
);

t.test('two-byte extensions (0x100X), ids above 14 and empty values', async (t) => {
  const v = new RtpPacketView();
  const bytes = packet({
    extensions: [
      { id: 1, payload: Uint8Array.from([7]) },
      { id: 200, payload: new Uint8Array(20).fill(9) },
      { id: 5, payload: new Uint8Array(0) },
    ],
  });
  t.equal(v.reset(bytes), true);
  t.equal(v.extensionProfile, 0x1000);
  t.same([...(v.extensionBytes(1) ?? [])], [7]);
  t.equal(v.extensionBytes(200)?.length, 20);
  t.equal(v.extension(5) >= 0, true, 'an empty element is found');
  t.equal(v.foundLength, 0);
  const appbits = Uint8Array.from(bytes);
  appbits[13] = 0x0f; // profile 0x100F
  t.equal(v.reset(appbits), true);
  t.same([...(v.extensionBytes(1) ?? [])], [7], 'appbits do not change the form');
  const other = Uint8Array.from(bytes);
  other[12] = 0x20; // profile 0x2000: not parsed
  t.equal(v.reset(other), true);
  t.equal(v.extension(1), -1, 'an unknown profile is skipped, the payload still found');
  t.equal(v.payloadLength, 3);
});

t.test('invalid input: a clear result, never a throw, nothing of the previous packet kept', async (t) => {
  const good = packet({ ssrc: 42, sequenceNumber: 7 });
  const rows: { name: string; bytes: Uint8Array; offset?: number; length?: number; problem: string }[] = [
    { name: 'empty', bytes: new Uint8Array(0), problem: 'truncated' },
    { name: '11 bytes', bytes: good.subarray(0, 11), problem: 'truncated' },
    { name: 'version 1', bytes: Uint8Array.from([0x40, ...good.subarray(1)]), problem: 'bad_version' },
    { name: 'version 0', bytes: Uint8Array.from([0x00, ...good.subarray(1)]), problem: 'bad_version' },
    {
      name: 'CSRCs past the end',
      bytes: Uint8Array.from([0x83, ...good.subarray(1, 12), 0, 0, 0, 1]),
      problem: 'truncated',
    },
    {
      name: 'X without the extension word',
      bytes: Uint8Array.from([0x90, ...good.subarray(1, 12), 0xbe]),
      problem: 'truncated',
    },
    {
      name: 'extension length past the end',
      bytes: Uint8Array.from([0x90, ...good.subarray(1, 12), 0xbe, 0xde, 0, 9, 0x10, 1, 0, 0]),
      problem: 'bad_extension',
    },
    {
      name: 'padding count 0',
      bytes: Uint8Array.from([0xa0, ...good.subarray(1, 12), 1, 0]),
      problem: 'bad_padding',
    },
    {
      name: 'padding longer than the payload',
      bytes: Uint8Array.from([0xa0, ...good.subarray(1, 12), 1, 3]),
      problem: 'bad_padding',
    },
    {
      name: 'P bit, no byte after the header',
      bytes: Uint8Array.from([0xa0, ...good.subarray(1, 12)]),
      problem: 'bad_padding',
    },
    { name: 'range past the buffer', bytes: good, offset: 4, length: good.length, problem: 'truncated' },
    { name: 'negative offset', bytes: good, offset: -1, problem: 'truncated' },
    { name: 'fractional length', bytes: good, offset: 0, length: 12.5, problem: 'truncated' },
  ];
  const v = new RtpPacketView();
  for (const r of rows) {
    t.equal(v.reset(good), true);
    let ok = true;
    t.doesNotThrow(() => {
      ok = v.reset(r.bytes, r.offset, r.length);
    }, r.name);
    t.equal(ok, false, `${r.name}: invalid`);
    t.equal(v.valid, false);
    t.equal(v.problem, r.problem, `${r.name}: ${r.problem}`);
    t.same([v.ssrc, v.seq, v.payloadLength, v.extension(1)], [0, 0, 0, -1], `${r.name}: nothing kept`);
  }
});

t.test('one view re-pointed at many packets reads each one', async (t) => {
  const v = new RtpPacketView();
  const seqs: number[] = [];
  for (let s = 65533; s < 65539; s++) {
    const bytes = packet({ sequenceNumber: s & 0xffff, ssrc: s });
    v.reset(bytes);
    seqs.push(v.seq);
    t.equal(v.ssrc, s);
  }
  t.same(seqs, [65533, 65534, 65535, 0, 1, 2]);
});

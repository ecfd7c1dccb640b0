import t from 'tap';
import type { Vp8Descriptor } from '../../../src/rtp/vp8.js';
import {
  blankVp8Descriptor,
  parseVp8Descriptor,
  parseVp8DescriptorInto,
  writeVp8PictureId,
  writeVp8Tl0PicIdx,
} from '../../../src/rtp/vp8.js';

// Fixtures: a VP8 RTP payload = descriptor + the first byte of the VP8 payload header.

const minimalKeyframe = Uint8Array.from([
  0b0001_0000, // X=0 R=0 N=0 S=1 R=0 PID=000
  0b0001_0000, // VP8 payload header: P=0 (keyframe)
]);

const minimalDelta = Uint8Array.from([
  0b0011_0000, // X=0 R=0 N=1 S=1 R=0 PID=000
  0b0000_0001, // VP8 payload header: P=1 (interframe)
]);

const keyframe15 = Uint8Array.from([
  0b1001_0000, // X=1 R=0 N=0 S=1 R=0 PID=000
  0b1110_0000, // I=1 L=1 T=1 K=0 RSV=0000
  0b1000_0001, // M=1 PictureID(hi 7)=0000001
  0b0000_0010, // PictureID(lo 8) → 258
  0x2a, //        TL0PICIDX=42
  0b0100_0000, // TID=01 Y=0 KEYIDX=00000
  0b0001_0000, // VP8 payload header: P=0 (keyframe)
]);

const delta7 = Uint8Array.from([
  0b1001_0000, // X=1 R=0 N=0 S=1 R=0 PID=000
  0b1000_0000, // I=1 L=0 T=0 K=0 RSV=0000
  0b0111_1111, // M=0 PictureID=1111111 → 127
  0b0000_0001, // VP8 payload header: P=1 (interframe)
]);

const pic7Tl0 = Uint8Array.from([
  0b1001_0000, // X=1 R=0 N=0 S=1 R=0 PID=000
  0b1100_0000, // I=1 L=1 T=0 K=0 RSV=0000
  0b0000_0101, // M=0 PictureID=0000101 → 5
  0xff, //        TL0PICIDX=255
  0b0000_0000, // VP8 payload header: P=0 (keyframe)
]);

const tl0Only = Uint8Array.from([
  0b1000_0000, // X=1 R=0 N=0 S=0 R=0 PID=000
  0b0100_0000, // I=0 L=1 T=0 K=0 RSV=0000
  0x07, //        TL0PICIDX=7
  0b0000_0000, // (continuation: partition data, not a payload header)
]);

const tOnly = Uint8Array.from([
  0b1001_0000, // X=1 R=0 N=0 S=1 R=0 PID=000
  0b0010_0000, // I=0 L=0 T=1 K=0 RSV=0000
  0b1011_1111, // TID=10 Y=1 KEYIDX=11111 (KEYIDX ignored: K=0)
  0b0000_0001, // VP8 payload header: P=1 (interframe)
]);

const kOnly = Uint8Array.from([
  0b1001_0000, // X=1 R=0 N=0 S=1 R=0 PID=000
  0b0001_0000, // I=0 L=0 T=0 K=1 RSV=0000
  0b1110_1010, // TID=11 Y=1 KEYIDX=01010 (TID/Y ignored: T=0) → 10
  0b0000_0001, // VP8 payload header: P=1 (interframe)
]);

const tAndK = Uint8Array.from([
  0b1001_0000, // X=1 R=0 N=0 S=1 R=0 PID=000
  0b0011_0000, // I=0 L=0 T=1 K=1 RSV=0000
  0b1101_0011, // TID=11 Y=0 KEYIDX=10011 → 19
  0b0000_0000, // VP8 payload header: P=0 (keyframe)
]);

const allFields = Uint8Array.from([
  0b1010_0000, // X=1 R=0 N=1 S=0 R=0 PID=000
  0b1111_0000, // I=1 L=1 T=1 K=1 RSV=0000
  0b1111_1111, // M=1 PictureID(hi 7)=1111111
  0b1111_1111, // PictureID(lo 8) → 32767
  0x00, //        TL0PICIDX=0
  0b0010_0001, // TID=00 Y=1 KEYIDX=00001 → 1
  0b0000_0000, // (continuation: partition data, not a payload header)
]);

const extendedEmpty = Uint8Array.from([
  0b1001_0000, // X=1 R=0 N=0 S=1 R=0 PID=000
  0b0000_0000, // I=0 L=0 T=0 K=0 RSV=0000
  0b0000_0000, // VP8 payload header: P=0 (keyframe)
]);

const continuation = Uint8Array.from([
  0b1000_0000, // X=1 R=0 N=0 S=0 R=0 PID=000
  0b1000_0000, // I=1 L=0 T=0 K=0 RSV=0000
  0b1000_0000, // M=1 PictureID(hi 7)=0000000
  0b0000_1001, // PictureID(lo 8) → 9
  0b0000_0000, // partition data (its low bit would read P=0: must not count)
]);

const secondPartition = Uint8Array.from([
  0b0001_0011, // X=0 R=0 N=0 S=1 R=0 PID=011
  0b0000_0000, // partition data (its low bit would read P=0: must not count)
]);

const reservedBitsSet = Uint8Array.from([
  0b1101_1000, // X=1 R=1 N=0 S=1 R=1 PID=000 (reserved bits ignored)
  0b1000_1111, // I=1 L=0 T=0 K=0 RSV=1111 (reserved bits ignored)
  0b0000_0001, // M=0 PictureID=0000001 → 1
  0b0000_0000, // VP8 payload header: P=0 (keyframe)
]);

const base = { nonReference: false, startOfPartition: true, partitionId: 0 };

const expected: [string, Uint8Array, Vp8Descriptor][] = [
  ['minimal keyframe', minimalKeyframe, { ...base, length: 1, extended: false, keyframe: true }],
  [
    'minimal delta (N=1)',
    minimalDelta,
    { ...base, length: 1, extended: false, nonReference: true, keyframe: false },
  ],
  [
    '15-bit picture id, TL0PICIDX, T',
    keyframe15,
    {
      ...base,
      length: 6,
      extended: true,
      pictureId: 258,
      pictureIdBits: 15,
      tl0PicIdx: 42,
      tid: 1,
      layerSync: false,
      keyframe: true,
    },
  ],
  [
    '7-bit picture id, delta',
    delta7,
    { ...base, length: 3, extended: true, pictureId: 127, pictureIdBits: 7, keyframe: false },
  ],
  [
    '7-bit picture id + TL0PICIDX',
    pic7Tl0,
    { ...base, length: 4, extended: true, pictureId: 5, pictureIdBits: 7, tl0PicIdx: 255, keyframe: true },
  ],
  [
    'TL0PICIDX only, S=0',
    tl0Only,
    { ...base, startOfPartition: false, length: 3, extended: true, tl0PicIdx: 7, keyframe: false },
  ],
  ['T only', tOnly, { ...base, length: 3, extended: true, tid: 2, layerSync: true, keyframe: false }],
  ['K only', kOnly, { ...base, length: 3, extended: true, keyIdx: 10, keyframe: false }],
  [
    'T and K share one byte',
    tAndK,
    { ...base, length: 3, extended: true, tid: 3, layerSync: false, keyIdx: 19, keyframe: true },
  ],
  [
    'all fields',
    allFields,
    {
      ...base,
      nonReference: true,
      startOfPartition: false,
      length: 6,
      extended: true,
      pictureId: 32767,
      pictureIdBits: 15,
      tl0PicIdx: 0,
      tid: 0,
      layerSync: true,
      keyIdx: 1,
      keyframe: false,
    },
  ],
  ['X with no fields', extendedEmpty, { ...base, length: 2, extended: true, keyframe: true }],
  [
    'S=0 continuation is not a keyframe',
    continuation,
    {
      ...base,
      startOfPartition: false,
      length: 4,
      extended: true,
      pictureId: 9,
      pictureIdBits: 15,
      keyframe: false,
    },
  ],
  [
    'PID≠0 is not a keyframe',
    secondPartition,
    { ...base, partitionId: 3, length: 1, extended: false, keyframe: false },
  ],
  [
    'reserved bits ignored',
    reservedBitsSet,
    { ...base, length: 3, extended: true, pictureId: 1, pictureIdBits: 7, keyframe: true },
  ],
];

t.test('parses each fixture', async (t) => {
  for (const [name, bytes, want] of expected) {
    t.same(parseVp8Descriptor(bytes), want, name);
  }
});

t.test('parsed descriptors have one shape: every field present, absent ones undefined', async (t) => {
  const d = parseVp8Descriptor(minimalKeyframe);
  t.same(Object.keys(d ?? {}).sort(), Object.keys(blankVp8Descriptor()).sort());
  t.equal(d?.pictureId, undefined);
  t.equal(d?.tl0PicIdx, undefined);
  t.equal(d?.tid, undefined);
  t.equal(d?.keyIdx, undefined);
});

t.test(
  'parsed into one object fixture after fixture (both orders): each as a fresh parse, nothing left over',
  async (t) => {
    const d = blankVp8Descriptor();
    for (const order of [expected, [...expected].reverse()]) {
      for (const [name, bytes, want] of order) {
        t.equal(parseVp8DescriptorInto(d, bytes), true, name);
        for (const k of Object.keys(blankVp8Descriptor()) as (keyof typeof d)[]) {
          t.equal(d[k], (want as Partial<typeof d>)[k], `${name}: ${k}`);
        }
      }
    }
    t.equal(parseVp8DescriptorInto(d, Uint8Array.from([0x90, 0x80, 0x80])), false, 'truncated: false');
  },
);

t.test('every prefix of every fixture: undefined or consistent, never throws', async (t) => {
  for (const [name, bytes, want] of expected) {
    for (let n = 0; n <= bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      const got = parseVp8Descriptor(prefix);
      if (n < want.length) {
        t.equal(got, undefined, `${name}: ${String(n)} bytes is truncated`);
      } else if (n === want.length) {
        // No payload header byte: nothing to read P from.
        t.same(got, { ...want, keyframe: false }, `${name}: descriptor only`);
      } else {
        t.same(got, want, `${name}: ${String(n)} bytes`);
      }
    }
  }
});

t.test('X set but no extension byte, I/M/L/T/K set but their byte missing', async (t) => {
  t.equal(parseVp8Descriptor(Uint8Array.from([0b1001_0000])), undefined, 'X without extension byte');
  t.equal(parseVp8Descriptor(Uint8Array.from([0x90, 0b1000_0000])), undefined, 'I without picture id');
  t.equal(parseVp8Descriptor(Uint8Array.from([0x90, 0x80, 0x80])), undefined, 'M without second byte');
  t.equal(parseVp8Descriptor(Uint8Array.from([0x90, 0b0100_0000])), undefined, 'L without TL0PICIDX');
  t.equal(parseVp8Descriptor(Uint8Array.from([0x90, 0b0010_0000])), undefined, 'T without TID byte');
  t.equal(parseVp8Descriptor(Uint8Array.from([0x90, 0b0001_0000])), undefined, 'K without KEYIDX byte');
  t.equal(parseVp8Descriptor(new Uint8Array(0)), undefined, 'empty');
});

t.test('offset and end select a window of a larger buffer', async (t) => {
  const junk = [0xff, 0xff, 0xff];
  const buf = Uint8Array.from([...junk, ...keyframe15, ...junk]);
  const want = expected[2]?.[2];
  t.same(parseVp8Descriptor(buf, 3, 3 + keyframe15.length), want);
  t.same(parseVp8Descriptor(Buffer.from(buf), 3, 3 + keyframe15.length), want, 'works on a Buffer');
  // end cuts the window: the 0xff after the descriptor must not be read as a header.
  t.same(parseVp8Descriptor(buf, 3, 3 + 6), { ...want, keyframe: false }, 'end excludes payload header');
  t.equal(parseVp8Descriptor(buf, 3, 3 + 5), undefined, 'end cuts the descriptor');
});

t.test('invalid ranges return undefined', async (t) => {
  t.equal(parseVp8Descriptor(keyframe15, -1), undefined, 'negative offset');
  t.equal(parseVp8Descriptor(keyframe15, 3, 2), undefined, 'offset after end');
  t.equal(parseVp8Descriptor(keyframe15, 7), undefined, 'offset at length');
  t.equal(parseVp8Descriptor(keyframe15, 0, 8), undefined, 'end past length');
  t.equal(parseVp8Descriptor(keyframe15, 0.5), undefined, 'fractional offset');
  t.equal(parseVp8Descriptor(keyframe15, Number.NaN), undefined, 'NaN offset');
});

function parsed(bytes: Uint8Array, offset?: number): Vp8Descriptor {
  const d = parseVp8Descriptor(bytes, offset);
  if (d === undefined) {
    throw new Error('fixture does not parse');
  }
  return d;
}

/** Indices where a and b differ. */
function diff(a: Uint8Array, b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      out.push(i);
    }
  }
  return out;
}

t.test('writing a 15-bit picture id wraps 32767 → 0 and touches only its two bytes', async (t) => {
  const buf = Uint8Array.from(allFields);
  const d = parsed(buf);
  t.equal(writeVp8PictureId(buf, d, 32767), true);
  t.same(diff(buf, allFields), [], 'same value: bytes unchanged');
  t.equal(writeVp8PictureId(buf, d, 32767 + 1), true);
  t.same(diff(buf, allFields), [2, 3]);
  t.same(parseVp8Descriptor(buf), { ...d, pictureId: 0 });
  t.equal(buf[2], 0b1000_0000, 'M bit kept');
  t.equal(writeVp8PictureId(buf, d, 0x1234), true);
  t.same(parseVp8Descriptor(buf), { ...d, pictureId: 0x1234 });
  t.same([buf[2], buf[3]], [0x92, 0x34]);
});

t.test('writing a 7-bit picture id wraps 127 → 0 and touches only its byte', async (t) => {
  const buf = Uint8Array.from(delta7);
  const d = parsed(buf);
  t.equal(writeVp8PictureId(buf, d, 128), true);
  t.same(diff(buf, delta7), [2]);
  t.same(parseVp8Descriptor(buf), { ...d, pictureId: 0 });
  t.equal(writeVp8PictureId(buf, d, 300), true);
  t.same(parseVp8Descriptor(buf), { ...d, pictureId: 300 % 128 }, 'mod 128, M stays 0');
});

t.test('writing TL0PICIDX wraps 255 → 0 and touches only its byte', async (t) => {
  const cases: [string, Uint8Array, number][] = [
    ['after a 7-bit picture id', pic7Tl0, 3],
    ['after a 15-bit picture id', keyframe15, 4],
    ['without a picture id', tl0Only, 2],
    ['after 32767', allFields, 4],
  ];
  for (const [name, fixture, at] of cases) {
    const buf = Uint8Array.from(fixture);
    const d = parsed(buf);
    t.equal(writeVp8Tl0PicIdx(buf, d, 256), true, name);
    t.same(diff(buf, fixture), fixture[at] === 0 ? [] : [at], `${name}: only byte ${String(at)}`);
    t.same(parseVp8Descriptor(buf), { ...d, tl0PicIdx: 0 }, name);
    t.equal(writeVp8Tl0PicIdx(buf, d, 255), true);
    t.same(parseVp8Descriptor(buf), { ...d, tl0PicIdx: 255 }, name);
  }
});

t.test('writing an absent field returns false and changes nothing', async (t) => {
  for (const fixture of [minimalKeyframe, tOnly, kOnly, tAndK, extendedEmpty, secondPartition]) {
    const buf = Uint8Array.from(fixture);
    const d = parsed(buf);
    t.equal(writeVp8PictureId(buf, d, 5), false);
    t.equal(writeVp8Tl0PicIdx(buf, d, 5), false);
    t.same(diff(buf, fixture), []);
  }
  const buf = Uint8Array.from(tl0Only);
  t.equal(writeVp8PictureId(buf, parsed(buf), 5), false, 'TL0PICIDX but no picture id');
  const buf2 = Uint8Array.from(delta7);
  t.equal(writeVp8Tl0PicIdx(buf2, parsed(buf2), 5), false, 'picture id but no TL0PICIDX');
  t.same(diff(buf, tl0Only), []);
  t.same(diff(buf2, delta7), []);
});

t.test('writing past the end of the buffer returns false', async (t) => {
  const d = parsed(keyframe15);
  const short = Uint8Array.from(keyframe15.subarray(0, 3));
  t.equal(writeVp8PictureId(short, d, 1), false);
  t.equal(writeVp8Tl0PicIdx(short, d, 1), false);
  t.same(diff(short, keyframe15.subarray(0, 3)), []);
});

t.test('parse → write same values → bytes unchanged, for every fixture', async (t) => {
  for (const [name, fixture] of expected) {
    const buf = Uint8Array.from(fixture);
    const d = parsed(buf);
    if (d.pictureId !== undefined) {
      t.equal(writeVp8PictureId(buf, d, d.pictureId), true, `${name}: picture id`);
    }
    if (d.tl0PicIdx !== undefined) {
      t.equal(writeVp8Tl0PicIdx(buf, d, d.tl0PicIdx), true, `${name}: TL0PICIDX`);
    }
    t.same(diff(buf, fixture), [], name);
  }
});

t.test('writes honour offset and leave surrounding bytes alone', async (t) => {
  const junk = [0xaa, 0xbb, 0xcc];
  const original = Uint8Array.from([...junk, ...keyframe15, ...junk]);
  const buf = Buffer.from(original);
  const d = parsed(buf.subarray(0, 3 + keyframe15.length), 3);
  t.equal(writeVp8PictureId(buf, d, 1000, 3), true);
  t.equal(writeVp8Tl0PicIdx(buf, d, 43, 3), true);
  t.same(diff(buf, original), [5, 6, 7]);
  t.same(parseVp8Descriptor(buf, 3, 3 + keyframe15.length), { ...d, pictureId: 1000, tl0PicIdx: 43 });
});

/**
 * vp8KeyframeSize on annotated keyframe payloads: RTP descriptor, then the VP8 frame header (RFC 6386 §9.1):
 * 3-byte frame tag, start code 9d 01 2a, 16-bit little-endian width and height whose top 2 bits are the
 * scale (masked off).
 */
import t from 'tap';
import { parseVp8Descriptor, vp8KeyframeSize } from '../../../src/rtp/vp8.js';
import type { Vp8Descriptor } from '../../../src/rtp/vp8.js';

const descriptor15 = [
  0b1001_0000, //     X=1 R=0 N=0 S=1 R=0 PID=000
  0b1000_0000, //     I=1 L=0 T=0 K=0
  0b1000_0001, //     M=1 PictureID(hi 7)
  0b0000_0010, //     PictureID(lo 8) → 258
];

const keyTag = [
  0x50, //            size_0=010 show_frame=1 version=000 P=0 (key frame)
  0x2a, //            size_1
  0x01, //            size_2 → first partition 2386 bytes
];

const startCode = [0x9d, 0x01, 0x2a];

const hd720 = Uint8Array.from([
  ...descriptor15,
  ...keyTag,
  ...startCode,
  ...[0x00, 0x45], // width  0x4500: scale=01, 0x0500 = 1280
  ...[0xd0, 0xc2], // height 0xc2d0: scale=11, 0x02d0 = 720
  ...[0xaa, 0xbb], // partition data
]);

const vga = Uint8Array.from([
  0b0001_0000, //     X=0 S=1 PID=000: minimal descriptor
  ...keyTag,
  ...startCode,
  ...[0x80, 0x02], // width  0x0280 = 640, scale 0
  ...[0xe0, 0x01], // height 0x01e0 = 480, scale 0
]);

const maxSize = Uint8Array.from([
  0b0001_0000, //     minimal descriptor
  ...keyTag,
  ...startCode,
  ...[0xff, 0xff], // width  0xffff: scale=11, 0x3fff = 16383
  ...[0xff, 0x7f], // height 0x7fff: scale=01, 0x3fff = 16383
]);

const oneByOne = Uint8Array.from([
  0b0001_0000, //     minimal descriptor
  ...keyTag,
  ...startCode,
  ...[0x01, 0x80], // width  0x8001: scale=10, 1
  ...[0x01, 0x00], // height 1
]);

const zeroWidth = Uint8Array.from([
  0b0001_0000, //     minimal descriptor
  ...keyTag,
  ...startCode,
  ...[0x00, 0xc0], // width  0xc000: scale only, 0
  ...[0xd0, 0x02], // height 720
]);

const zeroHeight = Uint8Array.from([
  0b0001_0000, //     minimal descriptor
  ...keyTag,
  ...startCode,
  ...[0x00, 0x05], // width 1280
  ...[0x00, 0x40], // height 0x4000: scale only, 0
]);

const badStartCode = Uint8Array.from([
  0b0001_0000, //     minimal descriptor
  ...keyTag,
  ...[0x9d, 0x01, 0x2b], // not 9d 01 2a
  ...[0x00, 0x05],
  ...[0xd0, 0x02],
]);

const interframe = Uint8Array.from([
  0b0001_0000, //     minimal descriptor
  0x51, //            P=1: interframe (the rest would read as a 1280×720 header)
  ...[0x2a, 0x01],
  ...startCode,
  ...[0x00, 0x05],
  ...[0xd0, 0x02],
]);

const continuation = Uint8Array.from([
  0b1000_0000, //     X=1 S=0 PID=000: not the start of a partition
  0b1000_0000, //     I=1
  0b0000_0101, //     M=0 PictureID=5
  ...keyTag, //       partition data that looks like a key frame header
  ...startCode,
  ...[0x00, 0x05],
  ...[0xd0, 0x02],
]);

function parsed(bytes: Uint8Array, offset = 0): Vp8Descriptor {
  const d = parseVp8Descriptor(bytes, offset);
  if (d === undefined) {
    throw new Error('fixture does not parse');
  }
  return d;
}

const rows: [name: string, bytes: Uint8Array, want: { width: number; height: number } | undefined][] = [
  ['720p with scale bits set', hd720, { width: 1280, height: 720 }],
  ['VGA, minimal descriptor', vga, { width: 640, height: 480 }],
  ['14-bit maximum, scale bits masked', maxSize, { width: 16383, height: 16383 }],
  ['1×1', oneByOne, { width: 1, height: 1 }],
  ['width 0', zeroWidth, undefined],
  ['height 0', zeroHeight, undefined],
  ['wrong start code', badStartCode, undefined],
  ['interframe (P=1)', interframe, undefined],
  ['S=0 continuation', continuation, undefined],
];

t.test('each fixture', async (t) => {
  for (const [name, bytes, want] of rows) {
    const d = parsed(bytes);
    t.strictSame(vp8KeyframeSize(bytes, d, d.length), want, name);
  }
});

t.test('not a keyframe per the descriptor → undefined, whatever the bytes', async (t) => {
  const d = parsed(hd720);
  t.equal(d.keyframe, true);
  t.equal(vp8KeyframeSize(hd720, { ...d, keyframe: false }, d.length), undefined);
});

t.test('truncated: every prefix shorter than the 10-byte header → undefined, never throws', async (t) => {
  for (const [name, bytes] of [
    ['720p', hd720],
    ['VGA', vga],
  ] as const) {
    const d = parsed(bytes);
    const full = d.length + 10;
    for (let n = 0; n <= bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      const want = n >= full ? vp8KeyframeSize(bytes, d, d.length) : undefined;
      t.strictSame(
        vp8KeyframeSize(prefix, d, d.length),
        want,
        `${name}: ${n} bytes (descriptor of the whole packet)`,
      );
      const own = parseVp8Descriptor(prefix);
      if (own !== undefined) {
        t.strictSame(
          vp8KeyframeSize(prefix, own, own.length),
          want,
          `${name}: ${n} bytes (its own descriptor)`,
        );
      }
    }
    t.notSame(
      vp8KeyframeSize(bytes.subarray(0, full), d, d.length),
      undefined,
      `${name}: exactly ${full} bytes is enough`,
    );
  }
});

t.test('descriptorEnd selects where the VP8 header starts', async (t) => {
  const junk = [0xff, 0xfe, 0xfd];
  const buf = Uint8Array.from([...junk, ...hd720]);
  const d = parsed(buf, 3);
  t.strictSame(vp8KeyframeSize(buf, d, 3 + d.length), { width: 1280, height: 720 }, 'after junk');
  t.strictSame(vp8KeyframeSize(Buffer.from(buf), d, 3 + d.length), { width: 1280, height: 720 }, 'a Buffer');
  t.equal(vp8KeyframeSize(buf, d, d.length), undefined, 'wrong end: no start code there');
  t.equal(vp8KeyframeSize(buf, d, 3 + d.length + 1), undefined, 'one too far');
});

t.test('invalid descriptorEnd → undefined', async (t) => {
  const d = parsed(hd720);
  for (const end of [-1, 1.5, Number.NaN, Infinity, hd720.length, hd720.length - 9, 1e9]) {
    t.equal(vp8KeyframeSize(hd720, d, end), undefined, String(end));
  }
});

t.test('random garbage never throws', async (t) => {
  let seed = 99;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  let threw = 0;
  for (let i = 0; i < 2000; i++) {
    const buf = Uint8Array.from({ length: rnd() % 24 }, () => rnd() & 0xff);
    if (i % 2 === 0 && buf.length > 0) {
      buf[0] = 0x10; // S=1 PID=0: often "keyframe"
    }
    try {
      const d = parseVp8Descriptor(buf);
      if (d !== undefined) {
        vp8KeyframeSize(buf, d, d.length);
        vp8KeyframeSize(buf, { ...d, keyframe: true }, rnd() % 30);
      }
    } catch {
      threw++;
    }
  }
  t.equal(threw, 0);
});

/**
 * H.264 keyframe detection (RFC 6184) on annotated payload fixtures: single NAL units, STAP-A aggregates and
 * FU-A fragments. Every prefix of every fixture is fed too: never throws, and a cut aggregate is not a keyframe.
 */
import t from 'tap';
import { isH264Keyframe } from '../../../src/rtp/h264.js';

// NAL unit header: F(1) NRI(2) Type(5). Multi-byte fields are grouped with `...[]`.

const idr = Uint8Array.from([
  0x65, //                      F=0 NRI=11 Type=5 (IDR slice)
  ...[0x88, 0x84], //           slice data
]);

const sps = Uint8Array.from([
  0x67, //                      F=0 NRI=11 Type=7 (SPS)
  ...[0x42, 0xc0, 0x1f], //     profile_idc=66 (baseline), constraints, level_idc=31
]);

const pps = Uint8Array.from([
  0x68, //                      F=0 NRI=11 Type=8 (PPS)
  ...[0xce, 0x3c, 0x80],
]);

const nonIdr = Uint8Array.from([
  0x41, //                      F=0 NRI=10 Type=1 (non-IDR slice)
  ...[0x9a, 0x02],
]);

const sei = Uint8Array.from([
  0x06, //                      F=0 NRI=00 Type=6 (SEI)
  ...[0x05, 0x01],
]);

const idrForbiddenBit = Uint8Array.from([
  0xe5, //                      F=1 NRI=11 Type=5 (F is not checked)
  0x88,
]);

const idrLowNri = Uint8Array.from([
  0x05, //                      F=0 NRI=00 Type=5
  0x88,
]);

const stapSpsPpsIdr = Uint8Array.from([
  0x78, //                      F=0 NRI=11 Type=24 (STAP-A)
  ...[0x00, 0x04], //           NALU 1 size = 4
  ...[0x67, 0x42, 0xc0, 0x1f], // SPS
  ...[0x00, 0x04], //           NALU 2 size = 4
  ...[0x68, 0xce, 0x3c, 0x80], // PPS
  ...[0x00, 0x02], //           NALU 3 size = 2
  ...[0x65, 0x88], //           IDR
]);

const stapPpsThenSps = Uint8Array.from([
  0x78, //                      STAP-A
  ...[0x00, 0x02], //           size 2
  ...[0x68, 0xce], //           PPS
  ...[0x00, 0x02], //           size 2
  ...[0x67, 0x42], //           SPS (second: still found)
]);

const stapNoKey = Uint8Array.from([
  0x78, //                      STAP-A
  ...[0x00, 0x02], //           size 2
  ...[0x06, 0x05], //           SEI
  ...[0x00, 0x03], //           size 3
  ...[0x41, 0x9a, 0x02], //     non-IDR slice
]);

const stapOverrun = Uint8Array.from([
  0x78, //                      STAP-A
  ...[0x00, 0x02], //           size 2
  ...[0x41, 0x9a], //           non-IDR slice
  ...[0x00, 0x09], //           size 9, but only 2 bytes follow
  ...[0x65, 0x88], //           (an IDR header, cut: not trusted)
]);

const stapZeroSize = Uint8Array.from([
  0x78, //                      STAP-A
  ...[0x00, 0x00], //           size 0: malformed, stop
  ...[0x00, 0x02], //           size 2
  ...[0x65, 0x88], //           IDR after it is not reached
]);

const fuaIdrStart = Uint8Array.from([
  0x7c, //                      FU indicator: F=0 NRI=11 Type=28 (FU-A)
  0x85, //                      FU header: S=1 E=0 R=0 Type=5 (IDR)
  ...[0x88, 0x84],
]);

const fuaIdrMiddle = Uint8Array.from([
  0x7c, //                      FU-A
  0x05, //                      S=0 E=0 R=0 Type=5: a middle fragment
  ...[0x11, 0x22],
]);

const fuaIdrEnd = Uint8Array.from([
  0x7c, //                      FU-A
  0x45, //                      S=0 E=1 R=0 Type=5: the last fragment
  0x33,
]);

const fuaNonIdrStart = Uint8Array.from([
  0x7c, //                      FU-A
  0x81, //                      S=1 E=0 R=0 Type=1 (non-IDR slice)
  0x9a,
]);

const fuaSpsStart = Uint8Array.from([
  0x7c, //                      FU-A
  0x87, //                      S=1 E=0 R=0 Type=7 (a fragmented SPS)
  0x42,
]);

const stapB = Uint8Array.from([
  0x19, //                      Type=25 (STAP-B: not supported)
  ...[0x00, 0x00], //           DON
  ...[0x00, 0x02, 0x65, 0x88], // size 2, IDR
]);

const fub = Uint8Array.from([
  0x1d, //                      Type=29 (FU-B: not supported)
  0x85, //                      S=1 Type=5
  ...[0x00, 0x00, 0x88], //     DON, data
]);

const reserved0 = Uint8Array.from([
  0x00, //                      Type=0 (unspecified)
  0x65,
]);

const reserved31 = Uint8Array.from([
  0x1f, //                      Type=31 (reserved)
  0x65,
]);

const rows: [name: string, bytes: Uint8Array, keyframe: boolean][] = [
  ['single IDR', idr, true],
  ['single SPS', sps, true],
  ['single PPS', pps, false],
  ['single non-IDR slice', nonIdr, false],
  ['single SEI', sei, false],
  ['IDR with F=1', idrForbiddenBit, true],
  ['IDR with NRI=0', idrLowNri, true],
  ['STAP-A SPS+PPS+IDR', stapSpsPpsIdr, true],
  ['STAP-A with SPS second', stapPpsThenSps, true],
  ['STAP-A without SPS/IDR', stapNoKey, false],
  ['STAP-A whose second size overruns', stapOverrun, false],
  ['STAP-A with a zero size', stapZeroSize, false],
  ['FU-A IDR start', fuaIdrStart, true],
  ['FU-A IDR middle', fuaIdrMiddle, false],
  ['FU-A IDR end', fuaIdrEnd, false],
  ['FU-A non-IDR start', fuaNonIdrStart, false],
  ['FU-A SPS start', fuaSpsStart, true],
  ['STAP-B', stapB, false],
  ['FU-B', fub, false],
  ['type 0', reserved0, false],
  ['type 31', reserved31, false],
];

t.test('each fixture', async (t) => {
  for (const [name, bytes, want] of rows) {
    t.equal(isH264Keyframe(bytes), want, name);
  }
});

t.test('empty payload', async (t) => {
  t.equal(isH264Keyframe(new Uint8Array(0)), false);
});

/** The keyframe verdict of each prefix length (shorter than the fixture), by hand. */
const prefixes: [name: string, bytes: Uint8Array, want: (n: number) => boolean][] = [
  // A single NAL is judged by its header byte alone.
  ['single IDR', idr, (n) => n >= 1],
  ['single SPS', sps, (n) => n >= 1],
  ['single non-IDR', nonIdr, () => false],
  // STAP-A: the SPS is seen once its size and header are in and the size does not overrun the cut (n ≥ 7).
  ['STAP-A SPS+PPS+IDR', stapSpsPpsIdr, (n) => n >= 7],
  // The PPS must be complete (n ≥ 5) and the SPS header present with its whole size (n ≥ 9 = full).
  ['STAP-A PPS then SPS', stapPpsThenSps, () => false],
  ['STAP-A without key NALs', stapNoKey, () => false],
  // FU-A: the FU header (second byte) is needed.
  ['FU-A IDR start', fuaIdrStart, (n) => n >= 2],
  ['FU-A non-IDR start', fuaNonIdrStart, () => false],
];

t.test('every prefix of every fixture: never throws, verdict as expected', async (t) => {
  for (const [name, bytes, want] of prefixes) {
    for (let n = 0; n < bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      let got: boolean | undefined;
      t.doesNotThrow(() => {
        got = isH264Keyframe(prefix);
      }, `${name}: ${n} bytes does not throw`);
      t.equal(got, want(n), `${name}: ${n} bytes → ${want(n)}`);
    }
  }
});

t.test('every prefix of the remaining fixtures never throws', async (t) => {
  for (const [name, bytes] of rows) {
    for (let n = 0; n <= bytes.length; n++) {
      t.doesNotThrow(() => isH264Keyframe(bytes.subarray(0, n)), `${name}: ${n} bytes`);
    }
  }
});

t.test('random garbage never throws', async (t) => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  let threw = 0;
  for (let i = 0; i < 2000; i++) {
    const buf = Uint8Array.from({ length: rnd() % 40 }, () => rnd() & 0xff);
    buf[0] = 0x78; // mostly STAP-A, the parsing path
    try {
      isH264Keyframe(i % 2 === 0 ? buf : buf.subarray(1));
    } catch {
      threw++;
    }
  }
  t.equal(threw, 0);
});

/**
 * The forwarded header written in place is byte for byte what the object path made — `writeRtpHeader` of
 * `forwardedExtensions(plan, …)` — over table rows (wrap-around of the sequence number, timestamp, transport
 * sequence number and abs-send-time; one-byte and two-byte forms; equal ids) and seeded random plans; it writes
 * nothing outside its own bytes and never more than FORWARDED_HEADER_MAX.
 */
import t from 'tap';
import {
  FORWARDED_HEADER_MAX,
  writeForwardedHeader,
  type ForwardedFields,
} from '../../../src/rtp/forwardedHeader.js';
import { forwardedExtensions, type ExtensionPlan } from '../../../src/rtp/headerExtensions.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { rng } from '../../helpers/fuzz.js';

function expected(plan: ExtensionPlan, f: ForwardedFields): Buffer {
  return writeRtpHeader({
    ssrc: f.ssrc,
    payloadType: f.payloadType,
    sequenceNumber: f.sequenceNumber,
    timestamp: f.timestamp,
    marker: f.marker,
    padding: f.padding,
    extensions: forwardedExtensions(
      plan,
      f.nowMs,
      f.transportSeq >= 0 ? f.transportSeq : undefined,
      f.audioLevel,
    ),
  });
}

/** Writes at offset 7 of a buffer of sentinels; returns the header and whether anything around it changed. */
function written(plan: ExtensionPlan, f: ForwardedFields): { bytes: Buffer; outside: boolean } {
  const buf = Buffer.alloc(7 + FORWARDED_HEADER_MAX + 9, 0xa5);
  const n = writeForwardedHeader(buf, 7, plan, f);
  const before = buf.subarray(0, 7).every((b) => b === 0xa5);
  const after = buf.subarray(7 + n).every((b) => b === 0xa5);
  return { bytes: Buffer.from(buf.subarray(7, 7 + n)), outside: !(before && after) };
}

const base: ForwardedFields = {
  ssrc: 0x11223344,
  payloadType: 96,
  sequenceNumber: 1000,
  timestamp: 90_000,
  marker: false,
  padding: false,
  nowMs: 1_700_000_000_123,
  transportSeq: -1,
  audioLevel: undefined,
};
const mid = (s: string): { id: number; value: Uint8Array } => ({ id: 9, value: Buffer.from(s) });

const rows: [string, ExtensionPlan, Partial<ForwardedFields>][] = [
  ['no extensions', {}, {}],
  ['no extensions, marker and padding', {}, { marker: true, padding: true }],
  ['sequence number wraps', {}, { sequenceNumber: 0x1ffff }],
  ['timestamp and SSRC above 2^31', {}, { timestamp: 0xffffffff, ssrc: 0xfedcba98 }],
  ['payload type masked to 7 bits', {}, { payloadType: 0xff }],
  ['MID only', { mid: mid('0') }, {}],
  ['MID of 16 bytes', { mid: mid('abcdefghijklmnop') }, {}],
  ['abs-send-time only', { absSendTimeId: 3 }, {}],
  ['abs-send-time wraps every 64 s', { absSendTimeId: 3 }, { nowMs: 64_000 * 1000 - 1 }],
  ['abs-send-time at 0', { absSendTimeId: 3 }, { nowMs: 0 }],
  ['transport-cc negotiated but no number', { transportCcId: 5 }, { transportSeq: -1 }],
  ['transport-cc at 0xffff', { transportCcId: 5 }, { transportSeq: 0xffff }],
  ['transport-cc at 0', { transportCcId: 5 }, { transportSeq: 0 }],
  ['audio level without the extension', {}, { audioLevel: Uint8Array.of(0x85) }],
  ['audio level negotiated, none sent', { audioLevelId: 1 }, {}],
  ['audio level empty', { audioLevelId: 1 }, { audioLevel: new Uint8Array(0) }],
  [
    'all four, ids unsorted',
    { mid: { id: 14, value: Buffer.from('video1') }, absSendTimeId: 2, transportCcId: 7, audioLevelId: 1 },
    { transportSeq: 0xabcd, audioLevel: Uint8Array.of(0x7f) },
  ],
  ['equal ids kept in MID, abs order', { mid: { id: 3, value: Buffer.from('x') }, absSendTimeId: 3 }, {}],
  [
    'audio level of 17 bytes: two-byte form for all',
    { mid: mid('m'), absSendTimeId: 3, audioLevelId: 1 },
    { audioLevel: new Uint8Array(17).fill(2) },
  ],
  [
    'audio level of 255 bytes: two-byte form',
    { absSendTimeId: 3, transportCcId: 4, audioLevelId: 1 },
    { transportSeq: 9, audioLevel: new Uint8Array(255).fill(3) },
  ],
  [
    'audio level of 256 bytes: left out, the rest two-byte',
    { absSendTimeId: 3, audioLevelId: 1 },
    { audioLevel: new Uint8Array(256).fill(4) },
  ],
  ['only an oversized element: no extension block', { audioLevelId: 1 }, { audioLevel: new Uint8Array(300) }],
  [
    'the largest header',
    { mid: mid('abcdefghijklmnop'), absSendTimeId: 2, transportCcId: 3, audioLevelId: 4 },
    { transportSeq: 1, audioLevel: new Uint8Array(255).fill(9) },
  ],
];

t.test('table: in place equals the object path', async (t) => {
  for (const [name, plan, over] of rows) {
    const f = { ...base, ...over };
    const { bytes, outside } = written(plan, f);
    t.same([...bytes], [...expected(plan, f)], name);
    t.notOk(outside, `${name}: nothing written outside the header`);
    t.ok(bytes.length <= FORWARDED_HEADER_MAX, `${name}: within FORWARDED_HEADER_MAX`);
  }
});

t.test('the largest header is FORWARDED_HEADER_MAX bytes', async (t) => {
  const last = rows[rows.length - 1];
  if (last === undefined) {
    throw new Error('no rows');
  }
  t.equal(written(last[1], { ...base, ...last[2] }).bytes.length, FORWARDED_HEADER_MAX);
});

t.test('seeded random plans and fields: in place equals the object path', async (t) => {
  const r = rng(0xf0d);
  const pick = (n: number): number => Math.floor(r() * n);
  const id = (): number | undefined => (r() < 0.25 ? undefined : 1 + pick(14));
  let mismatches = 0;
  const N = 5000;
  for (let i = 0; i < N; i++) {
    const plan: ExtensionPlan = {};
    const midId = id();
    if (midId !== undefined) {
      plan.mid = { id: midId, value: Buffer.alloc(1 + pick(16), 0x61 + pick(26)) };
    }
    const abs = id();
    if (abs !== undefined) {
      plan.absSendTimeId = abs;
    }
    const tcc = id();
    if (tcc !== undefined) {
      plan.transportCcId = tcc;
    }
    const lvl = id();
    if (lvl !== undefined) {
      plan.audioLevelId = lvl;
    }
    const levelLen = r() < 0.1 ? pick(300) : r() < 0.5 ? 1 : 0;
    const f: ForwardedFields = {
      ssrc: Math.floor(r() * 2 ** 32),
      payloadType: pick(256),
      sequenceNumber: pick(0x20000),
      timestamp: Math.floor(r() * 2 ** 32),
      marker: r() < 0.5,
      padding: r() < 0.2,
      nowMs: r() * 2e12,
      transportSeq: r() < 0.3 ? -1 : pick(0x10000),
      audioLevel: levelLen === 0 && r() < 0.5 ? undefined : new Uint8Array(levelLen).fill(pick(256)),
    };
    const { bytes, outside } = written(plan, f);
    if (outside || !bytes.equals(expected(plan, f))) {
      mismatches++;
      if (mismatches === 1) {
        t.fail(`first mismatch at input ${i}: ${JSON.stringify({ plan, f })}`);
      }
    }
  }
  t.equal(mismatches, 0, `${N} random inputs`);
});

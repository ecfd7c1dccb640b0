/**
 * ForwardedHeaderWriter lays a stream's extension block out once and writes only the changing values per
 * packet: every packet it writes is byte for byte `writeForwardedHeader`'s (itself pinned against the object
 * path in forwardedHeader.test.ts) — over a stream whose values wrap (sequence number, timestamp, transport-cc,
 * abs-send-time), whose plan, transport-cc presence and audio level length change between packets (laid out
 * again), in one-byte and two-byte forms; nothing is written outside the header.
 */
import t from 'tap';
import {
  FORWARDED_HEADER_MAX,
  writeForwardedHeader,
  type ForwardedFields,
} from '../../../src/rtp/forwardedHeader.js';
import { ForwardedHeaderWriter } from '../../../src/rtp/forwardedHeaderWriter.js';
import type { ExtensionPlan } from '../../../src/rtp/headerExtensions.js';
import { rng } from '../../helpers/fuzz.js';

/** The writer's header at offset 5 of a buffer of sentinels; whether anything around it changed. */
function viaWriter(w: ForwardedHeaderWriter, plan: ExtensionPlan, f: ForwardedFields) {
  const buf = Buffer.alloc(5 + FORWARDED_HEADER_MAX + 9, 0x5a);
  const n = w.write(buf, 5, plan, f);
  const outside =
    !buf.subarray(0, 5).every((b) => b === 0x5a) || !buf.subarray(5 + n).every((b) => b === 0x5a);
  return { bytes: Buffer.from(buf.subarray(5, 5 + n)), outside };
}

function reference(plan: ExtensionPlan, f: ForwardedFields): Buffer {
  const buf = Buffer.alloc(FORWARDED_HEADER_MAX);
  return Buffer.from(buf.subarray(0, writeForwardedHeader(buf, 0, plan, f)));
}

const base: ForwardedFields = {
  ssrc: 0x8899aabb,
  payloadType: 111,
  sequenceNumber: 0xfffe,
  timestamp: 0xffffff00,
  marker: false,
  padding: false,
  nowMs: 64_000 * 1000 - 2,
  transportSeq: -1,
  audioLevel: undefined,
};

const plans: [string, ExtensionPlan][] = [
  ['none', {}],
  ['MID only', { mid: { id: 9, value: Buffer.from('0') } }],
  ['abs-send-time only', { absSendTimeId: 3 }],
  ['transport-cc only', { transportCcId: 5 }],
  [
    'all four, ids unsorted',
    { mid: { id: 14, value: Buffer.from('video1') }, absSendTimeId: 2, transportCcId: 7, audioLevelId: 1 },
  ],
  [
    'equal ids',
    { mid: { id: 3, value: Buffer.from('x') }, absSendTimeId: 3, transportCcId: 3, audioLevelId: 3 },
  ],
  ['MID of 16 bytes, level', { mid: { id: 1, value: Buffer.from('abcdefghijklmnop') }, audioLevelId: 2 }],
];

/** Packet i of a stream: values stepping across their wraps, marker and padding alternating. */
function packet(i: number, over: Partial<ForwardedFields>): ForwardedFields {
  return {
    ...base,
    sequenceNumber: (base.sequenceNumber + i) & 0xffff,
    timestamp: (base.timestamp + i * 3000) >>> 0,
    nowMs: base.nowMs + i * 0.7,
    marker: i % 3 === 2,
    padding: i % 5 === 4,
    ...over,
  };
}

t.test('a stream per plan: every packet as writeForwardedHeader writes it (values wrapping)', async (t) => {
  for (const [name, plan] of plans) {
    for (const [kind, over] of [
      ['no transport-cc, no level', {}],
      ['transport-cc across 0xffff', { transportSeq: 0xfffe }],
      ['a 1-byte level', { audioLevel: Uint8Array.of(0x90) }],
      ['a 17-byte level (two-byte form)', { audioLevel: new Uint8Array(17).fill(7) }],
      ['a 256-byte level (left out)', { audioLevel: new Uint8Array(256).fill(8) }],
    ] as [string, Partial<ForwardedFields>][]) {
      const w = new ForwardedHeaderWriter();
      for (let i = 0; i < 6; i++) {
        const f = packet(i, over);
        if (over.transportSeq !== undefined) {
          f.transportSeq = (over.transportSeq + i) & 0xffff;
        }
        if (over.audioLevel?.length === 1) {
          f.audioLevel = Uint8Array.of(0x80 | i);
        }
        const got = viaWriter(w, plan, f);
        t.same([...got.bytes], [...reference(plan, f)], `${name}, ${kind}, packet ${i}`);
        t.notOk(got.outside, `${name}, ${kind}, packet ${i}: nothing outside`);
      }
    }
  }
});

t.test('seeded: plan, transport-cc and level length changing mid-stream (laid out again)', async (t) => {
  const r = rng(0x4ead);
  const pick = (n: number): number => Math.floor(r() * n);
  const id = (): number | undefined => (r() < 0.25 ? undefined : 1 + pick(14));
  const newPlan = (): ExtensionPlan => {
    const plan: ExtensionPlan = {};
    const m = id();
    if (m !== undefined) {
      plan.mid = { id: m, value: Buffer.alloc(1 + pick(16), 0x61 + pick(26)) };
    }
    const a = id();
    if (a !== undefined) {
      plan.absSendTimeId = a;
    }
    const c = id();
    if (c !== undefined) {
      plan.transportCcId = c;
    }
    const l = id();
    if (l !== undefined) {
      plan.audioLevelId = l;
    }
    return plan;
  };
  const writers = [new ForwardedHeaderWriter(), new ForwardedHeaderWriter()];
  let plan = newPlan();
  let tcc = true;
  let levelLength = 1;
  let mismatches = 0;
  let layouts = 0;
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    const x = r();
    if (x < 0.02) {
      plan = newPlan();
      layouts++;
    } else if (x < 0.04) {
      tcc = !tcc;
      layouts++;
    } else if (x < 0.06) {
      levelLength = r() < 0.1 ? pick(300) : pick(3);
      layouts++;
    }
    const f: ForwardedFields = {
      ssrc: Math.floor(r() * 2 ** 32),
      payloadType: pick(256),
      sequenceNumber: pick(0x10000),
      timestamp: Math.floor(r() * 2 ** 32),
      marker: r() < 0.5,
      padding: r() < 0.2,
      nowMs: r() * 2e12,
      transportSeq: tcc ? pick(0x10000) : -1,
      audioLevel:
        levelLength === 0 && r() < 0.5 ? undefined : new Uint8Array(levelLength).map(() => pick(256)),
    };
    const w = writers[pick(writers.length)] as ForwardedHeaderWriter;
    const got = viaWriter(w, plan, f);
    if (got.outside || !got.bytes.equals(reference(plan, f))) {
      mismatches++;
      if (mismatches === 1) {
        t.fail(`first mismatch at packet ${i}: ${JSON.stringify({ plan, f })}`);
      }
    }
  }
  t.ok(layouts > 500, `the stream changed layout ${layouts} times`);
  t.equal(mismatches, 0, `${N} packets`);
});

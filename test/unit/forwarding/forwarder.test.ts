/**
 * Forwarder scenario tables (decide-then-apply, one subscriber): each row is one input packet and the whole
 * Decision it must produce. Every scenario runs from several start offsets (and each layer has its own
 * sequence / timestamp / picture id / TL0PICIDX offsets), so rows also cross seq 65535→0, timestamp
 * 2^32-1→0, picture id 32767→0 (or 127→0 for 7-bit ids) and TL0PICIDX 255→0, including exactly at a switch.
 *
 * Row values are relative: inputs to their layer's offsets, outputs to the first forwarded layer's offsets
 * (the first packet passes through unchanged). Video runs at 90 kHz (1 ms = 90 ticks), audio at 48 kHz.
 */
import t from 'tap';
import type { DropReason } from '../../../src/forwarding/dropReason.js';
import { Forwarder } from '../../../src/forwarding/forwarder.js';
import type { Decision, Forward, ForwarderPacket } from '../../../src/forwarding/forwarder.js';
import type { TapTest } from '../../../harness/sfu.js';

interface Offsets {
  seq: number;
  ts: number;
  pid: number;
  tl0: number;
}

/** Start offsets: the first packet of layer 0 (and so the first output) is at these values. */
const STARTS: Offsets[] = [
  { seq: 0, ts: 0, pid: 0, tl0: 0 },
  // The switch at output row 3 (scenario "switch up") lands exactly on seq 0 / pid 0 / TL0PICIDX 0.
  { seq: 65533, ts: 2 ** 32 - 1000, pid: 32765, tl0: 253 },
  // The switching packet's wall-clock timestamp (9060) lands exactly on 2^32 → 0.
  { seq: 40000, ts: 2 ** 32 - 9060, pid: 32760, tl0: 250 },
  { seq: 65535, ts: 2 ** 32 - 1, pid: 32767, tl0: 255 },
  { seq: 65530, ts: 123_456_789, pid: 12_345, tl0: 7 },
];

/** Each layer's own (random-looking) counters, relative to the start: layers never share a numbering. */
const LAYER_BASE: Offsets[] = [
  { seq: 0, ts: 0, pid: 0, tl0: 0 },
  { seq: 3, ts: 1_234_567, pid: 5, tl0: 2 }, // close to layer 0: both wrap within the same rows
  { seq: 30_000, ts: 3_000_000_000, pid: 16_000, tl0: 128 },
];

/** Local time (ms) of row `at: 0`. */
const NOW0 = 1_000_000;

interface Pkt {
  l: number;
  seq: number;
  ts: number;
  /** ms since the scenario started. */
  at: number;
  key?: boolean;
  m?: boolean;
  /** Padding only (payloadSize 0). */
  pad?: boolean;
  pid?: number;
  tl0?: number;
  tid?: number;
  /** The packet's timestamp on the CURRENT layer's clock (relative to that layer's offset). */
  aligned?: number;
}

interface Out {
  seq: number;
  ts: number;
  pid?: number;
  tl0?: number;
  /** switched: true = started/resumed (no `from`), a number = switched from that layer. */
  sw?: true | number;
}

type Step =
  | { p: Pkt; want: Out | DropReason; note?: string }
  | { target: number | undefined }
  | { maxTid: number }
  | { restart: true }
  | { state: { current: number | undefined; target: number | undefined; waiting: boolean } };

interface Scenario {
  name: string;
  audio?: boolean;
  steps: Step[];
}

const mask16 = (x: number): number => x & 0xffff;
const mask32 = (x: number): number => x >>> 0;

interface RunOpts {
  /** VP8 picture id width of the input (7-bit ids are compared on the wire, i.e. mod 128). */
  pidBits: 7 | 15;
}

function run(t: TapTest, sc: Scenario, s: Offsets, opts: RunOpts): void {
  const f = new Forwarder({ clockRate: sc.audio === true ? 48000 : 90000, keyframeGated: sc.audio !== true });
  const pidMask = opts.pidBits === 7 ? 0x7f : 0x7fff;
  const at = `${sc.name} [seq ${s.seq}, ts ${s.ts}, pid ${s.pid & pidMask}/${opts.pidBits}, tl0 ${s.tl0}]`;
  const out = LAYER_BASE[0]!;
  let row = 0;
  for (const step of sc.steps) {
    if ('target' in step) {
      f.setTarget(step.target);
      continue;
    }
    if ('maxTid' in step) {
      f.setMaxTemporalLayer(step.maxTid);
      continue;
    }
    if ('restart' in step) {
      f.restart();
      continue;
    }
    if ('state' in step) {
      t.strictSame(
        { current: f.current, target: f.target, waiting: f.waitingForKeyframe },
        step.state,
        `${at}: state after row ${row}`,
      );
      continue;
    }
    row++;
    const { p, want } = step;
    const b = LAYER_BASE[p.l]!;
    const packet: ForwarderPacket = {
      layer: p.l,
      seq: mask16(s.seq + b.seq + p.seq),
      ts: mask32(s.ts + b.ts + p.ts),
      marker: p.m === true,
      payloadSize: p.pad === true ? 0 : 1000,
      keyframe: p.key === true,
    };
    if (p.pid !== undefined || p.tl0 !== undefined || p.tid !== undefined) {
      packet.vp8 = {};
      if (p.pid !== undefined) {
        packet.vp8.pictureId = (s.pid + b.pid + p.pid) & pidMask;
        packet.vp8.pictureIdBits = opts.pidBits;
      }
      if (p.tl0 !== undefined) {
        packet.vp8.tl0PicIdx = (s.tl0 + b.tl0 + p.tl0) & 0xff;
      }
      if (p.tid !== undefined) {
        packet.vp8.tid = p.tid;
      }
    }
    let aligned: number | undefined;
    if (p.aligned !== undefined) {
      const cur = LAYER_BASE[f.current ?? 0]!;
      aligned = mask32(s.ts + cur.ts + p.aligned);
    }
    let expected: Decision;
    if (typeof want === 'string') {
      expected = { forward: false, reason: want };
    } else {
      const fwd: Forward = {
        forward: true,
        seq: mask16(s.seq + out.seq + want.seq),
        ts: mask32(s.ts + out.ts + want.ts),
        marker: p.m === true,
        switched: want.sw !== undefined,
      };
      if (typeof want.sw === 'number') {
        fwd.from = want.sw;
      }
      if (want.pid !== undefined) {
        fwd.pictureId = (s.pid + out.pid + want.pid) & pidMask;
      }
      if (want.tl0 !== undefined) {
        fwd.tl0PicIdx = (s.tl0 + out.tl0 + want.tl0) & 0xff;
      }
      expected = fwd;
    }
    let got = f.decide(packet, NOW0 + p.at, aligned);
    if (opts.pidBits === 7 && got.forward && got.pictureId !== undefined) {
      // A 7-bit field is written mod 128 (writeVp8PictureId): compare what goes on the wire.
      got = { ...got, pictureId: got.pictureId & 0x7f };
    }
    const what = typeof want === 'string' ? want : `seq ${String(want.seq)} ts ${String(want.ts)}`;
    t.strictSame(
      got,
      expected,
      `${at} row ${row}: ${what}${step.note === undefined ? '' : ` (${step.note})`}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------

const videoStart: Scenario = {
  name: 'video start waits for the target keyframe',
  steps: [
    { p: { l: 0, seq: 0, ts: 0, at: 0, key: true }, want: 'no_layer', note: 'no target yet' },
    { state: { current: undefined, target: undefined, waiting: false } },
    { target: 0 },
    { state: { current: undefined, target: 0, waiting: true } },
    {
      p: { l: 0, seq: 1, ts: 0, at: 1, pid: 0, tl0: 0 },
      want: 'waiting_keyframe',
      note: 'delta of the target',
    },
    {
      p: { l: 1, seq: 0, ts: 0, at: 2, key: true },
      want: 'layer_mismatch',
      note: 'keyframe of another layer',
    },
    { p: { l: 0, seq: 2, ts: 3000, at: 33, pad: true }, want: 'padding', note: 'padding never starts' },
    {
      p: { l: 0, seq: 3, ts: 3000, at: 33, key: true, pid: 1, tl0: 1, tid: 0 },
      want: { seq: 3, ts: 3000, pid: 1, tl0: 1, sw: true },
      note: 'keyframe: starts, everything passes through',
    },
    { state: { current: 0, target: 0, waiting: false } },
    {
      p: { l: 0, seq: 4, ts: 3000, at: 34, m: true, pid: 1, tl0: 1, tid: 0 },
      want: { seq: 4, ts: 3000, pid: 1, tl0: 1 },
      note: 'rest of the keyframe, marker kept',
    },
    {
      p: { l: 0, seq: 2, ts: 0, at: 35, pid: 0, tl0: 0 },
      want: 'before_switch',
      note: 'late, before the start',
    },
    {
      p: { l: 0, seq: 5, ts: 6000, at: 66, pid: 2, tl0: 2, tid: 0 },
      want: { seq: 5, ts: 6000, pid: 2, tl0: 2 },
    },
    { p: { l: 1, seq: 1, ts: 3000, at: 67, key: true }, want: 'layer_mismatch', note: 'not the target' },
    { p: { l: 2, seq: 1, ts: 3000, at: 68 }, want: 'layer_mismatch' },
  ],
};

const switchUp: Scenario = {
  name: 'switch up on the target keyframe (wall clock)',
  steps: [
    { target: 0 },
    {
      p: { l: 0, seq: 0, ts: 0, at: 0, key: true, pid: 0, tl0: 0 },
      want: { seq: 0, ts: 0, pid: 0, tl0: 0, sw: true },
    },
    { p: { l: 0, seq: 1, ts: 3000, at: 33, pid: 1, tl0: 1 }, want: { seq: 1, ts: 3000, pid: 1, tl0: 1 } },
    { target: 1 },
    { state: { current: 0, target: 1, waiting: true } },
    { p: { l: 1, seq: 10, ts: 5000, at: 40, pid: 50, tl0: 20 }, want: 'waiting_keyframe' },
    {
      p: { l: 0, seq: 2, ts: 6000, at: 66, pid: 2, tl0: 2 },
      want: { seq: 2, ts: 6000, pid: 2, tl0: 2 },
      note: 'the current layer keeps flowing until the keyframe',
    },
    { p: { l: 2, seq: 5, ts: 0, at: 70, key: true, pid: 0, tl0: 0 }, want: 'layer_mismatch' },
    {
      p: { l: 1, seq: 11, ts: 8000, at: 100, key: true, pid: 51, tl0: 21 },
      want: { seq: 3, ts: 6000 + 34 * 90, pid: 3, tl0: 3, sw: 0 },
      note: 'switch: seq/pid/tl0 +1, ts = last + 34 ms',
    },
    { state: { current: 1, target: 1, waiting: false } },
    {
      p: { l: 1, seq: 12, ts: 8000, at: 101, m: true, pid: 51, tl0: 21 },
      want: { seq: 4, ts: 9060, pid: 3, tl0: 3 },
      note: 'same frame',
    },
    {
      p: { l: 0, seq: 3, ts: 9000, at: 100, pid: 3, tl0: 3 },
      want: 'layer_mismatch',
      note: 'old layer stops',
    },
    {
      p: { l: 1, seq: 13, ts: 11000, at: 133, pid: 52, tl0: 22 },
      want: { seq: 5, ts: 12060, pid: 4, tl0: 4 },
      note: 'new layer spacing kept',
    },
  ],
};

const alignedSwitches: Scenario = {
  name: 'switch up then down with aligned timestamps',
  steps: [
    { target: 0 },
    {
      p: { l: 0, seq: 0, ts: 0, at: 0, key: true, pid: 0, tl0: 0 },
      want: { seq: 0, ts: 0, pid: 0, tl0: 0, sw: true },
    },
    { p: { l: 0, seq: 1, ts: 3000, at: 33, pid: 1, tl0: 1 }, want: { seq: 1, ts: 3000, pid: 1, tl0: 1 } },
    { target: 2 },
    {
      p: { l: 2, seq: 100, ts: 70000, at: 50, key: true, pid: 900, tl0: 90, aligned: 4500 },
      want: { seq: 2, ts: 4500, pid: 2, tl0: 2, sw: 0 },
      note: 'aligned (1500 ahead) + offset 0',
    },
    {
      p: { l: 2, seq: 101, ts: 73000, at: 83, pid: 901, tl0: 91 },
      want: { seq: 3, ts: 7500, pid: 3, tl0: 3 },
    },
    { target: 1 },
    { p: { l: 1, seq: 7, ts: 2000, at: 84, pid: 29, tl0: 9 }, want: 'waiting_keyframe' },
    {
      p: { l: 2, seq: 102, ts: 73000, at: 85, m: true, pid: 901, tl0: 91 },
      want: { seq: 4, ts: 7500, pid: 3, tl0: 3 },
    },
    {
      p: { l: 1, seq: 8, ts: 2000, at: 90, key: true, pid: 30, tl0: 10, aligned: 74500 },
      want: { seq: 5, ts: 9000, pid: 4, tl0: 4, sw: 2 },
      note: "aligned on layer 2's clock + layer 2's offset (4500 - 70000)",
    },
    {
      p: { l: 1, seq: 9, ts: 5000, at: 123, pid: 31, tl0: 11 },
      want: { seq: 6, ts: 12000, pid: 5, tl0: 5 },
    },
  ],
};

const alignedRejected: Scenario = {
  name: 'aligned timestamps not ahead, or 5 s ahead, fall back to the wall clock',
  steps: [
    { target: 0 },
    { p: { l: 0, seq: 0, ts: 0, at: 0, key: true, pid: 0 }, want: { seq: 0, ts: 0, pid: 0, sw: true } },
    { p: { l: 0, seq: 1, ts: 3000, at: 33, pid: 1 }, want: { seq: 1, ts: 3000, pid: 1 } },
    { target: 1 },
    {
      p: { l: 1, seq: 0, ts: 0, at: 50, key: true, pid: 0, aligned: 3000 },
      want: { seq: 2, ts: 3000 + 17 * 90, pid: 2, sw: 0 },
      note: 'aligned equal to the last output: wall clock 3000 + 17 ms',
    },
    { p: { l: 1, seq: 1, ts: 3000, at: 83, pid: 1 }, want: { seq: 3, ts: 7530, pid: 3 } },
    { target: 0 },
    {
      p: { l: 0, seq: 2, ts: 6000, at: 90, key: true, pid: 2, aligned: 1000 },
      want: { seq: 4, ts: 7530 + 7 * 90, pid: 4, sw: 1 },
      note: 'aligned behind (1000 + 4530 < 7530): wall clock + 7 ms',
    },
    { p: { l: 0, seq: 3, ts: 9000, at: 123, pid: 3 }, want: { seq: 5, ts: 11160, pid: 5 } },
    { target: 1 },
    {
      p: { l: 1, seq: 2, ts: 6000, at: 130, key: true, pid: 2, aligned: 9000 + 450_000 },
      want: { seq: 6, ts: 11160 + 7 * 90, pid: 6, sw: 0 },
      note: 'aligned exactly 5 s ahead: wall clock',
    },
    { p: { l: 1, seq: 3, ts: 9000, at: 163, pid: 3 }, want: { seq: 7, ts: 14790, pid: 7 } },
    { target: 0 },
    {
      p: { l: 0, seq: 4, ts: 12000, at: 170, key: true, pid: 4, aligned: 9000 + 449_999 },
      want: { seq: 8, ts: 14790 + 449_999, pid: 8, sw: 1 },
      note: 'aligned 1 tick under 5 s ahead: used',
    },
    { p: { l: 0, seq: 5, ts: 15000, at: 203, pid: 5 }, want: { seq: 9, ts: 14790 + 449_999 + 3000, pid: 9 } },
  ],
};

const wallClockEdges: Scenario = {
  name: 'wall-clock switch timestamps: at least +1, from the last timestamp increase',
  steps: [
    { target: 0 },
    { p: { l: 0, seq: 0, ts: 0, at: 0, key: true }, want: { seq: 0, ts: 0, sw: true } },
    {
      p: { l: 0, seq: 1, ts: 0, at: 20, m: true },
      want: { seq: 1, ts: 0 },
      note: 'same timestamp later: the clock still counts from 0 ms',
    },
    { target: 1 },
    { p: { l: 1, seq: 0, ts: 777, at: 30, key: true }, want: { seq: 2, ts: 30 * 90, sw: 0 }, note: '+30 ms' },
    { p: { l: 1, seq: 1, ts: 3777, at: 40 }, want: { seq: 3, ts: 5700 } },
    { target: 0 },
    {
      p: { l: 0, seq: 2, ts: 6000, at: 40, key: true, aligned: 3777 },
      want: { seq: 4, ts: 5701, sw: 1 },
      note: 'no time elapsed and aligned not ahead: +1',
    },
    { target: 1 },
    {
      p: { l: 1, seq: 2, ts: 6777, at: 40.004, key: true },
      want: { seq: 5, ts: 5702, sw: 0 },
      note: '0.004 ms rounds to 0 ticks: +1',
    },
    { target: 0 },
    {
      p: { l: 0, seq: 3, ts: 9000, at: 40.03, key: true },
      want: { seq: 6, ts: 5704, sw: 1 },
      note: '0.026 ms = 2.34 ticks since the last increase: rounds to 2',
    },
  ],
};

const padding: Scenario = {
  name: 'padding is dropped without leaving a hole',
  steps: [
    { target: 0 },
    { p: { l: 0, seq: 0, ts: 0, at: 0, key: true, pid: 0 }, want: { seq: 0, ts: 0, pid: 0, sw: true } },
    { p: { l: 0, seq: 1, ts: 0, at: 1, pad: true }, want: 'padding' },
    { p: { l: 0, seq: 2, ts: 3000, at: 33, pid: 1 }, want: { seq: 1, ts: 3000, pid: 1 }, note: 'no hole' },
    { p: { l: 0, seq: 3, ts: 3000, at: 34, pad: true }, want: 'padding' },
    { p: { l: 0, seq: 4, ts: 3000, at: 35, pad: true }, want: 'padding' },
    {
      p: { l: 0, seq: 5, ts: 6000, at: 50, pid: 2 },
      want: { seq: 2, ts: 6000, pid: 2 },
      note: 'two in a row',
    },
    { p: { l: 0, seq: 1, ts: 0, at: 51, pad: true }, want: 'padding', note: 'late padding' },
    { p: { l: 1, seq: 0, ts: 0, at: 52, pad: true }, want: 'padding', note: "another layer's padding" },
    { target: 1 },
    {
      p: { l: 1, seq: 1, ts: 0, at: 53, pad: true },
      want: 'padding',
      note: "the target's padding: no switch",
    },
    {
      p: { l: 0, seq: 6, ts: 6000, at: 54, pad: true },
      want: 'padding',
      note: 'trailing padding of the old layer',
    },
    {
      p: { l: 1, seq: 2, ts: 500, at: 66, key: true, pid: 40 },
      want: { seq: 3, ts: 6000 + 16 * 90, pid: 3, sw: 0 },
      note: 'switch: trailing padding left no hole',
    },
    { p: { l: 1, seq: 3, ts: 500, at: 67, pad: true }, want: 'padding' },
    { p: { l: 1, seq: 4, ts: 3500, at: 99, pid: 41 }, want: { seq: 4, ts: 10440, pid: 4 } },
  ],
};

const temporal: Scenario = {
  name: 'temporal layer filtering (L1T3: tid 0,2,1,2,0,...)',
  steps: [
    { target: 0 },
    { maxTid: 0 },
    {
      p: { l: 0, seq: 0, ts: 0, at: 0, key: true, pid: 0, tl0: 0, tid: 0 },
      want: { seq: 0, ts: 0, pid: 0, tl0: 0, sw: true },
    },
    { p: { l: 0, seq: 1, ts: 3000, at: 33, pid: 1, tl0: 0, tid: 2 }, want: 'temporal_layer' },
    {
      p: { l: 0, seq: 2, ts: 6000, at: 66, pid: 2, tl0: 0, tid: 1 },
      want: 'temporal_layer',
      note: '2 packets',
    },
    { p: { l: 0, seq: 3, ts: 6000, at: 66, m: true, pid: 2, tl0: 0, tid: 1 }, want: 'temporal_layer' },
    { p: { l: 0, seq: 4, ts: 9000, at: 100, pid: 3, tl0: 0, tid: 2 }, want: 'temporal_layer' },
    {
      p: { l: 0, seq: 5, ts: 12000, at: 133, pid: 4, tl0: 1, tid: 0 },
      want: { seq: 1, ts: 12000, pid: 1, tl0: 1 },
      note: 'no seq hole, no picture id hole',
    },
    { maxTid: 1 },
    { p: { l: 0, seq: 6, ts: 15000, at: 166, pid: 5, tl0: 1, tid: 2 }, want: 'temporal_layer' },
    {
      p: { l: 0, seq: 7, ts: 18000, at: 200, pid: 6, tl0: 1, tid: 1 },
      want: { seq: 2, ts: 18000, pid: 2, tl0: 1 },
      note: 'tid 1 now allowed',
    },
    { p: { l: 0, seq: 8, ts: 21000, at: 233, pid: 7, tl0: 1, tid: 2 }, want: 'temporal_layer' },
    { maxTid: 3 },
    {
      p: { l: 0, seq: 9, ts: 24000, at: 266, pid: 8, tl0: 2, tid: 0 },
      want: { seq: 3, ts: 24000, pid: 3, tl0: 2 },
    },
    {
      p: { l: 0, seq: 10, ts: 27000, at: 300, pid: 9, tl0: 2, tid: 2 },
      want: { seq: 4, ts: 27000, pid: 4, tl0: 2 },
      note: 'everything again',
    },
    { maxTid: 0 },
    { p: { l: 0, seq: 11, ts: 30000, at: 333, pid: 10, tl0: 2, tid: 1 }, want: 'temporal_layer' },
    { target: 1 },
    { p: { l: 1, seq: 0, ts: 0, at: 340, pid: 0, tl0: 0, tid: 2 }, want: 'waiting_keyframe' },
    {
      p: { l: 1, seq: 1, ts: 100, at: 350, key: true, pid: 1, tl0: 1, tid: 1 },
      want: { seq: 5, ts: 27000 + 50 * 90, pid: 5, tl0: 3, sw: 0 },
      note: 'switch after a filtered frame: no holes; the switching keyframe is never filtered',
    },
    { p: { l: 1, seq: 2, ts: 3100, at: 383, pid: 2, tl0: 1, tid: 2 }, want: 'temporal_layer' },
    {
      p: { l: 1, seq: 3, ts: 6100, at: 416, pid: 3, tl0: 2, tid: 0 },
      want: { seq: 6, ts: 31500 + 6000, pid: 6, tl0: 4 },
    },
  ],
};

const lateAndOutOfOrder: Scenario = {
  name: 'late and out-of-order packets of the current layer',
  steps: [
    { target: 0 },
    {
      p: { l: 0, seq: 0, ts: 0, at: 0, key: true, pid: 0, tl0: 0 },
      want: { seq: 0, ts: 0, pid: 0, tl0: 0, sw: true },
    },
    { p: { l: 0, seq: 1, ts: 0, at: 1, pid: 0, tl0: 0 }, want: { seq: 1, ts: 0, pid: 0, tl0: 0 } },
    {
      p: { l: 0, seq: 3, ts: 3000, at: 33, pid: 1, tl0: 1 },
      want: { seq: 3, ts: 3000, pid: 1, tl0: 1 },
      note: 'a real loss (2) keeps its hole',
    },
    {
      p: { l: 0, seq: 2, ts: 0, at: 40, m: true, pid: 0, tl0: 0 },
      want: { seq: 2, ts: 0, pid: 0, tl0: 0 },
      note: 'the retransmission fills it',
    },
    {
      p: { l: 0, seq: 4, ts: 3000, at: 45, m: true, pid: 1, tl0: 1 },
      want: { seq: 4, ts: 3000, pid: 1, tl0: 1 },
    },
    { target: 1 },
    {
      p: { l: 1, seq: 0, ts: 100, at: 50, key: true, pid: 10, tl0: 5 },
      want: { seq: 5, ts: 3000 + 17 * 90, pid: 2, tl0: 2, sw: 0 },
      note: 'the late packet (ts 0) did not move the clock back',
    },
    {
      p: { l: 1, seq: 2, ts: 3100, at: 83, pid: 11, tl0: 6 },
      want: { seq: 7, ts: 7530, pid: 3, tl0: 3 },
      note: 'loss of 1 after the switch',
    },
    {
      p: { l: 1, seq: 1, ts: 100, at: 90, m: true, pid: 10, tl0: 5 },
      want: { seq: 6, ts: 4530, pid: 2, tl0: 2 },
      note: 'its retransmission maps into the hole',
    },
    {
      p: { l: 1, seq: -1, ts: -2900, at: 95, pid: 9, tl0: 4 },
      want: 'before_switch',
      note: 'from before the switch',
    },
    { p: { l: 1, seq: -500, ts: -2900, at: 96, pid: 9, tl0: 4 }, want: 'before_switch' },
    {
      p: { l: 0, seq: 5, ts: 6000, at: 97, pid: 2, tl0: 2 },
      want: 'layer_mismatch',
      note: 'old layer, late',
    },
    {
      p: { l: 1, seq: 3, ts: 3100, at: 98, m: true, pid: 11, tl0: 6 },
      want: { seq: 8, ts: 7530, pid: 3, tl0: 3 },
    },
    {
      p: { l: 1, seq: 0, ts: 100, at: 99, key: true, pid: 10, tl0: 5 },
      want: { seq: 5, ts: 4530, pid: 2, tl0: 2 },
      note: 'a duplicate of the switching packet maps as before (not a new switch)',
    },
  ],
};

const pauseAndResume: Scenario = {
  name: 'setTarget(undefined), then a new target: resumes continuously on its keyframe',
  steps: [
    { target: 0 },
    {
      p: { l: 0, seq: 0, ts: 0, at: 0, key: true, pid: 0, tl0: 0 },
      want: { seq: 0, ts: 0, pid: 0, tl0: 0, sw: true },
    },
    { p: { l: 0, seq: 1, ts: 3000, at: 33, pid: 1, tl0: 1 }, want: { seq: 1, ts: 3000, pid: 1, tl0: 1 } },
    { target: undefined },
    { state: { current: undefined, target: undefined, waiting: false } },
    { p: { l: 0, seq: 2, ts: 6000, at: 66, pid: 2, tl0: 2 }, want: 'no_layer' },
    { p: { l: 1, seq: 0, ts: 0, at: 67, key: true, pid: 0, tl0: 0 }, want: 'no_layer' },
    { target: 1 },
    { p: { l: 1, seq: 5, ts: 9999, at: 1033, pid: 69, tl0: 29 }, want: 'waiting_keyframe' },
    { p: { l: 0, seq: 3, ts: 9000, at: 1034, key: true, pid: 3, tl0: 3 }, want: 'layer_mismatch' },
    {
      p: { l: 1, seq: 6, ts: 9999, at: 1033, key: true, pid: 70, tl0: 30 },
      want: { seq: 2, ts: 3000 + 1000 * 90, pid: 2, tl0: 2, sw: true },
      note: 'resumed: +1 everywhere, 1 s of wall clock, no `from`',
    },
    {
      p: { l: 1, seq: 7, ts: 12999, at: 1066, pid: 71, tl0: 31 },
      want: { seq: 3, ts: 96000, pid: 3, tl0: 3 },
    },
    { target: undefined },
    { target: 1 },
    { state: { current: undefined, target: 1, waiting: true } },
    {
      p: { l: 1, seq: 8, ts: 15999, at: 1100, pid: 72, tl0: 32 },
      want: 'waiting_keyframe',
      note: 'same layer',
    },
    {
      p: { l: 1, seq: 9, ts: 15999, at: 1100, key: true, pid: 72, tl0: 32 },
      want: { seq: 4, ts: 96000 + 34 * 90, pid: 4, tl0: 4, sw: true },
    },
  ],
};

const audio: Scenario = {
  name: 'audio forwards from the first packet',
  audio: true,
  steps: [
    { state: { current: undefined, target: 0, waiting: false } },
    { p: { l: 0, seq: 0, ts: 0, at: 0 }, want: { seq: 0, ts: 0, sw: true }, note: 'no keyframe needed' },
    { state: { current: 0, target: 0, waiting: false } },
    { p: { l: 0, seq: 1, ts: 960, at: 20 }, want: { seq: 1, ts: 960 } },
    { p: { l: 0, seq: 2, ts: 1920, at: 40, m: true }, want: { seq: 2, ts: 1920 } },
    { p: { l: 0, seq: 4, ts: 3840, at: 80 }, want: { seq: 4, ts: 3840 }, note: '3 lost' },
    { p: { l: 0, seq: 3, ts: 2880, at: 85 }, want: { seq: 3, ts: 2880 }, note: 'retransmitted' },
    { p: { l: 0, seq: -1, ts: -960, at: 86 }, want: 'before_switch', note: 'older than the first packet' },
    { p: { l: 1, seq: 0, ts: 0, at: 87 }, want: 'layer_mismatch' },
    { p: { l: 0, seq: 5, ts: 4800, at: 90, pad: true }, want: 'padding' },
    { p: { l: 0, seq: 6, ts: 4800, at: 100 }, want: { seq: 5, ts: 4800 } },
    { target: undefined },
    { p: { l: 0, seq: 7, ts: 5760, at: 120 }, want: 'no_layer' },
    { target: 0 },
    {
      p: { l: 0, seq: 8, ts: 7680, at: 2100 },
      want: { seq: 6, ts: 4800 + 2000 * 48, sw: true },
      note: 'resumes at once, 2 s of wall clock',
    },
    { p: { l: 0, seq: 9, ts: 8640, at: 2120 }, want: { seq: 7, ts: 101_760 } },
  ],
};

/** Layer 2 stands for another publisher's track (its own numbering, 30,000 away) on a reused m-line. */
const restartVideo: Scenario = {
  name: 'restart: another source on the same output stream continues its numbering',
  steps: [
    { target: 0 },
    {
      p: { l: 0, seq: 0, ts: 0, at: 0, key: true, pid: 0, tl0: 0 },
      want: { seq: 0, ts: 0, pid: 0, tl0: 0, sw: true },
    },
    { p: { l: 0, seq: 1, ts: 3000, at: 33, pid: 1, tl0: 1 }, want: { seq: 1, ts: 3000, pid: 1, tl0: 1 } },
    { maxTid: 0 },
    { restart: true },
    { state: { current: undefined, target: undefined, waiting: false } },
    {
      p: { l: 0, seq: 2, ts: 6000, at: 66, pid: 2, tl0: 2 },
      want: 'no_layer',
      note: 'the old source stopped',
    },
    { target: 2 },
    { p: { l: 2, seq: 5, ts: 0, at: 1000, pid: 9, tl0: 4 }, want: 'waiting_keyframe' },
    {
      p: { l: 2, seq: 6, ts: 0, at: 1033, key: true, pid: 10, tl0: 5, tid: 0 },
      want: { seq: 2, ts: 3000 + 1000 * 90, pid: 2, tl0: 2, sw: true },
      note: 'the new source: +1 everywhere, 1 s of wall clock, no `from`',
    },
    {
      p: { l: 2, seq: 7, ts: 3000, at: 1066, pid: 11, tl0: 5, tid: 2 },
      want: { seq: 3, ts: 96000, pid: 3, tl0: 2 },
      note: 'the temporal filter was lifted by the restart',
    },
    { p: { l: 2, seq: 4, ts: -3000, at: 1070, pid: 8, tl0: 4 }, want: 'before_switch' },
  ],
};

const restartAudio: Scenario = {
  name: 'restart (audio): the next source forwards from its first packet, numbering continued',
  audio: true,
  steps: [
    { p: { l: 0, seq: 0, ts: 0, at: 0 }, want: { seq: 0, ts: 0, sw: true } },
    { p: { l: 0, seq: 1, ts: 960, at: 20 }, want: { seq: 1, ts: 960 } },
    { restart: true },
    { state: { current: undefined, target: 0, waiting: false } },
    {
      p: { l: 2, seq: 0, ts: 0, at: 520 },
      want: 'layer_mismatch',
      note: 'the one layer of a track is 0: the table`s layer 2 is not it',
    },
    { target: 2 },
    { p: { l: 2, seq: 1, ts: 960, at: 520 }, want: { seq: 2, ts: 960 + 500 * 48, sw: true } },
    { p: { l: 2, seq: 2, ts: 1920, at: 540 }, want: { seq: 3, ts: 960 + 500 * 48 + 960 } },
  ],
};

const scenarios: Scenario[] = [
  videoStart,
  restartVideo,
  restartAudio,
  switchUp,
  alignedSwitches,
  alignedRejected,
  wallClockEdges,
  padding,
  temporal,
  lateAndOutOfOrder,
  pauseAndResume,
  audio,
];

for (const sc of scenarios) {
  t.test(sc.name, async (t) => {
    for (const s of STARTS) {
      run(t, sc, s, { pidBits: 15 });
    }
  });
}

/** 7-bit picture ids: starts where the rows cross 127 → 0 (the table's layer offsets are taken mod 128). */
const STARTS_7: Offsets[] = [
  { seq: 0, ts: 0, pid: 0, tl0: 0 },
  { seq: 65533, ts: 2 ** 32 - 1000, pid: 125, tl0: 253 },
  { seq: 100, ts: 5, pid: 120, tl0: 250 },
  { seq: 65535, ts: 2 ** 32 - 1, pid: 127, tl0: 255 },
];

t.test('7-bit picture ids: the same tables, on the wire mod 128', async (t) => {
  for (const sc of [
    videoStart,
    switchUp,
    alignedSwitches,
    padding,
    temporal,
    lateAndOutOfOrder,
    pauseAndResume,
  ]) {
    for (const s of STARTS_7) {
      run(t, sc, s, { pidBits: 7 });
    }
  }
});

t.test('7-bit picture ids stay continuous across many 127 → 0 wraps and switches', async (t) => {
  const f = new Forwarder({ clockRate: 90000, keyframeGated: true });
  f.setTarget(0);
  const seqIn = [0, 20000, 50000];
  const pidIn = [120, 3, 64];
  const wire: number[] = [];
  let layer = 0;
  for (let frame = 0; frame < 600; frame++) {
    if (frame > 0 && frame % 150 === 0) {
      layer = (layer + 1) % 3;
      f.setTarget(layer);
    }
    const pkt: ForwarderPacket = {
      layer,
      seq: seqIn[layer]! & 0xffff,
      ts: frame * 3000,
      marker: true,
      payloadSize: 100,
      keyframe: frame % 150 === 0,
      vp8: { pictureId: pidIn[layer]! & 0x7f, pictureIdBits: 7 },
    };
    // Every layer keeps running; only the target/current one is forwarded.
    for (let l = 0; l < 3; l++) {
      seqIn[l] = seqIn[l]! + 1;
      pidIn[l] = pidIn[l]! + 1;
    }
    const d = f.decide(pkt, frame * 33);
    if (d.forward && d.pictureId !== undefined) {
      wire.push(d.pictureId & 0x7f);
    }
  }
  t.equal(wire.length, 600, 'every frame forwarded');
  const holes = wire.filter((p, i) => i > 0 && p !== ((wire[i - 1]! + 1) & 0x7f)).length;
  t.equal(holes, 0, 'each picture id is the previous + 1 mod 128');
  t.equal(wire[0], 120, 'the first one passes through');
  t.equal(wire[8], 0, '127 → 0');
});

t.test('setMaxTemporalLayer clamps to 0..3 and floors', async (t) => {
  const rows: [number, number, boolean][] = [
    // [max given, tid of the packet, forwarded?]
    [-5, 0, true], // clamped to 0
    [-5, 1, false],
    [0, 0, true],
    [0, 1, false],
    [1.9, 1, true], // floor → 1
    [1.9, 2, false],
    [2, 2, true],
    [2, 3, false],
    [3, 3, true],
    [99, 3, true], // clamped to 3
  ];
  const f = new Forwarder({ clockRate: 90000, keyframeGated: true });
  f.setTarget(0);
  f.decide({ layer: 0, seq: 0, ts: 0, marker: true, payloadSize: 10, keyframe: true, vp8: { tid: 0 } }, 0);
  let seq = 0;
  for (const [max, tid, forwarded] of rows) {
    f.setMaxTemporalLayer(max);
    seq++;
    const pkt = {
      layer: 0,
      seq,
      ts: seq * 3000,
      marker: true,
      payloadSize: 10,
      keyframe: false,
      vp8: { tid },
    };
    const d = f.decide(pkt, seq * 33);
    t.equal(d.forward, forwarded, `max ${max}, tid ${tid}: ${forwarded ? 'forwarded' : 'dropped'}`);
    if (!d.forward) {
      t.equal(d.reason, 'temporal_layer');
    }
  }
});

t.test('a retransmission of a filtered packet stays dropped after the filter is lifted', async (t) => {
  const f = new Forwarder({ clockRate: 90000, keyframeGated: true });
  f.setTarget(0);
  f.setMaxTemporalLayer(0);
  const pkt = (seq: number, tid: number): ForwarderPacket => ({
    layer: 0,
    seq,
    ts: seq * 3000,
    marker: true,
    payloadSize: 10,
    keyframe: seq === 0,
    vp8: { pictureId: seq, pictureIdBits: 15, tid },
  });
  t.equal(f.decide(pkt(0, 0), 0).forward, true);
  t.strictSame(f.decide(pkt(1, 1), 33), { forward: false, reason: 'temporal_layer' });
  t.match(f.decide(pkt(2, 0), 66), { forward: true, seq: 1, pictureId: 1 });
  f.setMaxTemporalLayer(3);
  // Its output number was given to the next packet: forwarding it now would duplicate seq 1.
  t.equal(f.decide(pkt(1, 1), 70).forward, false, 'late copy of the filtered packet');
  t.match(f.decide(pkt(3, 1), 100), { forward: true, seq: 2, pictureId: 2 });
});

t.test('getters follow the last forwarded packet', async (t) => {
  const f = new Forwarder({ clockRate: 90000, keyframeGated: true });
  t.equal(f.started, false);
  f.setTarget(0);
  f.decide({ layer: 0, seq: 10, ts: 1000, marker: false, payloadSize: 10, keyframe: true }, 500);
  t.strictSame([f.started, f.tsOffset, f.lastOutTs, f.lastOutAt], [true, 0, 1000, 500], 'after the start');
  f.decide({ layer: 0, seq: 9, ts: 900, marker: false, payloadSize: 10, keyframe: false }, 501);
  t.strictSame([f.lastOutTs, f.lastOutAt], [1000, 500], 'a before_switch packet changes nothing');
  f.decide({ layer: 0, seq: 11, ts: 4000, marker: false, payloadSize: 10, keyframe: false }, 533);
  t.strictSame([f.lastOutTs, f.lastOutAt], [4000, 533]);
  f.setTarget(1);
  f.decide({ layer: 1, seq: 70, ts: 2 ** 32 - 10, marker: false, payloadSize: 10, keyframe: true }, 543);
  // 4000 + 10 ms × 90 = 4900 = (2^32 - 10) + offset → offset 4910.
  t.strictSame([f.tsOffset, f.lastOutTs, f.lastOutAt, f.current], [4910, 4900, 543, 1], 'after a switch');
});

// Regression: `before_switch` once compared the packet with the switch point by a signed 16-bit distance, so
// 32768 packets (about 2 minutes of video) after a switch every packet of the current layer read as "before".

t.test('a layer keeps flowing long after its switch (more than half the seq space)', async (t) => {
  for (const first of [0, 40000]) {
    const f = new Forwarder({ clockRate: 48000, keyframeGated: false });
    const reasons = new Map<string, number>();
    let mismatched = 0;
    for (let i = 0; i < 70000; i++) {
      const seq = (first + i) & 0xffff;
      const d = f.decide(
        { layer: 0, seq, ts: (i * 960) >>> 0, marker: false, payloadSize: 50, keyframe: false },
        i * 20,
      );
      if (!d.forward) {
        reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
      } else if (d.seq !== seq) {
        mismatched++;
      }
    }
    t.strictSame(Object.fromEntries(reasons), {}, `from seq ${first}: nothing dropped`);
    t.equal(mismatched, 0, `from seq ${first}: forwarded seq passes through`);
  }
});

t.test(
  'padding slots for probes: reserved after the last packet, the next one continues after them',
  async (t) => {
    for (const s of STARTS) {
      const f = new Forwarder({ clockRate: 90000, keyframeGated: true });
      f.setTarget(0);
      t.equal(f.padding(3), undefined, `from ${s.seq}: nothing before the first packet`);
      const pkt = (seq: number, ts: number, key = false): ForwarderPacket => ({
        layer: 0,
        seq: (s.seq + seq) & 0xffff,
        ts: (s.ts + ts) >>> 0,
        marker: true,
        payloadSize: 100,
        keyframe: key,
      });
      f.decide(pkt(0, 0, true), NOW0);
      f.decide(pkt(1, 3000), NOW0 + 33);
      const slot = f.padding(4);
      t.same(
        slot,
        { seq: (s.seq + 2) & 0xffff, ts: (s.ts + 3000) >>> 0 },
        `from ${s.seq}: slots 2–5, last ts`,
      );
      const next = f.decide(pkt(2, 6000), NOW0 + 66) as Forward;
      t.equal(next.seq, (s.seq + 6) & 0xffff, `from ${s.seq}: the next packet after the padding`);
      const late = f.decide(pkt(1, 3000), NOW0 + 70) as Forward;
      t.equal(late.seq, (s.seq + 1) & 0xffff, `from ${s.seq}: a late retransmission keeps its number`);
    }
  },
);

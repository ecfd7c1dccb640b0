/**
 * Probe choice and padding pacing as tables: which track a probe lifts and towards what rate, the padding
 * of a running probe per tick, and the per-frame padding backlog.
 */
import t from 'tap';
import {
  addProbeBacklog,
  backlogAfterPadding,
  MAX_PADDING_PER_FRAME,
  MAX_PROBE_BACKLOG_BYTES,
  PADDING_BYTES,
  paddingPacketsDue,
  planProbe,
  type ProbeInputs,
  type ProbePlan,
} from '../../../src/forwarding/probePolicy.js';

interface Track {
  name: string;
  rateBps: number;
  heldBackBps: number | undefined;
}

const tr = (name: string, rateBps: number, heldBackBps?: number): Track => ({ name, rateBps, heldBackBps });

function plan(
  over: Partial<ProbeInputs<Track>> & { allow?: boolean },
  asked: string[] = [],
): ProbePlan<Track> {
  return planProbe<Track>({
    probingTargetBps: undefined,
    probeActive: false,
    sendBps: 1_000_000,
    tickMs: 100,
    video: [],
    rateBps: (x) => x.rateBps,
    heldBackBps: (x) => {
      asked.push(x.name);
      return x.heldBackBps;
    },
    mayProbe: () => over.allow ?? true,
    ...over,
  });
}

const a = tr('a', 400_000);
const b = tr('b', 500_000, 1_500_000);
const c = tr('c', 100_000, 300_000);

t.test('planProbe', async (t) => {
  const rows: [string, Partial<ProbeInputs<Track>> & { allow?: boolean }, ProbePlan<Track>][] = [
    ['nothing held back', { video: [a] }, { kind: 'idle' }],
    ['no video', { video: [] }, { kind: 'idle' }],
    [
      'the first held-back track, towards send − its rate + 1.1 × next layer',
      { video: [a, b, c] },
      { kind: 'start', track: b, targetBps: 1_000_000 - 500_000 + 1_500_000 * 1.1 },
    ],
    [
      'the estimator says not now: idle (no other track tried)',
      { video: [b, c], allow: false },
      { kind: 'idle' },
    ],
    [
      'a running probe pads up to its target for one tick',
      { video: [b], probingTargetBps: 1_800_000, probeActive: true },
      { kind: 'pad', bytes: (800_000 / 8) * 0.1 },
    ],
    [
      'a running probe already reached by the media: no padding',
      { video: [b], probingTargetBps: 900_000, probeActive: true },
      { kind: 'pad', bytes: 0 },
    ],
    [
      'a running probe after its padding phase: idle while it settles',
      { video: [b], probingTargetBps: 1_800_000, probeActive: false },
      { kind: 'idle' },
    ],
    [
      'tick length scales the padding',
      { video: [b], probingTargetBps: 1_800_000, probeActive: true, tickMs: 50 },
      { kind: 'pad', bytes: (800_000 / 8) * 0.05 },
    ],
  ];
  for (const [name, over, want] of rows) {
    t.strictSame(plan(over), want, name);
  }
});

t.test('planProbe asks for held-back bitrates lazily, in order, until one is found', async (t) => {
  const asked: string[] = [];
  plan({ video: [a, b, c] }, asked);
  t.strictSame(asked, ['a', 'b']);
  const none: string[] = [];
  plan({ video: [a, b], probingTargetBps: 2_000_000, probeActive: true }, none);
  t.strictSame(none, [], 'not while a probe runs');
});

t.test('padding backlog', async (t) => {
  const add: [number, number, number][] = [
    [0, 1000, 1000],
    [1000, 0, 1000],
    [1000, -5, 1000],
    [1000, Number.NaN, 1000],
    [1000, Number.POSITIVE_INFINITY, 1000],
    [MAX_PROBE_BACKLOG_BYTES - 10, 1000, MAX_PROBE_BACKLOG_BYTES],
  ];
  for (const [before, bytes, after] of add) {
    t.equal(addProbeBacklog(before, bytes), after, `add ${bytes} to ${before}`);
  }
  t.equal(MAX_PROBE_BACKLOG_BYTES, 2 * MAX_PADDING_PER_FRAME * PADDING_BYTES, 'two frames of padding');
  const due: [number, number][] = [
    [0, 0],
    [1, 1],
    [PADDING_BYTES, 1],
    [PADDING_BYTES + 1, 2],
    [PADDING_BYTES * MAX_PADDING_PER_FRAME, MAX_PADDING_PER_FRAME],
    [MAX_PROBE_BACKLOG_BYTES, MAX_PADDING_PER_FRAME],
  ];
  for (const [backlog, n] of due) {
    t.equal(paddingPacketsDue(backlog), n, `due for ${backlog}`);
  }
  const after: [number, number, number][] = [
    [1, 1, 0],
    [PADDING_BYTES + 1, 1, 1],
    [MAX_PROBE_BACKLOG_BYTES, MAX_PADDING_PER_FRAME, MAX_PROBE_BACKLOG_BYTES / 2],
  ];
  for (const [backlog, n, left] of after) {
    t.equal(backlogAfterPadding(backlog, n), left, `${backlog} after ${n} packets`);
  }
});

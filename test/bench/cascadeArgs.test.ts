/** `npm run bench -- cascade` arguments and how a run's points are judged against the targets. */
import t from 'tap';
import { parseArgs, UsageError } from '../../bench/run.js';
import { judge } from '../../bench/runCascade.js';
import type { CascadePoint } from '../../bench/scenarios/cascade.js';
import { orderOf, usPerPacket } from '../../bench/scenarios/cascadeCpu.js';

t.test('cascade arguments', async (t) => {
  const two = parseArgs(['cascade']);
  t.same([two.subs, two.mesh, two.seconds], [[1, 5, 20], false, 10], 'defaults: 1, 5, 20 on A and on B');
  const mesh = parseArgs(['cascade', '--mesh']);
  t.same([mesh.subs, mesh.mesh], [[1, 5, 10], true], 'mesh defaults stay within 40 subscribers');
  t.same(parseArgs(['cascade', '--subs', '2,4', '--mesh', '--seconds', '3']).subs, [2, 4]);
  t.throws(() => parseArgs(['cascade', '--subs', '21']), /at most 40 in all \(N ≤ 20\)/);
  t.throws(() => parseArgs(['cascade', '--mesh', '--subs', '14']), /N ≤ 13/);
  t.throws(() => parseArgs(['fanout', '--mesh']), UsageError, '--mesh is for cascade only');
  t.throws(() => parseArgs(['cascade', '--subs', 'x']), /--subs must be an integer/);
  t.equal(two.niceLoad, 0, "the load runs at the foci's priority unless asked");
  t.equal(parseArgs(['cascade', '--nice-load', '10']).niceLoad, 10);
  t.throws(() => parseArgs(['cascade', '--nice-load', '20']), /--nice-load/, 'nice is 0–19');
  t.throws(() => parseArgs(['fanout', '--nice-load', '5']), UsageError, '--nice-load is for cascade only');
});

function point(o: {
  hop?: [number, number];
  hopAtSocket?: [number, number];
  cpu?: number;
  ratio?: number;
  near?: number;
  far?: number;
  subs?: number;
  remoteSent?: Record<string, number>;
  valid?: boolean;
}): CascadePoint {
  const subs = o.subs ?? 20;
  return {
    foci: o.remoteSent === undefined ? 2 : 3,
    subsNear: subs,
    subsFar: subs,
    seconds: 10,
    cpu: {
      aPct: { w0: 1, w1: 2, w2: 3 },
      usPerTrunkPacket: o.cpu === undefined ? undefined : o.cpu * 50,
      usPerLocalPacket: 50,
      trunkOverLocal: o.cpu,
      fociPctW2: {},
      w2Packets: { trunk: 100, local: 500 },
      windowsMs: { w0: [0, 10_000], w1: [11_000, 21_000], w2: [22_000, 32_000] },
    },
    trunk: {
      packets: 100,
      source: 'test',
      demandedPackets: 100,
      demandedLayers: ['f'],
      sentInW1: { f: 90, audio: 10 },
      remoteIn: 100,
      ratio: o.ratio,
      ...(o.remoteSent !== undefined ? { remoteSent: o.remoteSent } : {}),
    },
    hopMs: o.hop === undefined ? { samples: 0 } : { p50: o.hop[0], p95: o.hop[1], samples: 100 },
    ...(o.hopAtSocket !== undefined
      ? { hopAtSocketMs: { p50: o.hopAtSocket[0], p95: o.hopAtSocket[1], samples: 100 } }
      : {}),
    delivered: { near: o.near ?? 1, far: o.far ?? 1 },
    layersW2: { near: { f: subs }, far: { f: subs } },
    relinks: { w1: {}, w2: {} },
    endedW2: {},
    revokedW2: {},
    sendsW2: {},
    diagW2: {},
    clientCpuPct: [10],
    valid: o.valid ?? true,
  };
}

t.test('judging a run: every valid point must meet each target; unmeasured is undefined', async (t) => {
  const good = { hop: [1, 4] as [number, number], cpu: 0.5, ratio: 1.0 };
  t.same(judge([point({ ...good, subs: 1 }), point(good)]), {
    hopP50: true,
    hopP95: true,
    hopP50AtSocket: undefined,
    hopP95AtSocket: undefined,
    trunkCpuWindows: true,
    trunkPackets: true,
    delivered20x20: true,
    loopRule: true,
  });
  const r = judge([point({ ...good, subs: 1, ratio: 1.03 }), point({ ...good, hop: [2.5, 4], far: 0.98 })]);
  t.equal(r['trunkPackets'], false, 'one N over 1.02');
  t.equal(r['hopP50'], false);
  t.equal(r['hopP95'], true);
  t.equal(r['delivered20x20'], false, '98 % at 20/20');
  t.equal(judge([point({ ...good, subs: 5 })])['delivered20x20'], undefined, 'no 20/20 point');
  t.equal(judge([point({ hop: [1, 4], ratio: 1 })])['trunkCpuWindows'], undefined, 'CPU not measured');
  t.equal(
    judge([point({ ...good, hop: [9, 9], valid: false }), point(good)])['hopP50'],
    true,
    'invalid points ignored',
  );
  t.equal(judge([point({ ...good, remoteSent: { 'b.example': 0, 'c.example': 3 } })])['loopRule'], false);
  const atSockets = judge([
    point({ ...good, subs: 1, hop: [1, 7], hopAtSocket: [0.5, 3] }),
    point({ ...good, hop: [1, 4], hopAtSocket: [0.4, 5] }),
  ]);
  t.same(
    [atSockets['hopP95'], atSockets['hopP50AtSocket'], atSockets['hopP95AtSocket']],
    [false, true, true],
    'the hop at the sockets judged apart (5 ms itself is within)',
  );
  t.equal(
    judge([point({ ...good, hopAtSocket: [2.1, 4] })])['hopP50AtSocket'],
    false,
    'p50 at the sockets over 2 ms',
  );
  t.equal(
    judge([point({ ...good, subs: 1, hopAtSocket: [1, 4] }), point(good)])['hopP95AtSocket'],
    undefined,
    'not measured at one point: not judged',
  );
});

t.test('cascade-cpu arguments', async (t) => {
  const d = parseArgs(['cascade-cpu']);
  t.same([d.subs, d.rounds, d.seconds], [[4], 3, 8], 'defaults: 4 pairs, 3 rounds of 8 s windows');
  const g = parseArgs(['cascade-cpu', '--subs', '2', '--rounds', '5', '--seconds', '12']);
  t.same([g.subs, g.rounds, g.seconds], [[2], 5, 12]);
  t.throws(() => parseArgs(['cascade-cpu', '--subs', '2,4']), /one pair count, 1–8/);
  t.throws(() => parseArgs(['cascade-cpu', '--subs', '9']), /one pair count, 1–8/);
});

t.test(
  'cascade-cpu: the arrangements rotate per round; µs per packet only from positive differences',
  async (t) => {
    t.same(orderOf(0), ['base', 'trunk', 'local']);
    t.same(orderOf(1), ['trunk', 'local', 'base']);
    t.same(orderOf(2), ['local', 'base', 'trunk']);
    t.same(orderOf(3), orderOf(0), 'every third round the same');
    // 5 % of a core more for 1,000 packets/s: 50 µs each.
    t.equal(usPerPacket(0.05, 1), 50);
    t.equal(usPerPacket(0, 1), undefined, 'no difference: not measured');
    t.equal(usPerPacket(-0.01, 1), undefined, 'the window without the path cost more: not measured');
    t.equal(usPerPacket(0.05, 0), undefined, 'no packets');
  },
);

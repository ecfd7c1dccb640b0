/**
 * Bench smoke test: the fanout harness itself works end to end (SFU process, publisher and subscriber
 * processes, measurement window) and delivers at least 99 % of the expected packets on loopback; the same
 * for the Janus side-by-side when Janus is installed (in the bench's own network namespaces). No timing
 * threshold: the figures are printed, not judged (speed targets live in bench/).
 */
import t from 'tap';
import { janusInstalled } from '../../bench/lib/janusServer.js';
import { BenchNetns } from '../../bench/lib/netns.js';
import { parseArgs, UsageError } from '../../bench/run.js';
import { fanoutPoint } from '../../bench/scenarios/fanout.js';

// Two real bench points (≈ 35 s and ≈ 25 s alone; up to 77 s and 41 s beside another test file in CI): more
// than the suite's 120 s per file.
t.setTimeout(300_000);

t.test('fanout with 2 subscribers for 2 s', async (t) => {
  const p = await fanoutPoint(
    2,
    2,
    (s) => {
      t.comment(s);
    },
    1,
  );
  t.comment(JSON.stringify(p));
  t.equal(p.subs, 2);
  t.ok(p.inPps > 0 && p.outPps > 0, 'packets in and out');
  t.ok(p.expected > 0, 'the publisher sent packets in the window');
  t.ok(p.deliveredRatio >= 0.99, `delivered ≥ 99 % of expected (${(p.deliveredRatio * 100).toFixed(2)} %)`);
  t.ok(p.usPerForwarded !== undefined && p.usPerForwarded > 0, 'CPU per forwarded packet measured');
  t.ok(p.latencyMs.p50 !== undefined, 'latency measured');
  t.equal(p.clientCpuPct.length, 2, 'publisher and one subscriber process measured');
});

function janusSkip(): string | false {
  if (!janusInstalled()) {
    return 'janus is not installed (apt-get install -y janus)';
  }
  return process.getuid?.() === 0 ? false : 'network namespaces need root';
}

t.test('fanout --vs janus harness: Janus with 2 subscribers for 2 s', { skip: janusSkip() }, async (t) => {
  const ns = BenchNetns.create();
  t.teardown(() => {
    ns.delete();
  });
  const p = await fanoutPoint(
    2,
    2,
    (s) => {
      t.comment(s);
    },
    1,
    { name: 'janus', ns },
  );
  t.comment(JSON.stringify(p));
  t.equal(p.target, 'janus');
  t.ok(p.expected > 0, 'the publisher sent packets in the window');
  t.ok(p.deliveredRatio >= 0.99, `delivered ≥ 99 % of expected (${(p.deliveredRatio * 100).toFixed(2)} %)`);
  t.ok(p.usPerForwarded !== undefined && p.usPerForwarded > 0, "Janus's CPU per forwarded packet measured");
  t.equal(p.nackSent, undefined, 'no SFU counters for Janus');
});

t.test('arguments: defaults, bounds and errors', async (t) => {
  t.same(parseArgs(['fanout']), {
    scenario: 'fanout',
    subs: [1, 5, 20],
    seconds: 10,
    repeats: 1,
    joins: undefined,
    rounds: 10,
    participants: [2, 4, 6, 8, 10, 12, 14, 16],
    out: undefined,
    vs: undefined,
    mesh: false,
    niceLoad: 0,
    skipUnwatched: false,
    cycles: 1000,
    minutes: 10,
    warmup: 2,
    pin: false,
  });
  t.equal(parseArgs(['fanout', '--vs', 'janus']).vs, 'janus');
  t.same(parseArgs(['fanout', '--subs', '1,5,20', '--seconds', '10']).subs, [1, 5, 20]);
  t.equal(parseArgs(['join', '--joins', '50']).joins, 50);
  t.equal(parseArgs(['switch', '--rounds', '3']).rounds, 3);
  t.same(parseArgs(['meeting', '--participants', '2,3']).participants, [2, 3]);
  t.equal(parseArgs(['cascade-cpu', '--skip-unwatched']).skipUnwatched, true);
  t.equal(parseArgs(['meeting', '--pin']).pin, true);
  t.equal(parseArgs(['cascade-cpu', '--pin']).pin, true);
  t.equal(parseArgs(['meeting']).warmup, 3);
  t.equal(parseArgs(['meeting', '--warmup', '20']).warmup, 20);
  t.throws(() => parseArgs(['fanout', '--pin']), {
    name: 'UsageError',
    message: /--pin: only for `meeting` and `cascade-cpu`/,
  });
  t.equal(parseArgs(['churn', '--cycles', '200']).cycles, 200);
  t.same(parseArgs(['soak']).participants, [6]);
  t.same(parseArgs(['soak', '--minutes', '2', '--participants', '4']), {
    ...parseArgs(['soak']),
    minutes: 2,
    participants: [4],
  });
  t.equal(parseArgs(['fanout']).warmup, 2);
  t.equal(parseArgs(['fanout', '--warmup', '30']).warmup, 30);
  t.same(parseArgs(['flood']), { ...parseArgs(['flood']), participants: [4], seconds: 8 });
  t.same(parseArgs(['flood', '--participants', '3', '--seconds', '5']), {
    ...parseArgs(['flood']),
    participants: [3],
    seconds: 5,
  });
  const bad: string[][] = [
    [],
    ['--subs'],
    ['fanout', '--subs', '0'],
    ['fanout', '--subs', '41'],
    ['fanout', '--seconds', '61'],
    ['fanout', '--seconds', 'x'],
    ['fanout', '--repeats', '6'],
    ['fanout', '--what', '1'],
    ['fanout', '--subs'],
    ['nope'],
    ['join', '--joins', '51'],
    ['switch', '--rounds', '31'],
    ['fanout', '--vs', 'mediasoup'],
    ['meeting', '--participants', '1'],
    ['meeting', '--participants', '31'],
    ['join', '--vs', 'janus'],
    ['cascade', '--skip-unwatched'],
    ['fanout', '--cycles', '10'],
    ['churn', '--cycles', '3'],
    ['churn', '--cycles', '5001'],
    ['soak', '--minutes', '61'],
    ['soak', '--participants', '4,6'],
    ['meeting', '--minutes', '2'],
    ['flood', '--participants', '3,4'],
    ['flood', '--minutes', '2'],
    ['fanout', '--warmup', '121'],
    ['join', '--warmup', '5'],
    ['meeting', '--pin', '--mesh'],
  ];
  for (const argv of bad) {
    t.throws(() => parseArgs(argv), UsageError, JSON.stringify(argv));
  }
});

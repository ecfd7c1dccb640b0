// Link liveness (protocol.md §8.7): suspension on missed `alive` or media silence, ICE restart by the initiator,
// relink after 5 s, remote tracks kept for relink_grace_s, replacement after a restart — driven on a fake clock
// that delivers scripted events and ticks at every deadline the state machine returns.
import t from 'tap';
import {
  LinkLiveness,
  linkLivenessConfig,
  type LivenessEvent,
  type LivenessState,
} from '../../../src/conference/linkLiveness.js';

const CFG = { aliveIntervalMs: 1000, relinkGraceMs: 20_000 };

interface Run {
  /** `${time}:${kind}` (plus `:${cause}` for suspend/relink and `:${callId}` where it matters). */
  log: string[];
  state: LivenessState;
  deadline: number | undefined;
}

/**
 * Delivers `script` events at their times and a tick at every returned deadline, up to `until` (inclusive).
 * `send_alive` entries are left out of the log unless `withAlive`.
 */
function drive(
  l: LinkLiveness,
  script: readonly [number, LivenessEvent][],
  until: number,
  withAlive = false,
): Run {
  const log: string[] = [];
  const queue = [...script].sort((a, b) => a[0] - b[0]);
  let deadline: number | undefined;
  let state = l.state;
  for (let guard = 0; ; guard++) {
    if (guard === 100_000) {
      throw new Error('drive: too many steps');
    }
    const nextEvent = queue[0];
    const eventAt = nextEvent?.[0] ?? Number.POSITIVE_INFINITY;
    const tickAt = deadline ?? Number.POSITIVE_INFINITY;
    const at = Math.min(eventAt, tickAt);
    if (at > until) {
      break;
    }
    const now = at;
    const ev: LivenessEvent = eventAt <= tickAt && nextEvent !== undefined ? nextEvent[1] : { kind: 'tick' };
    if (eventAt <= tickAt) {
      queue.shift();
    }
    const r = l.handle(ev, now);
    for (const a of r.actions) {
      if (a.kind === 'send_alive' && !withAlive) {
        continue;
      }
      const extra =
        a.kind === 'suspend' || a.kind === 'relink'
          ? `:${a.cause}`
          : a.kind === 'rebind_tracks' || a.kind === 'send_demand'
            ? `:${a.callId}`
            : '';
      log.push(`${String(now)}:${a.kind}${extra}`);
    }
    state = r.state;
    deadline = r.deadline;
    if (deadline !== undefined && deadline < now) {
      throw new Error(`deadline ${String(deadline)} in the past at ${String(now)}`);
    }
  }
  return { log, state, deadline };
}

/** Remote `alive` every second from `from` to `to` (exclusive). */
function alives(from: number, to: number, every = 1000): [number, LivenessEvent][] {
  const out: [number, LivenessEvent][] = [];
  for (let t = from; t < to; t += every) {
    out.push([t, { kind: 'alive' }]);
  }
  return out;
}

function media(from: number, to: number, every = 20): [number, LivenessEvent][] {
  const out: [number, LivenessEvent][] = [];
  for (let t = from; t < to; t += every) {
    out.push([t, { kind: 'media' }]);
  }
  return out;
}

const start = (initiator: boolean): [number, LivenessEvent][] => [
  [0, { kind: 'call', callId: 'c1', initiator }],
  [100, { kind: 'connected' }],
];

t.test('linkLivenessConfig converts the §9 keys to ms', async (t) => {
  t.same(linkLivenessConfig({ link_alive_s: 1, relink_grace_s: 20 }), CFG);
});

t.test('a healthy link stays connected and sends alive every link_alive_s', async (t) => {
  const l = new LinkLiveness(CFG);
  const r = drive(l, [...start(true), ...alives(1000, 20_000)], 10_100, true);
  t.same(r.log.slice(0, 2), ['100:send_demand:c1', '100:send_alive'], 'first link: demand, no rebind');
  t.equal(r.log.filter((e) => e.endsWith('send_alive')).length, 11, 'one alive per second from 100 to 10100');
  t.same(
    r.log.filter((e) => !e.endsWith('send_alive') && !e.endsWith('send_demand:c1')),
    [],
    'nothing else',
  );
  t.equal(r.state, 'connected');
});

t.test(
  '3 missed alive suspend the link at exactly 3 intervals; the initiator restarts ICE at once',
  async (t) => {
    const l = new LinkLiveness(CFG);
    // Last alive at 4000: suspended at 7000.
    const before = drive(l, [...start(true), ...alives(1000, 5000)], 6999);
    t.equal(before.state, 'connected');
    const l2 = new LinkLiveness(CFG);
    const r = drive(l2, [...start(true), ...alives(1000, 5000)], 11_999);
    t.same(r.log, ['100:send_demand:c1', '7000:suspend:alive', '7000:ice_restart']);
    t.equal(r.state, 'suspended');
    t.equal(r.deadline, 12_000, 'relink 5 s after the offer');
    const l3 = new LinkLiveness(CFG);
    const r3 = drive(l3, [...start(true), ...alives(1000, 5000)], 12_000);
    t.same(r3.log.slice(3), ['12000:relink:alive']);
    t.equal(r3.state, 'down');
  },
);

t.test('the invitee does not restart ICE and gives the initiator its 1 s before the 5 s', async (t) => {
  const l = new LinkLiveness(CFG);
  const r = drive(l, [...start(false), ...alives(1000, 5000)], 13_000);
  t.same(r.log, ['100:send_demand:c1', '7000:suspend:alive', '13000:relink:alive']);
});

t.test('2 s without RTP/RTCP suspends only while streams are demanded', async (t) => {
  const idle = new LinkLiveness(CFG);
  const quiet = drive(idle, [...start(true), ...alives(1000, 30_000)], 29_000);
  t.equal(quiet.state, 'connected', 'no demand: silence is fine');

  const l = new LinkLiveness(CFG);
  const r = drive(
    l,
    [
      ...start(true),
      [200, { kind: 'demand', expecting: true }],
      ...alives(1000, 30_000),
      ...media(300, 5000),
    ],
    7000,
  );
  // Last media at 4980: suspended at 6980.
  t.same(r.log, ['100:send_demand:c1', '6980:suspend:media', '6980:ice_restart']);

  const late = new LinkLiveness(CFG);
  const r2 = drive(
    late,
    [...start(true), ...alives(1000, 30_000), [5000, { kind: 'demand', expecting: true }]],
    7000,
  );
  t.same(
    r2.log,
    ['100:send_demand:c1', '7000:suspend:media', '7000:ice_restart'],
    'silence counts from the demand',
  );
});

t.test('alive and media back during the suspension: resume on the same call, nothing removed', async (t) => {
  const l = new LinkLiveness(CFG);
  const r = drive(l, [...start(true), ...alives(1000, 5000), ...alives(9000, 40_000)], 40_000);
  t.same(r.log, ['100:send_demand:c1', '7000:suspend:alive', '7000:ice_restart', '9000:resume']);
  t.equal(r.state, 'connected');

  const m = new LinkLiveness(CFG);
  const r2 = drive(
    m,
    [
      ...start(true),
      [200, { kind: 'demand', expecting: true }],
      ...alives(1000, 40_000),
      ...media(300, 3000),
      ...media(8000, 40_000),
    ],
    40_000,
  );
  t.same(r2.log, ['100:send_demand:c1', '4980:suspend:media', '4980:ice_restart', '8000:resume']);

  const a = new LinkLiveness(CFG);
  const r3 = drive(
    a,
    [
      ...start(true),
      [200, { kind: 'demand', expecting: true }],
      ...media(300, 40_000),
      ...alives(1000, 3000),
    ],
    6000,
  );
  t.same(r3.log, ['100:send_demand:c1', '5000:suspend:alive', '5000:ice_restart'], 'media alone: no resume');
});

t.test('relink in time: the new call rebinds the kept tracks and re-sends the demand', async (t) => {
  const l = new LinkLiveness(CFG);
  const r = drive(
    l,
    [
      ...start(true),
      ...alives(1000, 5000),
      [12_500, { kind: 'call', callId: 'c2', initiator: true }],
      [13_000, { kind: 'connected' }],
      ...alives(14_000, 60_000),
    ],
    60_000,
  );
  t.same(r.log, [
    '100:send_demand:c1',
    '7000:suspend:alive',
    '7000:ice_restart',
    '12000:relink:alive',
    '13000:rebind_tracks:c2',
    '13000:send_demand:c2',
  ]);
  t.equal(r.state, 'connected');
});

t.test('no link within relink_grace_s of the suspension: the remote tracks are removed', async (t) => {
  const l = new LinkLiveness(CFG);
  const r = drive(l, [...start(true), ...alives(1000, 5000)], 60_000);
  t.same(r.log, [
    '100:send_demand:c1',
    '7000:suspend:alive',
    '7000:ice_restart',
    '12000:relink:alive',
    '27000:remove_remote_tracks',
  ]);
  t.equal(r.state, 'idle');
  t.equal(r.deadline, undefined);
  const late = new LinkLiveness(CFG);
  const r2 = drive(
    late,
    [
      ...start(true),
      ...alives(1000, 5000),
      [30_000, { kind: 'call', callId: 'c2', initiator: false }],
      [30_500, { kind: 'connected' }],
    ],
    30_500,
  );
  t.same(r2.log.slice(-2), ['27000:remove_remote_tracks', '30500:send_demand:c2'], 'too late: no rebind');

  const zero = new LinkLiveness({ ...CFG, relinkGraceMs: 0 });
  const r3 = drive(zero, [...start(true), ...alives(1000, 5000)], 60_000);
  t.same(r3.log, [
    '100:send_demand:c1',
    '7000:suspend:alive',
    '7000:ice_restart',
    '7000:remove_remote_tracks',
    '12000:relink:alive',
  ]);
});

t.test(
  'a replacement invite from the linked focus (restart): new call, tracks rebound, demand re-sent',
  async (t) => {
    const l = new LinkLiveness(CFG);
    const r = drive(
      l,
      [
        ...start(true),
        ...alives(1000, 60_000),
        [5000, { kind: 'replaced', callId: 'c2' }],
        [5400, { kind: 'connected' }],
      ],
      60_000,
    );
    t.same(r.log, ['100:send_demand:c1', '5400:rebind_tracks:c2', '5400:send_demand:c2']);
    t.equal(r.state, 'connected');

    const never = new LinkLiveness(CFG);
    const r2 = drive(
      never,
      [...start(true), ...alives(1000, 5000), [3000, { kind: 'replaced', callId: 'c2' }]],
      60_000,
    );
    t.same(r2.log, ['100:send_demand:c1', '23000:remove_remote_tracks'], 'the new call never connects');

    const suspended = new LinkLiveness(CFG);
    const r3 = drive(
      suspended,
      [
        ...start(false),
        ...alives(1000, 5000),
        [8000, { kind: 'replaced', callId: 'c2' }],
        [8200, { kind: 'connected' }],
        ...alives(9000, 60_000),
      ],
      60_000,
    );
    t.same(
      r3.log,
      ['100:send_demand:c1', '7000:suspend:alive', '8200:rebind_tracks:c2', '8200:send_demand:c2'],
      'replaced while suspended: no relink of the old call',
    );
  },
);

t.test('ended by the remote: tracks kept for the grace; closed by us: removed at once', async (t) => {
  const l = new LinkLiveness(CFG);
  const r = drive(l, [...start(true), ...alives(1000, 60_000), [3000, { kind: 'ended' }]], 60_000);
  t.same(r.log, ['100:send_demand:c1', '23000:remove_remote_tracks']);
  t.equal(r.state, 'idle');

  const c = new LinkLiveness(CFG);
  const r2 = drive(c, [...start(true), ...alives(1000, 60_000), [3000, { kind: 'closed' }]], 60_000);
  t.same(r2.log, ['100:send_demand:c1', '3000:remove_remote_tracks']);
  t.equal(r2.state, 'idle');
  t.equal(r2.deadline, undefined);

  const never = new LinkLiveness(CFG);
  const r3 = drive(
    never,
    [
      [0, { kind: 'call', callId: 'c1', initiator: true }],
      [500, { kind: 'ended' }],
      [600, { kind: 'closed' }],
    ],
    60_000,
  );
  t.same(r3.log, [], 'a call that never connected has no tracks to keep or remove');
  t.equal(r3.state, 'idle');
});

/**
 * media/consentChecks: the focus's own ICE consent checks (RFC 7675) in place of werift's loop, on stand-ins of
 * werift's connection with a fake clock.
 * - Adopted only while werift's loop runs, with werift's whole shape, on a pair the fast path reads; not for an
 *   ICE-lite focus, a request that would nominate, a pair not read, or when turned off. Adopting stops werift's
 *   loop (a new session) and is idempotent.
 * - Requests every 4–6 s (the randomization's ends), each a Binding request with the connection's username and a
 *   new transaction id, sent to the nominated pair's remote address on its socket.
 * - An authenticated answer to the outstanding request from that address refreshes consent (round-trip
 *   statistics, 'disconnected' → 'connected'); a stale, forged or misaddressed one does not. Answered checks
 *   keep the connection past the timeout; 30 s without one: `consentFresh` false, a new session, 'failed'.
 * - werift ending the session ends the entry; a pair no longer read gives the connection back to werift's loop;
 *   werift's `queryConsent` (ICE restart) starts a new entry here.
 * - An answer arriving after the nominated pair changed is taken but refreshes nothing (werift's rule).
 * - A step of the wall clock (an hour either way, with an answer between the step and the next tick) neither
 *   expires consent nor stops the checks; consent still ends 30 s after the last answer.
 */
import t from 'tap';
import { ConsentChecks, type ConsentConnection } from '../../../src/media/consentChecks.js';
import { bindingSuccess, readBindingRequest } from '../../../src/media/stunBinding.js';
import { Ticker } from '../../../src/util/ticker.js';
import { FakeClock } from '../../helpers/fakeClock.js';

const REMOTE_PASSWORD = 'remote-password-0123456789';

function standIn() {
  const sent: { data: Buffer; port: number; host: string }[] = [];
  const socket = {
    send: (data: Buffer, port: number, host: string) => {
      sent.push({ data, port, host });
    },
  };
  const protocol = { transport: { socket } };
  const pair = {
    protocol,
    remoteCandidate: { host: '127.0.0.9', port: 4000 },
    localCandidate: {},
    rtt: undefined as number | undefined,
    responsesReceived: 0,
    roundTripTimeMeasurements: 0,
    totalRoundTripTime: 0,
    consentRequestsSent: 0,
    requestsSent: 0,
  };
  const calls = { stop: 0, weriftQuery: 0, states: [] as string[] };
  const conn = {
    state: 'connected',
    nominated: pair as typeof pair | undefined,
    consentFresh: true,
    consentSessionId: 3,
    queryConsentHandle: {} as object | undefined, // werift's loop runs
    localUsername: 'locl',
    remoteUsername: 'remo',
    remotePassword: REMOTE_PASSWORD,
    iceControlling: false,
    remoteIsLite: false,
    iceLite: false,
    tieBreaker: 77n,
    stopConsentLifecycle() {
      calls.stop++;
      this.consentSessionId++;
      this.consentFresh = false;
      this.queryConsentHandle = undefined;
    },
    queryConsent: undefined as unknown as () => void,
    setState(s: string) {
      calls.states.push(s);
      this.state = s;
    },
    buildRequest: () => ({
      getAttributeValue: (name: string) => (name === 'PRIORITY' ? 1862270975 : undefined),
    }),
  };
  conn.queryConsent = () => {
    calls.weriftQuery++;
    conn.consentSessionId++;
    conn.queryConsentHandle = {};
  };
  return { conn, pair, protocol, sent, calls };
}

function setup(opts: { random?: number; enabled?: boolean } = {}) {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  const checks = new ConsentChecks(new Ticker(clock, 100), clock, (e) => errors.push(e), {
    random: () => opts.random ?? 0.5,
    ...(opts.enabled === undefined ? {} : { enabled: opts.enabled }),
  });
  let read = true;
  const routed = () => read;
  const s = standIn();
  const c = s.conn as unknown as ConsentConnection;
  return {
    ...s,
    c,
    clock,
    checks,
    errors,
    routed,
    stopReading: () => {
      read = false;
    },
  };
}

/** The answer the remote agent sends to request `i` of `sent`. */
function answerTo(s: ReturnType<typeof setup>, i = s.sent.length - 1, password = REMOTE_PASSWORD): Buffer {
  return bindingSuccess(s.sent[i]!.data, ['127.0.0.1', 9999], password)!;
}
const from: readonly [string, number] = ['127.0.0.9', 4000];

t.test('adopted only where everything holds', async (t) => {
  const rows: [string, (s: ReturnType<typeof setup>) => void][] = [
    ["werift's loop not running", (s) => (s.conn.queryConsentHandle = undefined)],
    ['an ICE-lite focus', (s) => (s.conn.iceLite = true)],
    [
      'controlling a lite peer (requests nominate)',
      (s) => {
        s.conn.iceControlling = true;
        s.conn.remoteIsLite = true;
      },
    ],
    [
      'the pair not read by the fast path',
      (s) => {
        s.stopReading();
      },
    ],
    ['no nominated pair', (s) => (s.conn.nominated = undefined)],
    ['a closed connection', (s) => (s.conn.state = 'closed')],
    ['no tie-breaker (another shape)', (s) => ((s.conn as { tieBreaker?: unknown }).tieBreaker = undefined)],
  ];
  for (const [name, change] of rows) {
    const s = setup();
    change(s);
    t.notOk(s.checks.adopt(s.c, s.routed), name);
    t.equal(s.calls.stop, 0, `${name}: werift's loop untouched`);
  }
  const off = setup({ enabled: false });
  t.notOk(off.checks.adopt(off.c, off.routed), 'turned off');

  const s = setup();
  t.ok(s.checks.adopt(s.c, s.routed), 'adopted');
  t.equal(s.calls.stop, 1, "werift's loop stopped");
  t.equal(s.conn.consentSessionId, 4, 'a new consent session');
  t.equal(s.conn.consentFresh, true);
  t.ok(s.checks.owns(s.c));
  t.ok(s.checks.adopt(s.c, s.routed), 'again: still ours');
  t.equal(s.calls.stop, 1, 'idempotent');
  t.equal(s.checks.size, 1);
});

t.test('requests every 4–6 s, to the pair, each with a new transaction id', async (t) => {
  for (const [random, gap] of [
    [0, 4000],
    [0.999, 5996],
  ] as const) {
    const s = setup({ random });
    s.checks.adopt(s.c, s.routed);
    s.clock.advance(gap - 100);
    t.equal(s.sent.length, 0, `random ${random}: nothing before ${gap} ms`);
    s.clock.advance(200);
    t.equal(s.sent.length, 1, `random ${random}: the first at ${gap} ms (on the 100-ms tick)`);
    s.checks.onResponse(s.c, s.protocol, answerTo(s), from);
    s.clock.advance(gap);
    t.equal(s.sent.length, 2, `random ${random}: the next ${gap} ms later`);
    const [a, b] = s.sent;
    t.equal(a!.host, '127.0.0.9');
    t.equal(a!.port, 4000);
    const req = readBindingRequest(a!.data);
    t.equal(req?.username, 'remo:locl', 'USERNAME: remote ufrag, then ours');
    t.equal(req?.iceControlled, true, 'our role: controlled');
    t.not(
      a!.data.subarray(8, 20).toString('hex'),
      b!.data.subarray(8, 20).toString('hex'),
      'new transaction id',
    );
    t.equal(s.pair.consentRequestsSent, 2);
    t.equal(s.checks.counters.sent, 2);
  }
});

t.test('answers refresh consent; only the right one counts', async (t) => {
  const s = setup();
  s.checks.adopt(s.c, s.routed);
  s.clock.advance(5000);
  t.equal(s.sent.length, 1);
  const good = answerTo(s);
  t.notOk(s.checks.onResponse(s.c, s.protocol, answerTo(s, 0, 'wrong-password'), from), 'forged');
  t.notOk(s.checks.onResponse(s.c, s.protocol, good, ['127.0.0.9', 4001]), 'from another port');
  t.notOk(s.checks.onResponse(s.c, s.protocol, good, ['127.0.0.8', 4000]), 'from another host');
  t.notOk(s.checks.onResponse(s.c, { transport: { socket: {} } }, good, from), 'on another socket');
  s.conn.state = 'disconnected';
  s.clock.advance(30);
  t.ok(s.checks.onResponse(s.c, s.protocol, good, from), 'the answer');
  t.equal(s.conn.state, 'connected', "'disconnected' → 'connected'");
  t.equal(s.pair.responsesReceived, 1);
  t.equal(s.pair.roundTripTimeMeasurements, 1);
  t.ok(s.pair.rtt !== undefined && s.pair.rtt >= 0.03 && s.pair.rtt < 0.2, `rtt ${s.pair.rtt} s`);
  t.notOk(s.checks.onResponse(s.c, s.protocol, good, from), 'the same answer twice: once');
  s.clock.advance(5000);
  t.equal(s.sent.length, 2);
  t.notOk(
    s.checks.onResponse(s.c, s.protocol, good, from),
    "the last request's answer does not answer this one",
  );
  t.equal(s.checks.counters.answered, 1);
});

t.test('answered: connected past the timeout; unanswered: failed at 30 s', async (t) => {
  const s = setup();
  s.checks.adopt(s.c, s.routed);
  for (let i = 0; i < 24; i++) {
    s.clock.advance(2500); // 60 s
    if (s.sent.length > s.checks.counters.answered) {
      s.checks.onResponse(s.c, s.protocol, answerTo(s), from);
    }
  }
  t.equal(s.conn.state, 'connected', 'answered for 60 s: still connected');
  t.equal(s.sent.length, 12, 'a check every 5 s');

  const quiet = setup();
  quiet.checks.adopt(quiet.c, quiet.routed);
  quiet.clock.advance(29_900);
  t.equal(quiet.conn.state, 'connected', 'still connected just before 30 s');
  t.equal(quiet.conn.consentFresh, true);
  t.equal(quiet.sent.length, 5, 'kept asking meanwhile');
  quiet.clock.advance(200);
  t.equal(quiet.conn.state, 'failed', "30 s without an answer: 'failed'");
  t.equal(quiet.conn.consentFresh, false, 'no consent to send');
  t.equal(quiet.conn.consentSessionId, 5, 'the session ended');
  t.equal(quiet.checks.counters.expired, 1);
  t.equal(quiet.checks.size, 0);
  quiet.clock.advance(20_000);
  t.equal(quiet.sent.length, 5, 'no request after');
});

t.test(
  "werift ends the session; a pair not read goes back to werift's loop; ICE restart starts here",
  async (t) => {
    const s = setup();
    s.checks.adopt(s.c, s.routed);
    s.conn.stopConsentLifecycle(); // werift: ICE restart or a new nominated pair
    s.clock.advance(10_000);
    t.equal(s.sent.length, 0, 'no request after werift ended the session');
    t.equal(s.checks.size, 0);
    t.notOk(s.checks.owns(s.c));

    s.conn.queryConsent(); // werift, when ICE connects again
    t.ok(s.checks.owns(s.c), "werift's queryConsent now starts our entry");
    t.equal(s.calls.weriftQuery, 0, "werift's own loop not started");
    s.clock.advance(5000);
    t.equal(s.sent.length, 1);

    s.stopReading();
    s.clock.advance(5000);
    t.equal(s.sent.length, 1, 'no request on a pair the fast path does not read');
    t.equal(s.calls.weriftQuery, 1, "given back: werift's loop started");
    t.equal(s.checks.counters.returned, 1);
    t.notOk(s.checks.owns(s.c));
    s.conn.queryConsent();
    t.equal(s.calls.weriftQuery, 2, "werift's queryConsent is werift's again");
    t.same(s.errors, []);
  },
);

t.test('a step of the wall clock neither expires consent nor stops the checks', async (t) => {
  for (const step of [3_600_000, -3_600_000]) {
    const fake = new FakeClock();
    let offset = 0;
    // Wall time = the fake clock's + a step; the timers still run on the fake clock (as setTimeout is monotonic).
    const wall = { now: () => fake.now() + offset, setTimeout: fake.setTimeout.bind(fake) };
    const checks = new ConsentChecks(new Ticker(wall, 100), wall, () => undefined, { random: () => 0.5 });
    const s = standIn();
    const c = s.conn as unknown as ConsentConnection;
    checks.adopt(c, () => true);
    fake.advance(5050);
    t.equal(s.sent.length, 1, `step ${step}: the first check`);
    offset = step;
    // The answer comes between the step and the next tick.
    t.ok(
      checks.onResponse(
        c,
        s.protocol,
        bindingSuccess(s.sent[0]!.data, ['127.0.0.1', 1], REMOTE_PASSWORD)!,
        from,
      ),
    );
    fake.advance(100);
    t.equal(s.conn.state, 'connected', `step ${step}: consent not expired by the step`);
    fake.advance(4900);
    t.equal(s.sent.length, 2, `step ${step}: the next check 5 s after the first`);
    // The answer came at 5.05 s (the tick at 5.0 s its base): consent runs to 35.0 s. The later checks go unanswered.
    fake.advance(34_900 - 10_050);
    t.equal(s.conn.state, 'connected', `step ${step}: still connected at 34.9 s`);
    fake.advance(300);
    t.equal(
      s.conn.state,
      'failed',
      `step ${step}: consent expired 30 s after the answer, counted across the step`,
    );
  }
});

t.test('an answer from a pair no longer nominated refreshes nothing (as werift)', async (t) => {
  const s = setup();
  s.checks.adopt(s.c, s.routed);
  s.clock.advance(5000);
  t.equal(s.sent.length, 1);
  const answer = answerTo(s);
  s.conn.nominated = { ...s.pair, remoteCandidate: { host: '127.0.0.9', port: 4100 } };
  t.ok(s.checks.onResponse(s.c, s.protocol, answer, from), 'the answer to our request is taken');
  t.equal(s.pair.responsesReceived, 0, "the old pair's statistics unchanged");
  s.clock.advance(25_100); // 30.1 s after adopting, no answer that counted
  t.equal(s.conn.state, 'failed', 'consent expired: the answer did not refresh it');
});

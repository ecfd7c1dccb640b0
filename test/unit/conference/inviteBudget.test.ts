/**
 * Invites per device (protocol.md §4.1): INVITE_BURST at once, INVITES_PER_SECOND after; over the budget an invite
 * is refused with M_LIMIT_EXCEEDED before any of its work, the first refusal of a run is the one logged, other
 * devices are not affected, and the devices tracked stay bounded.
 */
import t from 'tap';
import { FLOOD_FACTOR, InviteBudget, MIN_BURST } from '../../../src/conference/inviteBudget.js';

const INVITES_PER_SECOND = 1;
const INVITE_BURST = 10;
import { FOCUS, sdpOf } from './fakes.js';
import { managerRig } from './managerRig.js';

t.test('table: burst, refusal run, recovery', async (t) => {
  const b = new InviteBudget(INVITES_PER_SECOND);
  const verdicts = Array.from({ length: INVITE_BURST + 3 }, () => b.take('@m:x|DEV', 0));
  t.same(verdicts.slice(0, INVITE_BURST), new Array(INVITE_BURST).fill('ok'), 'the burst');
  t.same(
    verdicts.slice(INVITE_BURST),
    ['first_refusal', 'refused', 'refused'],
    'then refused, the first marked',
  );
  t.equal(b.take('@a:x|DEV', 0), 'ok', 'another device has its own budget');
  t.equal(b.take('@m:x|DEV', 1000 / INVITES_PER_SECOND - 1), 'refused', 'not yet one token back');
  t.equal(b.take('@m:x|DEV', 1000 / INVITES_PER_SECOND), 'ok', 'one a second after the burst');
  t.equal(
    b.take('@m:x|DEV', 1000 / INVITES_PER_SECOND),
    'first_refusal',
    'a new run of refusals is marked again',
  );
  t.equal(b.take('@m:x|DEV', -5000), 'refused', 'time running backwards gives nothing back');
});

t.test(
  'a flood: past FLOOD_FACTOR × the burst refused, `flood` once, then silent until half drained',
  async (t) => {
    const b = new InviteBudget(INVITES_PER_SECOND);
    const bound = FLOOD_FACTOR * INVITE_BURST;
    const v = Array.from({ length: INVITE_BURST + bound + 3 }, () => b.take('@m:x|DEV', 0));
    t.same(
      v.slice(INVITE_BURST),
      ['first_refusal', ...new Array<string>(bound - 1).fill('refused'), 'flood', 'silent', 'silent'],
      `${bound} refusals answered, then the flood said once, then silence`,
    );
    // The pile (43) drains by half the rate (0.5 a second); the tokens come back at the rate.
    t.equal(b.take('@m:x|DEV', 1000), 'ok', 'a token back after a second: accepted');
    t.equal(
      b.take('@m:x|DEV', 1000),
      'silent',
      'refused while the pile is over half the bound: not answered',
    );
    // By 50 s the pile is under 20: answered again; the tokens of those 50 s are taken first.
    const later = Array.from({ length: INVITE_BURST + 1 }, () => b.take('@m:x|DEV', 50_000));
    t.same(later.slice(0, INVITE_BURST), new Array(INVITE_BURST).fill('ok'), 'a full burst again');
    t.equal(later[INVITE_BURST], 'first_refusal', 'and refusals answered again');
    t.equal(b.take('@a:x|DEV', 0), 'ok', 'another device was never affected');
  },
);

t.test('the burst is ten seconds of the rate, at least MIN_BURST', async (t) => {
  t.equal(new InviteBudget(1).burst, MIN_BURST);
  t.equal(new InviteBudget(0.1).burst, MIN_BURST);
  t.equal(new InviteBudget(100).burst, 1000);
  const fast = new InviteBudget(100);
  const v = Array.from({ length: 1001 }, () => fast.take('@c:x|D', 0));
  t.equal(v.filter((x) => x === 'ok').length, 1000, 'the configured burst');
});

t.test('the devices tracked are bounded; full budgets are forgotten first', async (t) => {
  const b = new InviteBudget(INVITES_PER_SECOND);
  for (let i = 0; i < 10_000; i++) {
    b.take(`@u${i}:x|D`, 0);
  }
  t.equal(b.size, 10_000);
  b.take('@late:x|D', 100_000); // everyone's budget is full again by then
  t.equal(b.size, 1, 'pruned to the new device');
});

/** Invite number `i` of @mallory:example.org's device MDEV to the manager (a new call and session each). */
function mallorysInvite(m: ReturnType<typeof managerRig>, i: number): void {
  m.manager.handleToDevice({
    type: 'm.call.invite',
    sender: '@mallory:example.org',
    content: {
      call_id: `call-${i}`,
      conf_id: 'conf1',
      party_id: 'MDEV',
      version: '1',
      device_id: 'MDEV',
      sender_session_id: `s-${i}`,
      dest_session_id: 'sfu',
      invitee: FOCUS.user_id,
      lifetime: 60000,
      offer: { type: 'offer', sdp: sdpOf([{ kind: 'audio', stream: 'm-s', track: 'm-a' }]) },
      'org.matrix.msc3077.sdp_stream_metadata': {},
    },
  });
}

t.test(
  'the manager refuses invites over the budget with M_LIMIT_EXCEEDED, before resolving the room',
  async (t) => {
    const m = managerRig();
    let resolved = 0;
    const resolveRoom = m.oracle.resolveRoom.bind(m.oracle);
    m.oracle.resolveRoom = () => {
      resolved++;
      return resolveRoom();
    };
    const invite = (i: number) => {
      mallorysInvite(m, i);
    };
    for (let i = 0; i < INVITE_BURST + 5; i++) {
      invite(i);
    }
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setImmediate(r));
    }
    t.equal(resolved, INVITE_BURST, 'only the invites within the budget were worked on');
    const limited = m.signal
      .take()
      .filter(
        (s) =>
          s.type === 'm.call.hangup' &&
          (s.content['org.matrix.msc3898.error'] as { errcode?: string } | undefined)?.errcode ===
            'M_LIMIT_EXCEEDED',
      );
    t.equal(limited.length, 5, 'each invite over the budget gets its refusal (never silence)');
    t.same(
      limited.map((s) => s.content['call_id']),
      ['call-10', 'call-11', 'call-12', 'call-13', 'call-14'],
      'addressed to the refused calls',
    );
  },
);

t.test(
  'an invite flood: refusals answered up to the bound, the device’s session hung up once, then silence',
  async (t) => {
    const m = managerRig();
    const bound = FLOOD_FACTOR * INVITE_BURST;
    const invite = (i: number) => {
      mallorysInvite(m, i);
    };
    for (let i = 0; i < INVITE_BURST; i++) {
      invite(i);
    }
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setImmediate(r));
    }
    const answered = m.signal.take().filter((s) => s.type === 'm.call.answer');
    t.ok(answered.length >= 1, `the accepted invites were answered (${answered.length})`);
    for (let i = INVITE_BURST; i < INVITE_BURST + bound + 10; i++) {
      invite(i);
    }
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setImmediate(r));
    }
    const hangups = m.signal.take().filter((s) => s.type === 'm.call.hangup');
    const error = (s: (typeof hangups)[number]) =>
      (s.content['org.matrix.msc3898.error'] as { errcode?: string; error?: string } | undefined) ?? {};
    const refusals = hangups.filter((s) => error(s).error === 'too many invites from this device');
    t.equal(
      refusals.length,
      bound + 1,
      `${bound + 1} refusals answered (up to and with the flood's), none after`,
    );
    t.equal(refusals.at(-1)?.content['call_id'], `call-${INVITE_BURST + bound}`, 'the last answered');
    const floods = hangups.filter((s) => /far over the budget/.test(error(s).error ?? ''));
    t.equal(floods.length, 1, 'one hangup of the device’s session');
    t.match(floods[0]?.content, {
      reason: 'unknown_error',
      'org.matrix.msc3898.error': {
        errcode: 'M_LIMIT_EXCEEDED',
        error: 'invites from this device far over the budget',
      },
    });
    t.equal(
      floods[0]?.content['call_id'],
      answered.at(-1)?.content['call_id'],
      'addressed to the session the device had',
    );
  },
);

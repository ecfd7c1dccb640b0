/**
 * Invites per device (protocol.md §4.1): INVITE_BURST at once, INVITES_PER_SECOND after; over the budget an invite
 * is refused with M_LIMIT_EXCEEDED before any of its work, the first refusal of a run is the one logged, other
 * devices are not affected, and the devices tracked stay bounded.
 */
import t from 'tap';
import { InviteBudget, MIN_BURST } from '../../../src/conference/inviteBudget.js';

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

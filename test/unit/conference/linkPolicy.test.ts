// Link set-up and teardown decisions (protocol.md §8.1, §8.7): triggers, grace and jitter, backoff, crossing
// invites, authorization, max_links, the connect op and linger — on a fake `now`, with an injected random source.
import t from 'tap';
import { compareFoci, focusKey, type FocusId } from '../../../src/conference/focusId.js';
import {
  LinkPolicy,
  linkPolicyConfig,
  retryDelayMs,
  type ConferenceView,
  type LinkPolicyConfig,
  type LinkView,
} from '../../../src/conference/linkPolicy.js';

const A: FocusId = { userId: '@sfu:a.example', deviceId: 'SFUA' };
const B: FocusId = { userId: '@sfu:b.example', deviceId: 'SFUB' };
const C: FocusId = { userId: '@sfu:c.example', deviceId: 'SFUC' };
const D: FocusId = { userId: '@sfu:d.example', deviceId: 'SFUD' };
const E: FocusId = { userId: '@sfu:e.example', deviceId: 'SFUE' };

const CFG: LinkPolicyConfig = { auto: true, initiateGraceMs: 3000, maxLinks: 8, lingerMs: 30_000 };

function view(
  members: readonly [FocusId, number][],
  links: readonly LinkView[] = [],
  localParticipants = 0,
): ConferenceView {
  return { foci: members.map(([focus, liveMembers]) => ({ focus, liveMembers })), localParticipants, links };
}

function link(
  remote: FocusId,
  callId: string,
  initiator: 'self' | 'remote',
  state: LinkView['state'],
): LinkView {
  return { remote, callId, initiator, state };
}

function invites(d: { actions: readonly { kind: string; remote: FocusId; reason?: string }[] }): string[] {
  return d.actions.filter((a) => a.kind === 'invite').map((a) => `${focusKey(a.remote)}:${a.reason ?? ''}`);
}

function statusOf(d: { remotes: readonly { remote: FocusId; status: string; at?: number }[] }, f: FocusId) {
  const r = d.remotes.find((x) => focusKey(x.remote) === focusKey(f));
  return r === undefined ? undefined : r.at === undefined ? r.status : `${r.status}@${String(r.at)}`;
}

t.test('compareFoci: byte order of the UTF-8 of user_id|device_id', async (t) => {
  const rows: { a: FocusId; b: FocusId; sign: -1 | 0 | 1; why: string }[] = [
    { a: A, b: B, sign: -1, why: 'server name decides' },
    {
      a: { userId: '@s:x', deviceId: 'B' },
      b: { userId: '@s:x', deviceId: 'a' },
      sign: -1,
      why: 'upper case first',
    },
    {
      a: { userId: '@a:x.org', deviceId: 'Z' },
      b: { userId: '@a:x.org.uk', deviceId: 'A' },
      sign: 1,
      why: "the joined string: '|' (0x7c) sorts after '.' (0x2e), though @a:x.org < @a:x.org.uk",
    },
    {
      a: { userId: '@a:x', deviceId: '\uffff' },
      b: { userId: '@a:x', deviceId: '\u{10000}' },
      sign: -1,
      why: 'UTF-8 bytes, not UTF-16 units (JS < says the opposite)',
    },
    {
      a: { userId: '@a:x', deviceId: 'D' },
      b: { userId: '@a:x', deviceId: 'DD' },
      sign: -1,
      why: 'prefix first',
    },
    {
      a: { userId: '@a:x', deviceId: 'é' },
      b: { userId: '@a:x', deviceId: 'z' },
      sign: 1,
      why: 'non-ASCII after',
    },
    { a: A, b: { ...A }, sign: 0, why: 'same focus' },
  ];
  for (const r of rows) {
    t.equal(Math.sign(compareFoci(r.a, r.b)), r.sign, r.why);
    t.equal(Math.sign(compareFoci(r.b, r.a)), -r.sign || 0, `${r.why} (swapped)`);
  }
  t.ok(
    String.fromCodePoint(0x10000) < String.fromCodePoint(0xffff),
    'the JS string order differs on that row',
  );
});

t.test('retryDelayMs: 1, 2, 4 … capped at 30 s', async (t) => {
  const got = [1, 2, 3, 4, 5, 6, 7, 20, 1000].map(retryDelayMs);
  t.same(got, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  t.equal(retryDelayMs(0), 1000, 'nonsense counts clamp to the first delay');
});

t.test('linkPolicyConfig converts the §9 keys to ms', async (t) => {
  t.same(linkPolicyConfig({ auto: false, initiate_grace_s: 3, max_links: 8, linger_s: 30 }), {
    auto: false,
    initiateGraceMs: 3000,
    maxLinks: 8,
    lingerMs: 30_000,
  });
});

t.test('the lower focus invites at once when both foci have a live member', async (t) => {
  const p = new LinkPolicy(A, CFG, () => 0.5);
  t.same(invites(p.evaluate(view([[A, 1]]), 0)), [], 'no remote focus named');
  const onlyRemote = p.evaluate(view([[B, 2]]), 0);
  t.same(invites(onlyRemote), [], 'no local live member');
  t.equal(statusOf(onlyRemote, B), 'idle');
  const d = p.evaluate(
    view([
      [A, 1],
      [B, 1],
    ]),
    10,
  );
  t.same(invites(d), [`${focusKey(B)}:lower`]);
  t.equal(d.nextDeadline, undefined);
  const again = p.evaluate(
    view([
      [A, 1],
      [B, 1],
    ]),
    20,
  );
  t.same(invites(again), [], 'the invite is out: not sent twice');
  t.equal(statusOf(again, B), 'invited');
});

t.test(
  'the higher focus waits initiate_grace_s plus jitter, and not at all if the lower one invites',
  async (t) => {
    const both = view([
      [A, 1],
      [B, 1],
    ]);
    const p = new LinkPolicy(B, CFG, () => 0.25);
    const d0 = p.evaluate(both, 1000);
    t.same(invites(d0), []);
    t.equal(statusOf(d0, A), 'grace@4250');
    t.equal(d0.nextDeadline, 4250);
    t.equal(p.evaluate(both, 2000).nextDeadline, 4250, 'the deadline is drawn once');
    t.same(invites(p.evaluate(both, 4249)), []);
    t.same(invites(p.evaluate(both, 4250)), [`${focusKey(A)}:grace`]);

    const q = new LinkPolicy(B, CFG, () => 0.25);
    q.evaluate(both, 1000);
    const withLink = view(
      [
        [A, 1],
        [B, 1],
      ],
      [link(A, 'c1', 'remote', 'answering')],
    );
    const d1 = q.evaluate(withLink, 2000);
    t.equal(statusOf(d1, A), 'linked');
    t.same(
      invites(q.evaluate(withLink, 10_000)),
      [],
      'the lower focus invited first: no invite after the grace',
    );
  },
);

t.test('grace jitter stays within [0, 1 s) whatever the random source returns', async (t) => {
  const both = view([
    [A, 1],
    [B, 1],
  ]);
  for (const r of [0, 0.5, 0.999_999_9, 1, 2, -3, Number.NaN, Number.POSITIVE_INFINITY]) {
    const p = new LinkPolicy(B, CFG, () => r);
    const at = p.evaluate(both, 0).nextDeadline ?? -1;
    t.ok(at >= 3000 && at < 4000, `random ${String(r)} -> ${String(at)}`);
  }
  const p0 = new LinkPolicy(B, CFG, () => 0);
  t.equal(p0.evaluate(both, 0).nextDeadline, 3000, 'random 0: exactly the grace');
  const grace0 = new LinkPolicy(B, { ...CFG, initiateGraceMs: 0 }, () => 0);
  t.same(invites(grace0.evaluate(both, 0)), [`${focusKey(A)}:grace`], 'grace 0 with jitter 0: at once');
});

t.test('failed invites are retried after 1, 2, 4 … 30 s while the trigger holds', async (t) => {
  const both = view([
    [A, 1],
    [B, 1],
  ]);
  const p = new LinkPolicy(A, CFG, () => 0);
  let now = 0;
  t.same(invites(p.evaluate(both, now)), [`${focusKey(B)}:lower`]);
  const gaps: number[] = [];
  for (let i = 0; i < 8; i++) {
    p.inviteFailed(B, now);
    const d = p.evaluate(both, now);
    t.same(invites(d), [], 'not before the delay');
    const at = d.nextDeadline ?? -1;
    t.equal(statusOf(d, B), `backoff@${String(at)}`);
    t.same(invites(p.evaluate(both, at - 1)), []);
    gaps.push(at - now);
    now = at;
    t.same(invites(p.evaluate(both, now)), [`${focusKey(B)}:retry`]);
  }
  t.same(gaps, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);

  p.inviteFailed(B, now);
  const gone = p.evaluate(view([[A, 1]]), now + 10);
  t.equal(statusOf(gone, B), 'idle', 'B is named by no one: the retry is dropped');
  t.equal(gone.nextDeadline, undefined);
  now += 20;
  t.same(invites(p.evaluate(both, now)), [`${focusKey(B)}:lower`], 'trigger holds again: at once');
  p.inviteFailed(B, now);
  t.equal(p.evaluate(both, now).nextDeadline, now + 1000, 'and the schedule started over');
});

t.test('a connected link resets the retry schedule; a failed link is retried with backoff', async (t) => {
  const both = view([
    [A, 1],
    [B, 1],
  ]);
  const p = new LinkPolicy(A, CFG, () => 0);
  p.evaluate(both, 0);
  p.inviteFailed(B, 0);
  p.evaluate(both, 1000);
  p.inviteFailed(B, 1000);
  t.same(invites(p.evaluate(both, 3000)), [`${focusKey(B)}:retry`]);
  const up = view(
    [
      [A, 1],
      [B, 1],
    ],
    [link(B, 'c3', 'self', 'connected')],
  );
  t.equal(statusOf(p.evaluate(up, 3100), B), 'linked');
  p.linkConnected(B);
  p.linkEnded(B, 50_000, 'failed');
  t.equal(p.evaluate(both, 50_000).nextDeadline, 51_000, 'first failure after connecting: 1 s');
});

t.test('crossing invites from both sides: the link the lower focus started survives', async (t) => {
  const members: [FocusId, number][] = [
    [A, 1],
    [B, 1],
  ];
  // A (lower) invited B with call "ab"; B (after its grace) invited A with "ba"; both invites cross.
  const pa = new LinkPolicy(A, CFG, () => 0);
  const pb = new LinkPolicy(B, CFG, () => 0);
  const atA = pa.onInvite(B, 'ba', view(members, [link(B, 'ab', 'self', 'inviting')]));
  const atB = pb.onInvite(A, 'ab', view(members, [link(A, 'ba', 'self', 'inviting')]));
  t.same(atA, { kind: 'crossing', keep: 'ours', hangup: 'ba' }, 'A keeps its own, hangs up B’s');
  t.same(atB, { kind: 'crossing', keep: 'theirs', hangup: 'ba' }, 'B answers A’s, hangs up its own');

  // Seen late, both calls listed: each side hangs up "ba" only.
  const both = (self: 'A' | 'B') =>
    view(members, [
      link(self === 'A' ? B : A, 'ab', self === 'A' ? 'self' : 'remote', 'connected'),
      link(self === 'A' ? B : A, 'ba', self === 'A' ? 'remote' : 'self', 'answering'),
    ]);
  for (const [name, p] of [
    ['A', pa],
    ['B', pb],
  ] as const) {
    const d = p.evaluate(both(name), 100);
    t.same(
      d.actions.flatMap((h) => (h.kind === 'hangup' ? [`${h.callId}:${h.why}`] : [])),
      ['ba:crossing'],
      `${name} hangs up the call the higher focus started`,
    );
    t.same(invites(d), []);
  }
});

t.test('incoming invites: authorization, duplicates and replacement after a restart', async (t) => {
  const p = new LinkPolicy(A, CFG, () => 0);
  const members: [FocusId, number][] = [
    [A, 1],
    [B, 1],
  ];
  t.same(
    p.onInvite(C, 'x', view(members)),
    { kind: 'refuse', errcode: 'M_FORBIDDEN' },
    'C is named by no one',
  );
  t.same(
    p.onInvite(C, 'x', view([...members, [C, 0]])),
    { kind: 'refuse', errcode: 'M_FORBIDDEN' },
    'zero live members',
  );
  t.same(p.onInvite(A, 'x', view(members)), { kind: 'refuse', errcode: 'M_FORBIDDEN' }, 'from itself');
  t.same(p.onInvite(B, 'x', view(members)), { kind: 'accept' });
  const linked = view(members, [link(B, 'old', 'self', 'connected')]);
  t.same(p.onInvite(B, 'old', linked), { kind: 'duplicate' });
  t.same(p.onInvite(B, 'new', linked), { kind: 'replace', hangup: ['old'] }, 'B restarted: replace');
  const suspended = view(members, [link(B, 'old', 'remote', 'suspended')]);
  t.same(p.onInvite(B, 'new', suspended), { kind: 'replace', hangup: ['old'] });
});

t.test('max_links bounds invites (lowest foci first), incoming invites and connect entries', async (t) => {
  const cfg = { ...CFG, maxLinks: 2 };
  const members: [FocusId, number][] = [
    [A, 1],
    [D, 1],
    [C, 1],
    [B, 1],
  ];
  const p = new LinkPolicy(A, cfg, () => 0);
  const d = p.evaluate(view(members), 0);
  t.same(invites(d), [`${focusKey(B)}:lower`, `${focusKey(C)}:lower`]);
  t.equal(statusOf(d, D), 'max_links');
  const two = view(members, [link(B, 'b', 'self', 'connected'), link(C, 'c', 'self', 'connected')], 1);
  t.same(p.onInvite(D, 'd', two), { kind: 'refuse', errcode: 'M_LIMIT_EXCEEDED' });
  t.same(p.onInvite(B, 'b2', two), { kind: 'replace', hangup: ['b'] }, 'a replacement adds no link');
  const { results } = p.connect([D], two, 10);
  t.same(results, [{ focus: D, outcome: 'refused', errcode: 'M_LIMIT_EXCEEDED' }]);
  // C's link goes away: D is next.
  p.linkEnded(C, 20, 'teardown');
  const one = view(members, [link(B, 'b', 'self', 'connected')], 1);
  const after = p.evaluate(one, 20);
  t.same(invites(after).sort(), [`${focusKey(C)}:lower`].sort(), 'C sorts before D and takes the free slot');
  t.equal(statusOf(after, D), 'max_links');
});

t.test('connect op: named foci invited at once, others M_FORBIDDEN, existing links no-ops', async (t) => {
  const members: [FocusId, number][] = [
    [A, 1],
    [B, 1],
    [C, 1],
    [E, 2],
  ];
  const p = new LinkPolicy(E, { ...CFG, auto: false }, () => 0);
  t.same(invites(p.evaluate(view(members, [], 1), 0)), [], 'cascade.auto false: no automatic invite');
  const v = view(members, [link(C, 'c', 'remote', 'connected')], 1);
  const { results, decision } = p.connect([B, D, E, B, C, A], v, 5);
  t.same(
    results.map((r) => `${focusKey(r.focus)}:${r.outcome}${'errcode' in r ? `:${r.errcode}` : ''}`),
    [
      `${focusKey(B)}:invited`,
      `${focusKey(D)}:refused:M_FORBIDDEN`,
      `${focusKey(E)}:self`,
      `${focusKey(B)}:invited`,
      `${focusKey(C)}:exists`,
      `${focusKey(A)}:invited`,
    ],
  );
  t.same(invites(decision), [`${focusKey(A)}:connect`, `${focusKey(B)}:connect`], 'E is higher: no grace');
  const again = p.connect([B], v, 6);
  t.same(
    again.results.map((r) => r.outcome),
    ['exists'],
    'the invite is out',
  );
  t.same(invites(again.decision), []);
  p.inviteFailed(B, 7);
  t.equal(statusOf(p.evaluate(v, 8), B), 'backoff@1007', 'a connect trigger retries with backoff');
  const now = p.connect([B], v, 9);
  t.same(invites(now.decision), [`${focusKey(B)}:connect`], 'connect skips the backoff');
});

t.test(
  'teardown: an unneeded link lingers linger_s, then is hung up; a returning member cancels it',
  async (t) => {
    const p = new LinkPolicy(A, CFG, () => 0);
    const up = (aMembers: number, bMembers: number, participants: number) =>
      view(
        [
          [A, aMembers],
          [B, bMembers],
        ],
        [link(B, 'ab', 'self', 'connected')],
        participants,
      );
    t.equal(statusOf(p.evaluate(up(1, 1, 1), 0), B), 'linked');

    // B's last member leaves at t=1000.
    const d1 = p.evaluate(up(1, 0, 1), 1000);
    t.equal(statusOf(d1, B), 'lingering@31000');
    t.equal(d1.nextDeadline, 31_000);
    t.same(p.evaluate(up(1, 0, 1), 30_999).actions, []);
    // A member naming B returns: the linger is cancelled.
    const back = p.evaluate(up(1, 1, 1), 20_000);
    t.equal(statusOf(back, B), 'linked');
    t.equal(back.nextDeadline, undefined);
    t.same(p.evaluate(up(1, 1, 1), 31_000).actions, [], 'no hangup at the old deadline');

    // The last local participant leaves at t=40000 (and no live membership names A): a fresh 30 s.
    t.equal(statusOf(p.evaluate(up(0, 1, 0), 40_000), B), 'lingering@70000');
    t.same(p.evaluate(up(0, 1, 0), 69_999).actions, []);
    const end = p.evaluate(up(0, 1, 0), 70_000);
    t.same(end.actions, [{ kind: 'hangup', remote: B, callId: 'ab', why: 'linger' }]);
    p.linkEnded(B, 70_000, 'teardown');
    const after = p.evaluate(view([[B, 1]], [], 0), 70_001);
    t.same(after.actions, [], 'nothing to re-invite');
    t.equal(after.nextDeadline, undefined);

    // A local participant whose membership already expired still keeps the link (revocation ends it in 1 s).
    const q = new LinkPolicy(A, CFG, () => 0);
    t.equal(statusOf(q.evaluate(up(0, 1, 1), 0), B), 'linked');
  },
);

t.test('relink: either side re-invites at once, then backs off on failure', async (t) => {
  const both = view([
    [A, 1],
    [B, 1],
  ]);
  const p = new LinkPolicy(B, CFG, () => 0.9);
  const linked = view(
    [
      [A, 1],
      [B, 1],
    ],
    [link(A, 'old', 'remote', 'connected')],
  );
  p.evaluate(linked, 0);
  p.linkConnected(A);
  p.linkEnded(A, 10_000, 'relink');
  t.same(invites(p.evaluate(both, 10_000)), [`${focusKey(A)}:relink`], 'the higher focus skips the grace');
  p.inviteFailed(A, 10_500);
  const d = p.evaluate(both, 10_500);
  t.equal(statusOf(d, A), 'backoff@11500');
  t.same(invites(p.evaluate(both, 11_500)), [`${focusKey(A)}:retry`]);
});

t.test(
  'rebuilt (§8.7): invite at once whichever side sorts lower; memberships count for linger_s',
  async (t) => {
    // B sorts higher than A: without a rebuild it would wait the grace.
    const rows: {
      why: string;
      localParticipants: number;
      at: number;
      links: LinkView[];
      invites: string[];
      hangups: string[];
      deadline: number | undefined;
    }[] = [
      {
        why: 'rebuilt, no session: invited at once, deadline at rebuild + linger',
        localParticipants: 0,
        at: 0,
        links: [],
        invites: [`${focusKey(A)}:rebuild`],
        hangups: [],
        deadline: 30_000,
      },
      {
        why: 'a session was already there: the usual grace',
        localParticipants: 1,
        at: 0,
        links: [],
        invites: [],
        hangups: [],
        deadline: 3500,
      },
      {
        why: 'linked, window still open',
        localParticipants: 0,
        at: 29_999,
        links: [link(A, 'c1', 'self', 'connected')],
        invites: [],
        hangups: [],
        deadline: 30_000,
      },
      {
        why: 'linked, window over: hung up at once (the linger ran from the rebuild)',
        localParticipants: 0,
        at: 30_000,
        links: [link(A, 'c1', 'self', 'connected')],
        invites: [],
        hangups: ['c1'],
        deadline: undefined,
      },
      {
        why: 'a session is there: linked past the window',
        localParticipants: 1,
        at: 45_000,
        links: [link(A, 'c1', 'self', 'connected')],
        invites: [],
        hangups: [],
        deadline: undefined,
      },
    ];
    for (const row of rows) {
      const p = new LinkPolicy(B, CFG, () => 0.5);
      const v = view(
        [
          [A, 1],
          [B, 1],
        ],
        row.links,
        row.localParticipants,
      );
      p.rebuilt(v, 0);
      const d = p.evaluate(v, row.at);
      t.same(invites(d), row.invites, `${row.why}: invites`);
      t.same(
        d.actions.flatMap((a) => (a.kind === 'hangup' ? [a.callId] : [])),
        row.hangups,
        `${row.why}: hangups`,
      );
      t.equal(d.nextDeadline, row.deadline, `${row.why}: next deadline`);
    }
  },
);

t.test('rebuilt with cascade.auto off: nothing is invited, nothing is provisional', async (t) => {
  const p = new LinkPolicy(B, { ...CFG, auto: false }, () => 0.5);
  const v = view([
    [A, 1],
    [B, 1],
  ]);
  p.rebuilt(v, 0);
  t.notOk(p.provisional(0));
  t.same(invites(p.evaluate(v, 0)), []);
});

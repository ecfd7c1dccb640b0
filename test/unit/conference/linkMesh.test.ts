// Two or three LinkPolicy instances talking over a simulated to-device network with a fixed latency, on a
// discrete-event fake clock: whatever the timing (invites crossing in flight, memberships seen late by one
// side), each focus pair ends with exactly one link, the one the lower focus started when invites cross; links
// nobody needs are hung up after the linger (protocol.md §8.1, §8.7 teardown).
import t from 'tap';
import { compareFoci, focusKey, type FocusId } from '../../../src/conference/focusId.js';
import { LinkPolicy, type ConferenceView, type LinkView } from '../../../src/conference/linkPolicy.js';

const A: FocusId = { userId: '@sfu:a.example', deviceId: 'SFUA' };
const B: FocusId = { userId: '@sfu:b.example', deviceId: 'SFUB' };
const C: FocusId = { userId: '@sfu:c.example', deviceId: 'SFUC' };

type Msg =
  | { kind: 'invite'; from: FocusId; callId: string }
  | { kind: 'answer'; from: FocusId; callId: string }
  | { kind: 'hangup'; from: FocusId; callId: string };

interface Node {
  id: FocusId;
  policy: LinkPolicy;
  links: LinkView[];
  /** Live memberships as this focus sees them: named focus key → count. */
  members: Map<string, number>;
  participants: number;
  wake: number | undefined;
}

class Mesh {
  now = 0;
  readonly nodes = new Map<string, Node>();
  readonly log: string[] = [];
  #inbox: { at: number; to: string; msg: Msg }[] = [];
  #calls = 0;

  constructor(
    ids: readonly FocusId[],
    readonly latencyMs: number,
    random: () => number,
  ) {
    for (const id of ids) {
      this.nodes.set(focusKey(id), {
        id,
        policy: new LinkPolicy(
          id,
          { auto: true, initiateGraceMs: 3000, maxLinks: 8, lingerMs: 30_000 },
          random,
        ),
        links: [],
        members: new Map(),
        participants: 0,
        wake: undefined,
      });
    }
  }

  node(id: FocusId): Node {
    const n = this.nodes.get(focusKey(id));
    if (n === undefined) {
      throw new Error('no such node');
    }
    return n;
  }

  view(n: Node): ConferenceView {
    const foci = [...this.nodes.values()].map((o) => ({
      focus: o.id,
      liveMembers: n.members.get(focusKey(o.id)) ?? 0,
    }));
    return { foci, localParticipants: n.participants, links: [...n.links] };
  }

  /** Sets what `at` sees of the memberships naming `named` (and, for its own focus, its local participants). */
  see(at: FocusId, named: FocusId, count: number): void {
    const n = this.node(at);
    n.members.set(focusKey(named), count);
    if (focusKey(named) === focusKey(at)) {
      n.participants = count;
    }
    this.#evaluate(n);
  }

  #send(from: Node, to: FocusId, msg: Msg): void {
    this.#inbox.push({ at: this.now + this.latencyMs, to: focusKey(to), msg });
    this.log.push(`${String(this.now)} ${from.id.deviceId}->${to.deviceId} ${msg.kind} ${msg.callId}`);
  }

  #evaluate(n: Node): void {
    const d = n.policy.evaluate(this.view(n), this.now);
    n.wake = d.nextDeadline;
    for (const a of d.actions) {
      if (a.kind === 'invite') {
        const callId = `${n.id.deviceId}-${String(++this.#calls)}`;
        n.links.push({ remote: a.remote, callId, initiator: 'self', state: 'inviting' });
        this.#send(n, a.remote, { kind: 'invite', from: n.id, callId });
      } else {
        n.links = n.links.filter((l) => l.callId !== a.callId);
        this.#send(n, a.remote, { kind: 'hangup', from: n.id, callId: a.callId });
        if (a.why === 'linger') {
          n.policy.linkEnded(a.remote, this.now, 'teardown');
        }
      }
    }
    if (d.actions.length > 0) {
      this.#evaluate(n);
    }
  }

  #deliver(n: Node, msg: Msg): void {
    const from = msg.from;
    if (msg.kind === 'invite') {
      const d = n.policy.onInvite(from, msg.callId, this.view(n));
      const answer = () => {
        n.links.push({ remote: from, callId: msg.callId, initiator: 'remote', state: 'connected' });
        n.policy.linkConnected(from);
        this.#send(n, from, { kind: 'answer', from: n.id, callId: msg.callId });
      };
      switch (d.kind) {
        case 'accept':
          answer();
          break;
        case 'refuse':
          this.#send(n, from, { kind: 'hangup', from: n.id, callId: msg.callId });
          break;
        case 'duplicate':
          break;
        case 'crossing':
          if (d.keep === 'ours') {
            this.#send(n, from, { kind: 'hangup', from: n.id, callId: d.hangup });
          } else {
            n.links = n.links.filter((l) => l.callId !== d.hangup);
            this.#send(n, from, { kind: 'hangup', from: n.id, callId: d.hangup });
            answer();
          }
          break;
        case 'replace':
          for (const id of d.hangup) {
            n.links = n.links.filter((l) => l.callId !== id);
            this.#send(n, from, { kind: 'hangup', from: n.id, callId: id });
          }
          answer();
          break;
      }
    } else if (msg.kind === 'answer') {
      const l = n.links.find((x) => x.callId === msg.callId);
      if (l !== undefined) {
        n.links = n.links.map((x) => (x === l ? { ...x, state: 'connected' } : x));
        n.policy.linkConnected(from);
      }
    } else {
      const l = n.links.find((x) => x.callId === msg.callId);
      if (l !== undefined) {
        n.links = n.links.filter((x) => x !== l);
        if (l.state === 'inviting') {
          n.policy.inviteFailed(from, this.now);
        } else {
          n.policy.linkEnded(from, this.now, 'failed');
        }
      }
    }
    this.#evaluate(n);
  }

  /** Runs messages and wake-ups in time order up to `until`. */
  run(until: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      this.#inbox.sort((a, b) => a.at - b.at);
      const msgAt = this.#inbox[0]?.at ?? Number.POSITIVE_INFINITY;
      let wakeAt = Number.POSITIVE_INFINITY;
      let wakeNode: Node | undefined;
      for (const n of this.nodes.values()) {
        if (n.wake !== undefined && n.wake < wakeAt) {
          wakeAt = n.wake;
          wakeNode = n;
        }
      }
      const at = Math.min(msgAt, wakeAt);
      if (at > until) {
        this.now = until;
        return;
      }
      this.now = at;
      if (msgAt <= wakeAt) {
        const m = this.#inbox.shift();
        if (m !== undefined) {
          const n = this.nodes.get(m.to);
          if (n !== undefined) {
            this.#deliver(n, m.msg);
          }
        }
      } else if (wakeNode !== undefined) {
        this.#evaluate(wakeNode);
      }
    }
    throw new Error('mesh: too many steps');
  }

  /** Every node's links to `other`, as `callId/state`. */
  linksBetween(x: FocusId, y: FocusId): string[] {
    return this.node(x)
      .links.filter((l) => focusKey(l.remote) === focusKey(y))
      .map((l) => `${l.callId}/${l.state}`);
  }
}

function everyoneSees(mesh: Mesh, foci: readonly FocusId[], counts: readonly [FocusId, number][]): void {
  for (const at of foci) {
    for (const [named, n] of counts) {
      mesh.see(at, named, n);
    }
  }
}

for (const latency of [0, 50, 1500, 3200, 4000, 6000]) {
  t.test(`two foci, latency ${String(latency)} ms: one link, and it is A's when invites cross`, async (t) => {
    const mesh = new Mesh([A, B], latency, () => 0.5);
    everyoneSees(
      mesh,
      [A, B],
      [
        [A, 1],
        [B, 1],
      ],
    );
    mesh.run(120_000);
    const atA = mesh.linksBetween(A, B);
    const atB = mesh.linksBetween(B, A);
    t.equal(atA.length, 1, JSON.stringify(mesh.log));
    t.same(atA, atB, 'both ends agree on the call');
    t.match(atA[0], /^SFUA-\d+\/connected$/, 'started by the lower focus');
    const crossed = mesh.log.some((l) => l.includes('SFUB->SFUA invite'));
    t.equal(crossed, latency >= 3500, 'B invites only if A’s invite is not there by its grace (3.5 s)');
  });
}

t.test('B sees the memberships 2 s late: A’s first invite is refused, its retry links', async (t) => {
  const mesh = new Mesh([A, B], 30, () => 0);
  everyoneSees(
    mesh,
    [A],
    [
      [A, 1],
      [B, 1],
    ],
  );
  mesh.run(2000);
  everyoneSees(
    mesh,
    [B],
    [
      [A, 1],
      [B, 1],
    ],
  );
  mesh.run(60_000);
  t.same(mesh.linksBetween(A, B), mesh.linksBetween(B, A));
  t.equal(mesh.linksBetween(A, B).length, 1);
  const invitesFromA = mesh.log
    .filter((l) => l.includes('SFUA->SFUB invite'))
    .map((l) => Number(l.split(' ')[0]));
  t.same(
    invitesFromA,
    [0, 1060, 3120],
    'retries after 1 s then 2 s (each after the 60 ms refusal round trip)',
  );
});

t.test('three foci: exactly 3 links, each started by the lower focus of its pair', async (t) => {
  const mesh = new Mesh([C, B, A], 20, () => 0.3);
  everyoneSees(
    mesh,
    [A, B, C],
    [
      [A, 2],
      [B, 2],
      [C, 2],
    ],
  );
  mesh.run(60_000);
  for (const [x, y] of [
    [A, B],
    [A, C],
    [B, C],
  ] as const) {
    const here = mesh.linksBetween(x, y);
    t.equal(here.length, 1);
    t.same(here, mesh.linksBetween(y, x));
    t.ok(compareFoci(x, y) < 0);
    t.match(here[0], new RegExp(`^${x.deviceId}-`), `${x.deviceId}–${y.deviceId} started by ${x.deviceId}`);
  }
});

t.test(
  'teardown: the members of B leave; both ends hang up after the linger and nobody re-invites',
  async (t) => {
    const mesh = new Mesh([A, B], 20, () => 0);
    everyoneSees(
      mesh,
      [A, B],
      [
        [A, 1],
        [B, 1],
      ],
    );
    mesh.run(10_000);
    t.equal(mesh.linksBetween(A, B).length, 1);
    everyoneSees(mesh, [A, B], [[B, 0]]);
    mesh.run(39_999);
    t.equal(mesh.linksBetween(A, B).length, 1, 'still lingering');
    mesh.run(200_000);
    t.same(mesh.linksBetween(A, B), []);
    t.same(mesh.linksBetween(B, A), []);
    t.notOk(
      mesh.log.some((l) => Number(l.split(' ')[0]) > 10_000 && l.includes(' invite ')),
      'no invite after the teardown',
    );
  },
);

t.test('a restarted focus re-invites: the survivor replaces the old link', async (t) => {
  const mesh = new Mesh([A, B], 20, () => 0);
  everyoneSees(
    mesh,
    [A, B],
    [
      [A, 1],
      [B, 1],
    ],
  );
  mesh.run(10_000);
  const before = mesh.linksBetween(B, A);
  // A restarts: a fresh policy and no links, rebuilt from room state.
  const a = mesh.node(A);
  a.policy = new LinkPolicy(A, { auto: true, initiateGraceMs: 3000, maxLinks: 8, lingerMs: 30_000 }, () => 0);
  a.links = [];
  everyoneSees(
    mesh,
    [A],
    [
      [A, 1],
      [B, 1],
    ],
  );
  mesh.run(60_000);
  const after = mesh.linksBetween(B, A);
  t.equal(after.length, 1);
  t.not(after[0], before[0], 'a new call');
  t.same(after, mesh.linksBetween(A, B));
});

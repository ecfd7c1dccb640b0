/**
 * The router without real peers: publications registered from applied descriptions (no SDP parse per lookup),
 * subscriptions (subscribe, resize, own track, unknown track, release), pruning when an owner leaves or a
 * forwarded track ends, the first publisher keeping a contested id, speaker sources and publisher state.
 */
import t from 'tap';
import { pino } from 'pino';
import type { Negotiator } from '../../../src/conference/negotiator.js';
import { Router } from '../../../src/conference/router.js';
import { Session } from '../../../src/conference/session.js';
import type { StreamMetadata } from '../../../src/protocol/dc/types.js';
import { FakeClock } from '../../helpers/fakeClock.js';
import { FakePeer, idsOf, peerOf, sdpOf, type MLine } from './fakes.js';

interface World {
  router: Router<Session>;
  members: Session[];
  ended: number;
  clock: FakeClock;
  add(name: string, lines: MLine[], metadata?: StreamMetadata): Promise<Session>;
}

/** A negotiator stand-in that counts SFU offers. */
function countingNegotiator(s: Session): { count: number } {
  const box = { count: 0 };
  const stand: Pick<Negotiator, 'request'> = {
    request: () => {
      box.count++;
      return Promise.resolve();
    },
  };
  s.negotiator = stand as Negotiator;
  return box;
}

function world(): World {
  const clock = new FakeClock();
  const members: Session[] = [];
  const w: World = {
    members,
    ended: 0,
    clock,
    router: new Router<Session>({
      clock,
      log: pino({ level: 'silent' }),
      sessions: () => members.filter((m) => m.state !== 'closed'),
      forwardEnded: () => {
        w.ended++;
      },
    }),
    async add(name, lines, metadata) {
      const s = new Session(idsOf(name), new FakePeer(''), clock.now() + members.length);
      s.metadata =
        metadata ??
        Object.fromEntries(
          [...new Set(lines.map((l) => l.stream))].map((stream) => [
            stream,
            {
              purpose: 'm.usermedia' as const,
              audio_muted: false,
              video_muted: false,
              tracks: Object.fromEntries(
                lines.filter((l) => l.stream === stream).map((l) => [l.track, { kind: l.kind }]),
              ),
            },
          ]),
        );
      await peerOf(s).answer(sdpOf(lines));
      members.push(s);
      w.router.sync(s);
      return s;
    },
  };
  return w;
}

const av = (name: string): MLine[] => [
  { kind: 'audio', stream: `${name}-s`, track: `${name}-a` },
  { kind: 'video', stream: `${name}-s`, track: `${name}-v` },
];

function leave(w: World, s: Session): void {
  s.state = 'closed';
  w.router.remove(s);
}

t.test('publish: an applied description registers its tracks, with owner, origin and source', async (t) => {
  const w = world();
  const alice = await w.add('alice', [
    ...av('alice'),
    { kind: 'video', stream: 'alice-s', track: 'alice-x', direction: 'recvonly' },
  ]);
  const pubs = w.router.publicationsOf(alice);
  t.same(
    pubs.map((p) => [p.streamId, p.trackId, p.kind, p.sending, p.owner === alice.participant, p.origin.kind]),
    [
      ['alice-s', 'alice-a', 'audio', true, true, 'session'],
      ['alice-s', 'alice-v', 'video', true, true, 'session'],
      ['alice-s', 'alice-x', 'video', false, true, 'session'],
    ],
  );
  const fake = peerOf(alice).sources;
  t.equal(pubs[0]?.source, fake.get('0'), 'the source is the published track of the m-line');
  t.equal(pubs[2]?.source, undefined, 'a non-sending m-line has no source');
  t.equal(w.router.find('alice-s', 'alice-v')?.source, fake.get('1'));
  t.equal(w.router.find('alice-s', 'alice-x'), undefined, 'a non-sending publication is not forwardable');
  t.equal(w.router.find('alice-s', 'alice-v', alice), undefined, 'never from the asking session itself');
});

t.test('lookups never parse SDP: only sync reads the remote description', async (t) => {
  const w = world();
  const alice = await w.add('alice', av('alice'));
  const bob = await w.add('bob', av('bob'));
  const calls = (): number[] => [alice, bob].map((s) => peerOf(s).remoteTracksCalls);
  t.same(calls(), [1, 1]);
  for (let i = 0; i < 100; i++) {
    w.router.speakerSources();
    w.router.publishers();
    w.router.availableTo(alice);
    w.router.find('bob-s', 'bob-a', alice);
    w.router.applyPublisherState(bob);
  }
  w.router.subscribe(alice, [], [{ streamId: 'bob-s', trackId: 'bob-a' }]);
  await w.router.prune();
  t.same(calls(), [1, 1], 'a hundred speaker ticks, snapshots and lookups later');
  await peerOf(bob).answer(sdpOf([av('bob')[0] as MLine]));
  w.router.sync(bob);
  t.same(calls(), [1, 2], 'a new description is read once');
});

t.test('a re-applied description replaces the owner’s publications; a stopped m-line goes', async (t) => {
  const w = world();
  const alice = await w.add('alice', av('alice'));
  await peerOf(alice).answer(
    sdpOf([
      av('alice')[0] as MLine,
      { kind: 'video', stream: 'alice-s', track: 'alice-v', direction: 'inactive' },
    ]),
  );
  w.router.sync(alice);
  t.same(
    w.router.publicationsOf(alice).map((p) => [p.trackId, p.sending, p.source !== undefined]),
    [
      ['alice-a', true, true],
      ['alice-v', false, false],
    ],
  );
  t.same(Object.keys(w.router.availableTo(await w.add('bob', av('bob')))['alice-s']?.tracks ?? {}), [
    'alice-a',
  ]);
});

t.test(
  'subscribe: adds a forwarding m-line fed by the publisher’s source; own and unknown tracks refused',
  async (t) => {
    const w = world();
    const alice = await w.add('alice', av('alice'));
    const bob = await w.add('bob', av('bob'));
    const r = w.router.subscribe(
      alice,
      [],
      [
        { streamId: 'bob-s', trackId: 'bob-v', width: 640, height: 360 },
        { streamId: 'alice-s', trackId: 'alice-a' },
        { streamId: 'carol-s', trackId: 'carol-a' },
      ],
    );
    t.same(r, {
      changed: true,
      own: [{ stream_id: 'alice-s', track_id: 'alice-a' }],
      notFound: [{ stream_id: 'carol-s', track_id: 'carol-a' }],
    });
    const peer = peerOf(alice);
    t.same(
      peer.slots.map((s) => [s.kind, s.streamId, s.trackId]),
      [['video', 'bob-s', 'bob-v']],
    );
    const fwd = peer.forwarded[0];
    if (fwd === undefined) {
      t.fail('no forwarding');
      return;
    }
    t.equal(fwd.source, peerOf(bob).sources.get('1'), 'forwarded from bob’s published video');
    const sub = alice.subscriptions.get(JSON.stringify(['bob-s', 'bob-v']));
    t.same([sub?.width, sub?.height, sub?.kind], [640, 360, 'video']);
    t.equal(sub?.downTrack, fwd);

    const resize = w.router.subscribe(
      alice,
      [],
      [{ streamId: 'bob-s', trackId: 'bob-v', width: 320, height: 180 }],
    );
    t.same(resize, { changed: false, own: [], notFound: [] }, 'a resize adds no m-line');
    t.same(fwd.requested, [[320, 180]]);
    t.equal(peer.slots.length, 1);
  },
);

t.test('subscribe to a track without metadata is not found (available = applied + described)', async (t) => {
  const w = world();
  const alice = await w.add('alice', av('alice'));
  await w.add('bob', av('bob'), {});
  t.same(w.router.subscribe(alice, [], [{ streamId: 'bob-s', trackId: 'bob-a' }]).notFound, [
    { stream_id: 'bob-s', track_id: 'bob-a' },
  ]);
});

t.test(
  'release: unsubscribe stops the forwarding and parks the m-line; unknown stops are a no-op',
  async (t) => {
    const w = world();
    const alice = await w.add('alice', av('alice'));
    await w.add('bob', av('bob'));
    w.router.subscribe(alice, [], [{ streamId: 'bob-s', trackId: 'bob-a' }]);
    const peer = peerOf(alice);
    const r = w.router.subscribe(
      alice,
      [
        { streamId: 'bob-s', trackId: 'bob-a' },
        { streamId: 'bob-s', trackId: 'bob-v' },
      ],
      [],
    );
    t.same(r, { changed: true, own: [], notFound: [] });
    t.equal(peer.slots[0]?.active, false, 'the m-line goes inactive');
    t.equal(peer.forwarded[0]?.closed, true, 'the forwarding stopped');
    t.equal(alice.subscriptions.size, 0);
    t.same(w.router.subscribe(alice, [{ streamId: 'bob-s', trackId: 'bob-a' }], []).changed, false);
  },
);

t.test('owner leaving: prune releases its subscribers’ tracks and asks each for one SFU offer', async (t) => {
  const w = world();
  const alice = await w.add('alice', av('alice'));
  const bob = await w.add('bob', av('bob'));
  const carol = await w.add('carol', av('carol'));
  const offers = [alice, bob, carol].map(countingNegotiator);
  w.router.subscribe(
    alice,
    [],
    [
      { streamId: 'bob-s', trackId: 'bob-a' },
      { streamId: 'carol-s', trackId: 'carol-a' },
    ],
  );
  w.router.subscribe(carol, [], [{ streamId: 'alice-s', trackId: 'alice-a' }]);
  leave(w, bob);
  await w.router.prune();
  t.same([...alice.subscriptions.keys()], [JSON.stringify(['carol-s', 'carol-a'])], 'only bob’s track went');
  t.same(
    offers.map((o) => o.count),
    [1, 0, 0],
  );
  t.same(w.router.publicationsOf(bob), [], 'the owner’s publications are gone');
  t.equal(w.router.find('bob-s', 'bob-a'), undefined);
});

t.test('remove only drops the publications of that very session (a replacement keeps its own)', async (t) => {
  const w = world();
  const old = await w.add('alice', av('alice'));
  leave(w, old);
  const replacement = await w.add('alice', av('alice'));
  w.router.remove(old);
  t.equal(w.router.publicationsOf(replacement).length, 2);
});

t.test('a forwarded track that ends on its own is pruned', async (t) => {
  const w = world();
  const alice = await w.add('alice', av('alice'));
  await w.add('bob', av('bob'));
  const offers = countingNegotiator(alice);
  w.router.subscribe(alice, [], [{ streamId: 'bob-s', trackId: 'bob-v' }]);
  peerOf(alice).forwarded[0]?.end();
  t.equal(w.ended, 1, 'the conference is told (it queues a prune)');
  await w.router.prune();
  t.equal(alice.subscriptions.size, 0);
  t.equal(offers.count, 1);
});

t.test(
  'takenTrack: an offer sending an id another session publishes; the first publisher keeps it',
  async (t) => {
    const w = world();
    const alice = await w.add('alice', av('alice'));
    const bob = await w.add('bob', av('bob'));
    t.same(w.router.takenTrack(bob, sdpOf([...av('bob'), av('alice')[1] as MLine])), {
      streamId: 'alice-s',
      trackId: 'alice-v',
    });
    t.equal(
      w.router.takenTrack(bob, sdpOf([{ ...(av('alice')[1] as MLine), direction: 'recvonly' }])),
      undefined,
      'not when it does not send',
    );
    t.equal(w.router.takenTrack(alice, sdpOf(av('alice'))), undefined, 'its own ids are not taken');
    // Both publish the same id (an invite is not checked): bob sees alice's, alice sees none of bob's.
    const carol = await w.add('carol', [{ kind: 'audio', stream: 'alice-s', track: 'alice-a' }]);
    t.equal(w.router.find('alice-s', 'alice-a', carol)?.owner, alice.participant);
    t.same(Object.keys(w.router.availableTo(alice)), ['bob-s'], 'carol’s copy of alice-a is not offered');
    t.same(Object.keys(w.router.availableTo(carol)), ['alice-s', 'bob-s']);
  },
);

t.test('speaker sources: each published audio track, muted from metadata, loudness taken', async (t) => {
  const w = world();
  const alice = await w.add('alice', av('alice'));
  const bob = await w.add('bob', av('bob'));
  bob.metadata = { 'bob-s': { ...bob.metadata['bob-s'], audio_muted: true } };
  const src = peerOf(alice).sources.get('0');
  if (src !== undefined) {
    src.loudness = { sum: 30, count: 3 };
  }
  const sources = w.router.speakerSources();
  t.same(
    sources.map((s) => [s.key, s.speaker, s.muted]),
    [
      [
        `${alice.participant}|alice-s`,
        { user_id: '@alice:example.org', device_id: 'ALICEDEV', stream_id: 'alice-s' },
        false,
      ],
      [
        `${bob.participant}|bob-s`,
        { user_id: '@bob:example.org', device_id: 'BOBDEV', stream_id: 'bob-s' },
        true,
      ],
    ],
  );
  t.same(sources[0]?.take(), { sum: 30, count: 3 });
  t.same(sources[0]?.take(), { sum: 0, count: 0 }, 'taken once');
  leave(w, bob);
  t.equal(w.router.speakerSources().length, 1, 'a leaving owner’s sources go');
});

t.test('publisher state: mute flags and declared sizes reach the published tracks', async (t) => {
  const w = world();
  const alice = await w.add('alice', av('alice'));
  alice.metadata = {
    'alice-s': {
      purpose: 'm.usermedia',
      audio_muted: true,
      video_muted: false,
      tracks: { 'alice-a': { kind: 'audio' }, 'alice-v': { kind: 'video', width: 1280, height: 720 } },
    },
  };
  w.router.applyPublisherState(alice);
  const [a, v] = [peerOf(alice).sources.get('0'), peerOf(alice).sources.get('1')];
  t.same([a?.muted, a?.declared], [true, undefined]);
  t.same([v?.muted, v?.declared], [false, { width: 1280, height: 720 }]);
  alice.metadata = {};
  w.router.applyPublisherState(alice);
  t.same([a?.muted, v?.muted, v?.declared], [false, false, undefined]);
});

/**
 * The router's relayed publications (protocol.md §8.2, §8.4, §8.8) without a link relay: setRelayed publishes a
 * link's members under their real ids (snapshots, find, speaker sources), refuses ids taken locally, by another
 * link or named twice; a local publisher keeps its own track over a relayed one; localPublishers lists only
 * sending session publications with a source; clearRelayed drops a link's publications.
 */
import t from 'tap';
import { pino } from 'pino';
import { Router } from '../../../src/conference/router.js';
import type { RelayedPublisher } from '../../../src/conference/relayedPublications.js';
import { Session } from '../../../src/conference/session.js';
import { FakeClock } from '../../helpers/fakeClock.js';
import { FakePeer, FakeSource, idsOf, peerOf, sdpOf, type MLine } from './fakes.js';

function world(): { router: Router<Session>; add(name: string, lines: MLine[]): Promise<Session> } {
  const clock = new FakeClock();
  const members: Session[] = [];
  const router = new Router<Session>({
    clock,
    log: pino({ level: 'silent' }),
    sessions: () => members.filter((m) => m.state !== 'closed'),
    forwardEnded: () => undefined,
  });
  return {
    router,
    async add(name, lines) {
      const s = new Session(idsOf(name), new FakePeer(''), clock.now() + members.length);
      s.metadata = {
        [`${name}-s`]: {
          purpose: 'm.usermedia',
          audio_muted: false,
          video_muted: false,
          tracks: Object.fromEntries(lines.map((l) => [l.track, { kind: l.kind }])),
        },
      };
      await peerOf(s).answer(sdpOf(lines));
      members.push(s);
      router.sync(s);
      return s;
    },
  };
}

function relayed(name: string, stream = `${name}-s`, tracks = [`${name}-a`, `${name}-v`]): RelayedPublisher {
  return {
    userId: `@${name}:b.example`,
    deviceId: `${name.toUpperCase()}DEV`,
    metadata: {
      [stream]: {
        user_id: `@${name}:b.example`,
        device_id: `${name.toUpperCase()}DEV`,
        purpose: 'm.usermedia',
        audio_muted: true,
        video_muted: false,
        tracks: Object.fromEntries(tracks.map((id) => [id, { kind: id.endsWith('-a') ? 'audio' : 'video' }])),
      },
    },
    tracks: tracks.map((id) => {
      const kind = id.endsWith('-a') ? ('audio' as const) : ('video' as const);
      return { streamId: stream, trackId: id, kind, source: new FakeSource(`relayed:${id}`, kind) };
    }),
  };
}

t.test('setRelayed: snapshots under the remote ids, find, speaker sources, mute flags', async (t) => {
  const w = world();
  const bob = await w.add('bob', [{ kind: 'audio', stream: 'bob-s', track: 'bob-a' }]);
  const carol = relayed('carol');
  t.same(w.router.setRelayed('B', [carol]), []);
  t.same(w.router.availableTo(bob)['carol-s'], {
    user_id: '@carol:b.example',
    device_id: 'CAROLDEV',
    purpose: 'm.usermedia',
    audio_muted: true,
    video_muted: false,
    tracks: { 'carol-a': { kind: 'audio' }, 'carol-v': { kind: 'video' } },
  });
  const p = w.router.find('carol-s', 'carol-v', bob);
  t.same(p?.origin, { kind: 'link', link: 'B' });
  t.equal(p?.source, carol.tracks[1]?.source);
  t.equal((carol.tracks[0]?.source as FakeSource).muted, true, 'the mute flag reached the relayed source');
  t.match(w.router.speakerSources(), [
    { speaker: { user_id: '@bob:example.org' } },
    { speaker: { user_id: '@carol:b.example', stream_id: 'carol-s' }, muted: true },
  ]);
  t.same(
    w.router.relayedOf('B').map((x) => x.trackId),
    ['carol-a', 'carol-v'],
  );
  t.same(
    w.router.localPublishers().map((l) => [l.userId, l.publications.map((x) => x.trackId)]),
    [['@bob:example.org', ['bob-a']]],
    'relayed publications are never local ones (loop rule)',
  );
  w.router.clearRelayed('B');
  t.equal(w.router.find('carol-s', 'carol-v'), undefined);
  t.same(w.router.availableTo(bob), {});
});

t.test('setRelayed refuses ids taken locally, by another link or named twice', async (t) => {
  const w = world();
  await w.add('alice', [
    { kind: 'audio', stream: 'alice-s', track: 'alice-a' },
    { kind: 'video', stream: 'alice-s', track: 'alice-x', direction: 'recvonly' },
  ]);
  t.same(
    w.router.setRelayed('B', [relayed('carol', 'alice-s', ['alice-a', 'alice-x', 'carol-v'])]),
    [
      { streamId: 'alice-s', trackId: 'alice-a' },
      { streamId: 'alice-s', trackId: 'alice-x' },
    ],
    'a local id is taken, sending or not',
  );
  t.equal(w.router.find('alice-s', 'alice-a')?.origin.kind, 'session');
  t.same(
    w.router.setRelayed('C', [relayed('dave', 'alice-s', ['carol-v', 'dave-a'])]),
    [{ streamId: 'alice-s', trackId: 'carol-v' }],
    'another link’s id is taken',
  );
  t.same(
    w.router.setRelayed('C', [relayed('dave'), relayed('erin', 'dave-s', ['dave-a'])]),
    [{ streamId: 'dave-s', trackId: 'dave-a' }],
    'named twice: the first keeps it',
  );
  t.notOk(w.router.relayable('C', 'alice-s', 'carol-v'));
  t.ok(w.router.relayable('B', 'alice-s', 'carol-v'), 'a link may keep its own ids');
  t.notOk(w.router.relayable('B', 'alice-s', 'alice-a'));
});

t.test('a local publisher that takes a relayed id keeps its own track', async (t) => {
  const w = world();
  const viewer = await w.add('bob', [{ kind: 'audio', stream: 'bob-s', track: 'bob-a' }]);
  w.router.setRelayed('B', [relayed('carol')]);
  const local = await w.add('carol', [{ kind: 'audio', stream: 'carol-s', track: 'carol-a' }]);
  t.equal(w.router.find('carol-s', 'carol-a')?.origin.kind, 'session');
  t.equal(w.router.find('carol-s', 'carol-a')?.owner, local.participant);
  t.equal(
    w.router.availableTo(viewer)['carol-s']?.user_id,
    '@carol:example.org',
    'the snapshot names the local one',
  );
  t.equal(
    w.router.takenTrack(local, sdpOf([{ kind: 'audio', stream: 'carol-s', track: 'carol-a' }])),
    undefined,
  );
  t.equal(w.router.find('carol-s', 'carol-v')?.origin.kind, 'link', 'the uncontested relayed track stays');
  t.equal(
    w.router.speakerSources().filter((s) => s.speaker.stream_id === 'carol-s').length,
    1,
    'one speaker source for the contested stream',
  );
});

/**
 * The receiving side of a link relay (protocol.md §8.1–§8.3, §8.5, §8.8) on a fake conference and a fake link
 * peer: remote metadata becomes relayed publications (visible in a client's snapshot under the remote member's
 * ids, forwardable to a local subscriber, speaker sources), a forged stream (membership naming another focus) is
 * dropped and refused once, a revoked membership drops its stream within 1 s of clock time, collisions are
 * refused with M_INVALID_PARAM, the demand diff (new layer, dropped layer, unsubscribe, keep_lowest_layer, full
 * re-send on a new channel), `layers` → setRemoteSending, and a relink re-announcing the adopted sources.
 */
import t from 'tap';
import { focusKey } from '../../../src/conference/focusId.js';
import { participantKey } from '../../../src/conference/session.js';
import { idsOf, join, peerOf, type FakePeer } from './fakes.js';
import {
  FakeLinkPeer,
  fromRemote,
  relayRig,
  remoteStream,
  REMOTE,
  SELF,
  type RelayRig,
} from './linkRelayFakes.js';

const LINK = focusKey(REMOTE);

/** Bob: a local client speaking dialect A, channel open, nothing pending. */
async function localViewer(rr: RelayRig, name = 'bob'): Promise<FakePeer> {
  const bob = await join(rr.r, name);
  bob.open();
  bob.client({ op: 'alive' });
  await rr.r.conf.idle();
  bob.sent();
  return bob;
}

/** The relay's messages since the last take, without its own metadata. */
function replies(rr: RelayRig): ReturnType<RelayRig['take']> {
  return rr.take().filter((m) => m.kind !== 'metadata');
}

async function remoteMetadata(rr: RelayRig, metadata: Record<string, unknown>): Promise<void> {
  rr.relay.handle(fromRemote({ op: 'metadata', metadata }));
  await rr.r.conf.idle();
}

function session(rr: RelayRig, name: string) {
  const ids = idsOf(name);
  const s = rr.r.conf.session(participantKey(ids.userId, ids.deviceId));
  if (s === undefined) {
    throw new Error(`no session ${name}`);
  }
  return s;
}

t.test('metadata in: relayed publications in the router, in a client snapshot, forwardable', async (t) => {
  const rr = relayRig();
  rr.relay.opened();
  const bob = await localViewer(rr);
  await remoteMetadata(rr, remoteStream('carol'));
  t.same(rr.peer.remoteTracks, [
    { streamId: 'carol-s', trackId: 'carol-a', kind: 'audio', ssrc: 5000 },
    {
      streamId: 'carol-s',
      trackId: 'carol-v',
      kind: 'video',
      layers: [
        { rid: 'q', ssrc: 5001, width: 320, height: 180 },
        { rid: 'h', ssrc: 5002, width: 640, height: 360 },
        { rid: 'f', ssrc: 5003, width: 1280, height: 720 },
      ],
    },
  ]);
  const pub = rr.r.conf.router.find('carol-s', 'carol-v');
  t.same(pub?.origin, { kind: 'link', link: LINK });
  t.equal(pub?.source, rr.peer.relayedSource('carol-s', 'carol-v'));
  t.equal(rr.changed, 1, 'the conference was told once');
  t.same(rr.peer.relayedSource('carol-s', 'carol-v')?.declared, { width: 1280, height: 720 });

  const frames = bob.sent();
  t.same(
    frames.at(-1),
    {
      op: 'metadata',
      metadata: {
        'carol-s': {
          user_id: '@carol:b.example',
          device_id: 'CAROLDEV',
          purpose: 'm.usermedia',
          audio_muted: false,
          video_muted: false,
          tracks: { 'carol-a': { kind: 'audio' }, 'carol-v': { kind: 'video', width: 1280, height: 720 } },
        },
      },
    },
    'the client sees the remote member’s ids and no trunk fields',
  );

  bob.client({
    op: 'subscribe',
    id: '1',
    start: [{ stream_id: 'carol-s', track_id: 'carol-v', width: 320, height: 180 }],
  });
  await rr.r.conf.idle();
  t.match(bob.sent(), [{ op: 'ack', id: '1' }]);
  t.equal(
    peerOf(session(rr, 'bob')).forwarded[0]?.source,
    rr.peer.relayedSource('carol-s', 'carol-v'),
    'forwarded from the relayed source',
  );

  const speakers = rr.r.conf.router.speakerSources();
  t.match(speakers, [
    {},
    { speaker: { user_id: '@carol:b.example', device_id: 'CAROLDEV', stream_id: 'carol-s' } },
  ]);

  // The same metadata again changes nothing.
  await remoteMetadata(rr, remoteStream('carol'));
  t.equal(rr.changed, 1);
  t.equal(rr.peer.setRemoteTracksCalls, 1);
  // A stream the remote stops announcing goes.
  await remoteMetadata(rr, {});
  t.equal(rr.r.conf.router.find('carol-s', 'carol-v'), undefined);
  t.same(rr.peer.remoteTracks, []);
  t.ok(peerOf(session(rr, 'bob')).forwarded[0]?.closed, 'bob’s forwarding of it ended');
});

t.test(
  'a forged stream (membership names another focus) is dropped, refused once; accepted when it names the sender',
  async (t) => {
    const rr = relayRig();
    rr.relay.opened();
    rr.take();
    rr.oracle.named.set('@dave:b.example|DAVEDEV', { user_id: '@sfu:c.example', device_id: 'FC' });
    rr.oracle.named.set('@erin:b.example|ERINDEV', { user_id: SELF.userId, device_id: SELF.deviceId });
    await remoteMetadata(rr, {
      ...remoteStream('carol'),
      ...remoteStream('dave', { ssrcBase: 6000 }),
      ...remoteStream('erin', { ssrcBase: 7000 }),
    });
    t.same(
      rr.peer.remoteTracks.map((x) => x.streamId),
      ['carol-s', 'carol-s'],
      'only carol is relayed',
    );
    t.equal(rr.r.conf.router.find('dave-s', 'dave-a'), undefined);
    t.equal(
      rr.r.conf.router.find('erin-s', 'erin-a'),
      undefined,
      'a member of THIS focus cannot be relayed in',
    );
    const [err, ...rest] = rr.take();
    t.same(rest, []);
    t.match(err, {
      kind: 'error',
      errcode: 'M_FORBIDDEN',
      error: /dave-s, erin-s/,
      failed: [
        { stream_id: 'dave-s', track_id: 'dave-a' },
        { stream_id: 'dave-s', track_id: 'dave-v' },
        { stream_id: 'erin-s', track_id: 'erin-a' },
        { stream_id: 'erin-s', track_id: 'erin-v' },
      ],
    });
    t.equal(rr.relay.counts.forbidden, 2);
    await remoteMetadata(rr, {
      ...remoteStream('carol'),
      ...remoteStream('dave', { ssrcBase: 6000 }),
      ...remoteStream('erin', { ssrcBase: 7000 }),
    });
    rr.relay.tick(rr.r.clock.now());
    t.same(rr.take(), [], 'refused once, not on every repetition');
    t.equal(rr.relay.counts.forbidden, 2);

    // Dave's membership now names the remote focus: his stream comes in at the next tick.
    rr.oracle.named.delete('@dave:b.example|DAVEDEV');
    rr.r.clock.advance(200);
    rr.relay.tick(rr.r.clock.now());
    await rr.r.conf.idle();
    t.same(rr.r.conf.router.find('dave-s', 'dave-v')?.origin, { kind: 'link', link: LINK });
  },
);

t.test('a revoked membership drops its relayed stream within 1 s of clock time', async (t) => {
  const rr = relayRig();
  rr.relay.opened();
  const bob = await localViewer(rr);
  await remoteMetadata(rr, remoteStream('carol'));
  bob.client({ op: 'subscribe', start: [{ stream_id: 'carol-s', track_id: 'carol-v' }] });
  await rr.r.conf.idle();
  bob.sent();
  rr.take();
  const start = rr.r.clock.now();
  rr.oracle.named.set('@carol:b.example|CAROLDEV', { user_id: '@sfu:c.example', device_id: 'FC' });
  let goneAt: number | undefined;
  for (let i = 0; i < 10 && goneAt === undefined; i++) {
    rr.r.clock.advance(200); // the link's 200 ms tick
    rr.relay.tick(rr.r.clock.now());
    await rr.r.conf.idle();
    if (rr.r.conf.router.find('carol-s', 'carol-v') === undefined) {
      goneAt = rr.r.clock.now();
    }
  }
  t.ok(
    goneAt !== undefined && goneAt - start <= 1000,
    `dropped after ${String((goneAt ?? Infinity) - start)} ms`,
  );
  t.same(rr.peer.remoteTracks, [], 'the peer no longer relays it');
  t.ok(peerOf(session(rr, 'bob')).forwarded[0]?.closed, 'bob’s forwarding ended');
  t.same(rr.r.conf.metadataFor(session(rr, 'bob'))['carol-s'], undefined, 'gone from bob’s snapshot');
  t.match(
    rr.take().filter((m) => m.kind !== 'metadata'),
    [{ kind: 'error', errcode: 'M_FORBIDDEN', failed: [{ stream_id: 'carol-s' }, { stream_id: 'carol-s' }] }],
  );
});

t.test(
  'collisions: a relayed id taken locally or by another link is refused with M_INVALID_PARAM',
  async (t) => {
    const rr = relayRig();
    rr.relay.opened();
    await join(rr.r, 'alice');
    replies(rr);
    await remoteMetadata(
      rr,
      remoteStream('carol', { stream: 'alice-s', audio: 'alice-a', video: 'carol-v' }),
    );
    t.same(replies(rr), [
      {
        kind: 'error',
        errcode: 'M_INVALID_PARAM',
        error: 'already published by someone else in this conference: "alice-s"/"alice-a"',
        failed: [{ stream_id: 'alice-s', track_id: 'alice-a' }],
      },
    ]);
    t.equal(rr.r.conf.router.find('alice-s', 'alice-a')?.origin.kind, 'session', 'alice keeps her track');
    t.equal(rr.r.conf.router.find('alice-s', 'carol-v')?.origin.kind, 'link', 'the other track is relayed');
    t.same(
      rr.peer.remoteTracks.map((x) => x.trackId),
      ['carol-v'],
    );
    t.equal(rr.relay.counts.collisions, 1);
    rr.relay.tick(rr.r.clock.now());
    t.same(replies(rr), [], 'refused once');

    // Another link relaying a track this link already relays.
    const other = relayRig({ r: rr.r, remote: { userId: '@sfu:c.example', deviceId: 'FC' } });
    other.oracle.named.set('@frank:b.example|FRANKDEV', { user_id: '@sfu:c.example', device_id: 'FC' });
    other.relay.opened();
    replies(other);
    await remoteMetadata(
      other,
      remoteStream('frank', { stream: 'alice-s', audio: 'frank-a', video: 'carol-v' }),
    );
    t.match(replies(other), [
      { kind: 'error', errcode: 'M_INVALID_PARAM', failed: [{ stream_id: 'alice-s', track_id: 'carol-v' }] },
    ]);
    t.same(
      rr.r.conf.router.find('alice-s', 'carol-v')?.origin,
      { kind: 'link', link: LINK },
      'the first link keeps it',
    );
    t.same(rr.r.conf.router.find('alice-s', 'frank-a')?.origin, {
      kind: 'link',
      link: focusKey({ userId: '@sfu:c.example', deviceId: 'FC' }),
    });

    // A local publisher that arrives with a relayed id gets its own track; the relayed one goes at the next tick.
    await remoteMetadata(rr, {
      ...remoteStream('carol', { stream: 'alice-s', audio: 'alice-a', video: 'carol-v' }),
      ...remoteStream('erin', { ssrcBase: 7000 }),
    });
    t.equal(rr.r.conf.router.find('erin-s', 'erin-a')?.origin.kind, 'link');
    await join(rr.r, 'erin');
    t.same(
      rr.r.conf.router.find('erin-s', 'erin-a')?.origin.kind,
      'session',
      'the local publisher gets its own track at once',
    );
    await localViewer(rr, 'bob');
    t.equal(rr.r.conf.metadataFor(session(rr, 'bob'))['erin-s']?.user_id, '@erin:example.org');
    replies(rr);
    rr.relay.tick(rr.r.clock.now());
    await rr.r.conf.idle();
    t.match(replies(rr), [
      {
        kind: 'error',
        errcode: 'M_INVALID_PARAM',
        failed: [
          { stream_id: 'erin-s', track_id: 'erin-a' },
          { stream_id: 'erin-s', track_id: 'erin-v' },
        ],
      },
    ]);
    t.notOk(
      rr.peer.remoteTracks.some((x) => x.streamId === 'erin-s'),
      'no longer relayed',
    );
  },
);

t.test(
  'demand: subscribe with layers for new or changed tracks, unsubscribe when unused, full re-send on open',
  async (t) => {
    const rr = relayRig();
    await remoteMetadata(rr, remoteStream('carol'));
    t.notOk(rr.relay.expecting);
    rr.peer.demandList = [
      { streamId: 'carol-s', trackId: 'carol-v', rids: ['q'] },
      { streamId: 'carol-s', trackId: 'carol-a', rids: [] },
    ];
    rr.relay.tick(rr.r.clock.now());
    t.same(rr.take(), [], 'nothing before the channel opens');
    t.ok(rr.relay.expecting, 'demanded');
    rr.relay.opened();
    t.same(
      rr.take().filter((m) => m.kind !== 'metadata'),
      [
        {
          kind: 'subscribe',
          tracks: [
            { streamId: 'carol-s', trackId: 'carol-v', layers: ['q'] },
            { streamId: 'carol-s', trackId: 'carol-a' },
          ],
        },
      ],
    );
    rr.relay.tick(rr.r.clock.now());
    t.same(rr.take(), [], 'unchanged: nothing');
    rr.peer.demandList = [
      { streamId: 'carol-s', trackId: 'carol-v', rids: ['q', 'f'] },
      { streamId: 'carol-s', trackId: 'carol-a', rids: [] },
    ];
    rr.relay.tick(rr.r.clock.now());
    t.same(
      rr.take(),
      [{ kind: 'subscribe', tracks: [{ streamId: 'carol-s', trackId: 'carol-v', layers: ['q', 'f'] }] }],
      'a new layer',
    );
    rr.peer.demandList = [
      { streamId: 'carol-s', trackId: 'carol-v', rids: ['f'] },
      { streamId: 'carol-s', trackId: 'carol-a', rids: [] },
    ];
    rr.relay.tick(rr.r.clock.now());
    t.same(
      rr.take(),
      [{ kind: 'subscribe', tracks: [{ streamId: 'carol-s', trackId: 'carol-v', layers: ['f'] }] }],
      'a layer dropped after the hold',
    );
    rr.peer.demandList = [{ streamId: 'carol-s', trackId: 'carol-a', rids: [] }];
    rr.relay.tick(rr.r.clock.now());
    t.same(rr.take(), [{ kind: 'unsubscribe', tracks: [{ streamId: 'carol-s', trackId: 'carol-v' }] }]);
    // A demand for a track this link does not relay is not sent.
    rr.peer.demandList = [
      { streamId: 'carol-s', trackId: 'carol-a', rids: [] },
      { streamId: 'x-s', trackId: 'x-v', rids: ['q'] },
    ];
    rr.relay.tick(rr.r.clock.now());
    t.same(rr.take(), []);
  },
);

t.test('keep_lowest_layer adds the lowest layer to every video demand', async (t) => {
  const rr = relayRig({ keepLowestLayer: true });
  rr.relay.opened();
  await remoteMetadata(rr, remoteStream('carol'));
  rr.take();
  rr.peer.demandList = [
    { streamId: 'carol-s', trackId: 'carol-v', rids: ['f'] },
    { streamId: 'carol-s', trackId: 'carol-a', rids: [] },
  ];
  rr.relay.tick(rr.r.clock.now());
  t.same(rr.take(), [
    {
      kind: 'subscribe',
      tracks: [
        { streamId: 'carol-s', trackId: 'carol-v', layers: ['q', 'f'] },
        { streamId: 'carol-s', trackId: 'carol-a' },
      ],
    },
  ]);
});

t.test('layers from the remote reach the peer for relayed tracks only', async (t) => {
  const rr = relayRig();
  rr.relay.opened();
  await remoteMetadata(rr, remoteStream('carol'));
  rr.relay.handle(
    fromRemote({
      op: 'layers',
      tracks: [
        { stream_id: 'carol-s', track_id: 'carol-v', sending: ['q'] },
        { stream_id: 'x-s', track_id: 'x-v', sending: [] },
      ],
    }),
  );
  t.same(rr.peer.remoteSending, [{ streamId: 'carol-s', trackId: 'carol-v', rids: ['q'] }]);
});

t.test(
  'a relink: the new peer adopts the relayed sources, they are re-announced, keyframes asked, demand re-sent',
  async (t) => {
    const rr = relayRig();
    rr.relay.opened();
    const bob = await localViewer(rr);
    await remoteMetadata(rr, remoteStream('carol'));
    bob.client({ op: 'subscribe', start: [{ stream_id: 'carol-s', track_id: 'carol-v' }] });
    await rr.r.conf.idle();
    const source = rr.peer.relayedSource('carol-s', 'carol-v');
    rr.peer.demandList = [{ streamId: 'carol-s', trackId: 'carol-v', rids: ['f'] }];
    rr.relay.tick(rr.r.clock.now());
    rr.take();
    const old = rr.peer;
    const next = new FakeLinkPeer();
    rr.relay.attach(next);
    await rr.r.conf.idle();
    t.equal(next.adoptedFrom, old);
    t.same(next.remoteTracks, old.remoteTracks, 're-announced on the new peer');
    t.equal(next.keyframeRequests, 0, 'no keyframe request before the new call is up');
    t.equal(rr.r.conf.router.find('carol-s', 'carol-v')?.source, source, 'the same relayed source');
    t.notOk(peerOf(session(rr, 'bob')).forwarded[0]?.closed, 'bob’s forwarding survives the relink');
    next.demandList = [{ streamId: 'carol-s', trackId: 'carol-v', rids: ['f'] }];
    rr.relay.tick(rr.r.clock.now());
    t.same(rr.take(), [], 'nothing before the new channel opens');
    rr.relay.opened();
    t.equal(next.keyframeRequests, 1, 'keyframes asked once the new channel opened');
    t.same(
      rr.take().filter((m) => m.kind !== 'metadata'),
      [{ kind: 'subscribe', tracks: [{ streamId: 'carol-s', trackId: 'carol-v', layers: ['f'] }] }],
    );
  },
);

t.test('close: relayed publications removed, subscribers pruned', async (t) => {
  const rr = relayRig();
  rr.relay.opened();
  const bob = await localViewer(rr);
  await remoteMetadata(rr, remoteStream('carol'));
  bob.client({ op: 'subscribe', start: [{ stream_id: 'carol-s', track_id: 'carol-v' }] });
  await rr.r.conf.idle();
  rr.relay.close();
  await rr.r.conf.idle();
  t.equal(rr.r.conf.router.find('carol-s', 'carol-v'), undefined);
  t.ok(peerOf(session(rr, 'bob')).slots[0]?.active === false, 'bob’s m-line released');
  t.same(rr.r.conf.metadataFor(session(rr, 'bob')), {});
});

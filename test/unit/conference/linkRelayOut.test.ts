/**
 * The sending side of a link relay (protocol.md §8.2–§8.4) on a fake conference and a fake link peer: the link
 * metadata (shape, local publishers only under their real ids, trunk SSRCs random, unique and stable across
 * changes and relinks), no resend when equal, the remote's subscribe → one sendTrack + setLayers per track,
 * unknown and relayed tracks refused, unsubscribe and an ended local track → the trunk send closes, and the
 * peer's `layers` event announced.
 */
import t from 'tap';
import type { LayerTable } from '../../../src/simulcast/layerTable.js';
import type { LinkMessage } from '../../../src/protocol/dc/linkTypes.js';
import type { StreamMetadata } from '../../../src/protocol/dc/types.js';
import { FakeSource, join, refOf, idsOf } from './fakes.js';
import { FakeLinkPeer, fromRemote, relayRig, remoteStream, type RelayRig } from './linkRelayFakes.js';

function row(
  id: number,
  rid: string | undefined,
  width: number,
  height: number,
): LayerTable['layers'][number] {
  return {
    id,
    rank: id,
    rid,
    ssrc: undefined,
    restricted: undefined,
    measured: undefined,
    declared: undefined,
    size: { width, height },
    active: true,
  };
}

/** Makes a fake published video track a 3-layer simulcast track (q/h/f). */
function simulcast(src: FakeSource | undefined): void {
  if (src === undefined) {
    throw new Error('no source');
  }
  src.table = {
    ids: [0, 1, 2],
    layers: [row(0, 'q', 320, 180), row(1, 'h', 640, 360), row(2, 'f', 1280, 720)],
  };
}

function metadataOf(msgs: LinkMessage[]): StreamMetadata[] {
  return msgs.flatMap((m) => (m.kind === 'metadata' ? [m.metadata] : []));
}

function ssrcsOf(m: StreamMetadata): number[] {
  return Object.values(m).flatMap((s) =>
    Object.values(s.tracks ?? {}).flatMap((tr) =>
      tr.ssrc !== undefined ? [tr.ssrc] : (tr.layers ?? []).map((l) => l.ssrc),
    ),
  );
}

async function opened(rr: RelayRig): Promise<void> {
  rr.relay.opened();
  await rr.r.conf.idle();
}

t.test(
  'metadata out: local publishers under their real ids, audio ssrc, video layers lowest first',
  async (t) => {
    const rr = relayRig();
    const alice = await join(rr.r, 'alice');
    simulcast(alice.sources.get('1'));
    const bob = await join(rr.r, 'bob');
    t.equal(bob.sources.get('1')?.kind, 'video');
    rr.relay.localChanged();
    t.same(rr.take(), [], 'nothing is sent before the channel opens');
    await opened(rr);
    const [m, ...rest] = metadataOf(rr.take());
    t.same(rest, [], 'one metadata message on open');
    t.match(m, {
      'alice-s': {
        user_id: '@alice:example.org',
        device_id: 'ALICEDEV',
        purpose: 'm.usermedia',
        audio_muted: false,
        video_muted: false,
        tracks: {
          'alice-a': { kind: 'audio', ssrc: Number },
          'alice-v': {
            kind: 'video',
            width: 1280,
            height: 720,
            layers: [
              { rid: 'q', ssrc: Number, width: 320, height: 180 },
              { rid: 'h', ssrc: Number, width: 640, height: 360 },
              { rid: 'f', ssrc: Number, width: 1280, height: 720 },
            ],
          },
        },
      },
      'bob-s': { user_id: '@bob:example.org', device_id: 'BOBDEV' },
    });
    const bobV = m?.['bob-s']?.tracks?.['bob-v'];
    t.equal(bobV?.layers?.length, 1, 'a non-simulcast video track is one layer');
    t.equal(bobV?.layers?.[0]?.rid, 'f', '… with the fixed rid "f"');
    const ssrcs = ssrcsOf(m ?? {});
    t.equal(ssrcs.length, 6);
    t.equal(new Set(ssrcs).size, 6, 'trunk SSRCs are unique in the link direction');
    t.ok(ssrcs.every((s) => Number.isInteger(s) && s > 0 && s < 2 ** 32));
  },
);

t.test('metadata out: sent only when it changed, SSRCs stable across changes and relinks', async (t) => {
  const rr = relayRig();
  const alice = await join(rr.r, 'alice');
  simulcast(alice.sources.get('1'));
  await opened(rr);
  const first = metadataOf(rr.take())[0] ?? {};
  rr.relay.localChanged();
  rr.relay.tick(rr.r.clock.now());
  t.same(rr.take(), [], 'no resend when equal');

  await join(rr.r, 'bob');
  rr.relay.localChanged();
  const second = metadataOf(rr.take())[0] ?? {};
  t.same(second['alice-s'], first['alice-s'], 'alice keeps her SSRCs when bob arrives');
  t.ok(second['bob-s'], 'bob is announced');

  // Bob leaves and comes back: same stream and track ids → same SSRCs; no SSRC ever names another track.
  const bobSsrcs = ssrcsOf({ 'bob-s': second['bob-s'] ?? {} });
  await rr.r.conf.dispatch({ kind: 'hangup', session: refOf(idsOf('bob')), reason: 'user_hangup' });
  rr.relay.localChanged();
  const third = metadataOf(rr.take())[0] ?? {};
  t.notOk(third['bob-s'], 'bob is gone from the metadata');
  await join(rr.r, 'bob', idsOf('bob', { callId: 'call-bob-2' }));
  rr.relay.localChanged();
  const fourth = metadataOf(rr.take())[0] ?? {};
  t.same(ssrcsOf({ 'bob-s': fourth['bob-s'] ?? {} }), bobSsrcs, 'bob gets his old SSRCs back');

  // A relink: a new peer, the channel opens again → the full metadata again, same SSRCs.
  const next = new FakeLinkPeer();
  rr.relay.attach(next);
  rr.relay.localChanged();
  t.same(rr.take(), [], 'nothing on the new call before its channel opens');
  await opened(rr);
  t.same(metadataOf(rr.take()), [fourth], 'the same metadata is re-sent on the new call');
});

t.test('metadata out: a relayed track is never announced (loop rule)', async (t) => {
  const rr = relayRig();
  await join(rr.r, 'alice');
  await opened(rr);
  rr.take();
  rr.relay.handle(fromRemote({ op: 'metadata', metadata: remoteStream('carol') }));
  await rr.r.conf.idle();
  t.ok(rr.r.conf.router.find('carol-s', 'carol-v'), 'carol is relayed into the conference');
  rr.relay.localChanged();
  rr.relay.tick(rr.r.clock.now());
  t.same(metadataOf(rr.take()), [], 'the metadata did not change');
  // A second link on the same conference announces alice only.
  const other = relayRig({ r: rr.r, remote: { userId: '@sfu:c.example', deviceId: 'FC' } });
  other.relay.opened();
  const m = metadataOf(other.take())[0] ?? {};
  t.same(Object.keys(m), ['alice-s']);
});

t.test('subscribe → one sendTrack with the trunk SSRCs, then setLayers; unsubscribe → closed', async (t) => {
  const rr = relayRig();
  const alice = await join(rr.r, 'alice');
  simulcast(alice.sources.get('1'));
  await opened(rr);
  const m = metadataOf(rr.take())[0] ?? {};
  const layers = m['alice-s']?.tracks?.['alice-v']?.layers ?? [];
  rr.relay.handle(
    fromRemote({
      op: 'subscribe',
      id: 's1',
      start: [
        { stream_id: 'alice-s', track_id: 'alice-a' },
        { stream_id: 'alice-s', track_id: 'alice-v', layers: ['q', 'f'] },
      ],
    }),
  );
  t.same(rr.take(), [{ kind: 'ack', id: 's1' }]);
  const [audio, video, ...more] = rr.peer.sends;
  t.same(more, []);
  t.equal(audio?.source, alice.sources.get('0'), 'audio: the published track');
  t.same(audio?.trunk, { audioSsrc: m['alice-s']?.tracks?.['alice-a']?.ssrc });
  t.equal(video?.source, alice.sources.get('1'));
  t.same(
    video?.trunk.layers,
    layers.map((l, i) => ({ layerId: i, rid: l.rid, ssrc: l.ssrc })),
    'video: each layer id with its rid and announced SSRC',
  );
  t.same(video?.layerCalls, [['q', 'f']]);

  // A changed set: the same send, new layers.
  rr.relay.handle(
    fromRemote({ op: 'subscribe', start: [{ stream_id: 'alice-s', track_id: 'alice-v', layers: ['h'] }] }),
  );
  t.equal(rr.peer.sends.length, 2, 'sendTrack once per track');
  t.same(video?.layerCalls, [['q', 'f'], ['h']]);
  // Without layers: the top layer.
  rr.relay.handle(fromRemote({ op: 'subscribe', start: [{ stream_id: 'alice-s', track_id: 'alice-v' }] }));
  t.same(video?.layerCalls.at(-1), ['f']);
  t.ok(rr.relay.expecting, 'trunk sends are demand');

  rr.relay.handle(
    fromRemote({ op: 'unsubscribe', id: 'u1', stop: [{ stream_id: 'alice-s', track_id: 'alice-v' }] }),
  );
  t.same(rr.take(), [{ kind: 'ack', id: 'u1' }]);
  t.ok(video?.closed, 'unsubscribe closes the trunk send');
  t.notOk(audio?.closed);

  // Alice leaves: her audio send closes at the next local change.
  await rr.r.conf.dispatch({ kind: 'hangup', session: refOf(idsOf('alice')), reason: 'user_hangup' });
  rr.relay.localChanged();
  t.ok(audio?.closed, 'a local track that ends closes its trunk send');
  t.notOk(rr.relay.expecting);
});

t.test('subscribe: unknown, relayed and layer-less entries are refused; the others apply', async (t) => {
  const rr = relayRig();
  await join(rr.r, 'alice');
  await opened(rr);
  rr.relay.handle(fromRemote({ op: 'metadata', metadata: remoteStream('carol') }));
  await rr.r.conf.idle();
  rr.take();
  rr.relay.handle(
    fromRemote({
      op: 'subscribe',
      id: 's2',
      start: [
        { stream_id: 'alice-s', track_id: 'alice-a' },
        { stream_id: 'nobody-s', track_id: 'nobody-v' },
        { stream_id: 'carol-s', track_id: 'carol-v', layers: ['q'] },
      ],
    }),
  );
  t.same(rr.take(), [
    {
      kind: 'error',
      id: 's2',
      errcode: 'M_NOT_FOUND',
      error: 'not a local track of this focus: nobody-s/nobody-v, carol-s/carol-v',
      failed: [
        { stream_id: 'nobody-s', track_id: 'nobody-v' },
        { stream_id: 'carol-s', track_id: 'carol-v' },
      ],
    },
  ]);
  t.same(
    rr.peer.sends.map((s) => s.trackId),
    ['alice-a'],
    'the known entry is sent; a relayed track never goes onto the link',
  );
  rr.relay.handle(
    fromRemote({
      op: 'subscribe',
      id: 's3',
      start: [{ stream_id: 'alice-s', track_id: 'alice-v', layers: ['x'] }],
    }),
  );
  t.match(rr.take(), [{ kind: 'error', id: 's3', errcode: 'M_INVALID_PARAM' }]);
  t.equal(rr.relay.counts.refusedSubscribes, 3);
});

t.test('a republished track (new source) is sent anew with the same layers', async (t) => {
  const rr = relayRig();
  const alice = await join(rr.r, 'alice');
  await opened(rr);
  rr.relay.handle(
    fromRemote({ op: 'subscribe', start: [{ stream_id: 'alice-s', track_id: 'alice-v', layers: ['f'] }] }),
  );
  const first = rr.peer.sends[0];
  const replacement = new FakeSource('1', 'video');
  alice.sources.set('1', replacement);
  rr.relay.localChanged();
  t.ok(first?.closed, 'the old send closes');
  const second = rr.peer.sends[1];
  t.equal(second?.source, replacement);
  t.same(second?.trunk, first?.trunk, 'same trunk SSRCs');
  t.same(second?.layerCalls, [['f']]);
});

t.test(
  'the peer’s layers event is announced at once; the old peer’s is ignored after a relink',
  async (t) => {
    const rr = relayRig();
    await opened(rr);
    rr.take();
    rr.peer.emit('layers', { streamId: 'alice-s', trackId: 'alice-v', sending: ['q'] });
    t.same(rr.take(), [
      { kind: 'layers', tracks: [{ streamId: 'alice-s', trackId: 'alice-v', sending: ['q'] }] },
    ]);
    const old = rr.peer;
    rr.relay.attach(new FakeLinkPeer());
    old.emit('layers', { streamId: 'alice-s', trackId: 'alice-v', sending: [] });
    t.same(rr.take(), []);
  },
);

t.test('a relink forgets the old trunk sends; the remote subscribes again on the new peer', async (t) => {
  const rr = relayRig();
  await join(rr.r, 'alice');
  await opened(rr);
  rr.relay.handle(fromRemote({ op: 'subscribe', start: [{ stream_id: 'alice-s', track_id: 'alice-a' }] }));
  const next = new FakeLinkPeer();
  rr.relay.attach(next);
  t.notOk(rr.relay.expecting, 'the old call’s sends are forgotten');
  await opened(rr);
  rr.relay.handle(fromRemote({ op: 'subscribe', start: [{ stream_id: 'alice-s', track_id: 'alice-a' }] }));
  t.equal(next.sends.length, 1, 'sent on the new peer');
  t.same(next.sends[0]?.trunk, rr.peer.sends[0]?.trunk, 'under the same trunk SSRC');
});

t.test('close: trunk sends closed, nothing sent afterwards', async (t) => {
  const rr = relayRig();
  await join(rr.r, 'alice');
  await opened(rr);
  rr.relay.handle(fromRemote({ op: 'subscribe', start: [{ stream_id: 'alice-s', track_id: 'alice-a' }] }));
  rr.take();
  rr.relay.close();
  t.ok(rr.peer.sends[0]?.closed);
  rr.relay.localChanged();
  rr.relay.tick(rr.r.clock.now());
  rr.relay.handle(
    fromRemote({ op: 'subscribe', id: 'x', start: [{ stream_id: 'alice-s', track_id: 'alice-a' }] }),
  );
  t.same(rr.take(), []);
  t.equal(rr.peer.sends.length, 1);
});

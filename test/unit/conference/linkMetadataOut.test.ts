/**
 * Link metadata out (protocol.md §8.2) from local publishers, as a table: layer sizes written only while they
 * grow, rids made valid and unique, at most 4 layers, streams without metadata left out, a stream id kept by its
 * first publisher, the snapshot capped at `maxTracks` — and every result accepted by the link parser.
 */
import t from 'tap';
import { linkMetadataOut, SINGLE_LAYER_RID } from '../../../src/conference/linkMetadataOut.js';
import type { LocalPublisher } from '../../../src/conference/router.js';
import { TrunkSsrcs } from '../../../src/conference/trunkSsrcs.js';
import { parseLinkFrame } from '../../../src/protocol/dc/linkParse.js';
import { serializeLinkFrame } from '../../../src/protocol/dc/linkSerialize.js';
import type { LayerTable } from '../../../src/simulcast/layerTable.js';
import type { StreamMetadata } from '../../../src/protocol/dc/types.js';
import type { TapTest } from '../../../harness/sfu.js';
import { FakeSource } from './fakes.js';

type Row = [rid: string | undefined, w: number, h: number];

function source(kind: 'audio' | 'video', rows: Row[] = [[undefined, 0, 0]]): FakeSource {
  const s = new FakeSource('m', kind);
  const layers: LayerTable['layers'] = rows.map(([rid, w, h], id) => ({
    id,
    rank: id,
    rid,
    ssrc: undefined,
    restricted: undefined,
    measured: undefined,
    declared: undefined,
    size: w > 0 ? { width: w, height: h } : undefined,
    active: true,
  }));
  s.table = { ids: layers.map((l) => l.id), layers };
  return s;
}

function publisher(
  name: string,
  tracks: [stream: string, track: string, src: FakeSource][],
  withMetadata = true,
): LocalPublisher {
  const streams = [...new Set(tracks.map(([s]) => s))];
  return {
    userId: `@${name}:a.example`,
    deviceId: `${name.toUpperCase()}DEV`,
    metadata: withMetadata
      ? Object.fromEntries(streams.map((s) => [s, { purpose: 'm.screenshare' as const, video_muted: true }]))
      : {},
    publications: tracks.map(([streamId, trackId, src]) => ({
      key: JSON.stringify([streamId, trackId]),
      streamId,
      trackId,
      kind: src.kind,
      mid: '0',
      sending: true,
      owner: name,
      origin: { kind: 'session' as const },
      source: src,
    })),
  };
}

function parses(t: TapTest, metadata: StreamMetadata): void {
  const frame = serializeLinkFrame({ kind: 'metadata', metadata });
  t.ok(parseLinkFrame(frame, { maxBytes: 1 << 20, maxListEntries: 200 }).ok, 'the link parser accepts it');
}

t.test('layers: sizes only while they grow, rids valid and unique, at most 4', async (t) => {
  const v = source('video', [
    ['q', 320, 180],
    [undefined, 0, 0],
    ['h', 640, 360],
    ['bad rid!', 160, 90],
    ['q', 1280, 720],
    ['x', 1920, 1080],
  ]);
  const out = linkMetadataOut([publisher('alice', [['s', 'v', v]])], new TrunkSsrcs(), 200);
  const layers = out.metadata['s']?.tracks?.['v']?.layers ?? [];
  t.same(
    layers.map((l) => [l.rid, l.width ?? null, l.height ?? null]),
    [
      ['q', 320, 180],
      ['l1', null, null],
      ['h', 640, 360],
      ['l3', null, null],
    ],
  );
  t.same(out.metadata['s'], {
    user_id: '@alice:a.example',
    device_id: 'ALICEDEV',
    purpose: 'm.screenshare',
    audio_muted: false,
    video_muted: true,
    tracks: { v: { kind: 'video', width: 640, height: 360, layers } },
  });
  t.same(
    out.plans.get(JSON.stringify(['s', 'v']))?.layers?.map((l) => [l.layerId, l.rid]),
    [
      [0, 'q'],
      [1, 'l1'],
      [2, 'h'],
      [3, 'l3'],
    ],
  );
  parses(t, out.metadata);
});

t.test('a single-layer video track gets the fixed rid; audio one ssrc', async (t) => {
  const out = linkMetadataOut(
    [
      publisher('bob', [
        ['s', 'a', source('audio')],
        ['s', 'v', source('video')],
      ]),
    ],
    new TrunkSsrcs(),
    200,
  );
  t.match(out.metadata['s']?.tracks, { a: { kind: 'audio', ssrc: Number }, v: { kind: 'video' } });
  t.same(
    out.metadata['s']?.tracks?.['v']?.layers?.map((l) => l.rid),
    [SINGLE_LAYER_RID],
  );
  t.equal(out.metadata['s']?.tracks?.['a']?.layers, undefined);
  parses(t, out.metadata);
});

t.test(
  'streams without metadata are left out; a stream id stays with its first publisher; the cap',
  async (t) => {
    const out = linkMetadataOut(
      [
        publisher('carol', [['hidden', 'a', source('audio')]], false),
        publisher('dave', [['shared', 'a', source('audio')]]),
        publisher('erin', [
          ['shared', 'b', source('audio')],
          ['erin-s', 'a', source('audio')],
        ]),
      ],
      new TrunkSsrcs(),
      200,
    );
    t.same(Object.keys(out.metadata), ['shared', 'erin-s']);
    t.same(Object.keys(out.metadata['shared']?.tracks ?? {}), ['a'], 'erin cannot add to dave’s stream');
    t.equal(out.metadata['shared']?.user_id, '@dave:a.example');
    const capped = linkMetadataOut(
      [
        publisher('f', [
          ['s', 'a', source('audio')],
          ['s', 'b', source('audio')],
          ['s', 'c', source('audio')],
        ]),
      ],
      new TrunkSsrcs(),
      2,
    );
    t.same(Object.keys(capped.metadata['s']?.tracks ?? {}), ['a', 'b']);
    t.equal(capped.dropped, 1);
  },
);

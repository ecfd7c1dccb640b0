// The client's link reading and writing (client/dc/linkRead.ts, linkWrite.ts; protocol.md §8.1–§8.5), written from
// the spec alone, checked against the project's golden link fixtures (test/fixtures/protocol/dc/link: every valid
// frame reads as its wire content, every invalid one is refused), the spec's own examples, and table rows.
import { readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { readLinkFrame } from '../../../client/dc/linkRead.js';
import type { LinkMetadata } from '../../../client/dc/linkTypes.js';
import {
  layersFrame,
  linkAckFrame,
  linkAliveFrame,
  linkErrorFrame,
  linkMetadataFrame,
  linkSubscribeFrame,
  linkUnsubscribeFrame,
} from '../../../client/dc/linkWrite.js';
import { readFocusFrame } from '../../../client/dc/read.js';

const ROOT = new URL('../../fixtures/protocol/dc/link/', import.meta.url);
/** The fixtures' list limit. */
const OPTS = { maxTracks: 8 };

function load(dir: string): [string, Record<string, unknown>][] {
  const url = new URL(`${dir}/`, ROOT);
  return readdirSync(url)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(new URL(f, url), 'utf8')) as Record<string, unknown>]);
}

const text = (frame: unknown): string => (typeof frame === 'string' ? frame : JSON.stringify(frame));

/** A wire frame as this client's message: `op` becomes `kind`, the rest is the wire shape. */
function asMessage(frame: unknown): Record<string, unknown> {
  const { op, ...rest } = frame as Record<string, unknown>;
  return { kind: op, ...rest };
}

t.test('every valid link fixture reads as its wire content', async (t) => {
  const valid = load('valid');
  t.ok(valid.length >= 15, `${valid.length} fixtures`);
  for (const [file, fx] of valid) {
    t.strictSame(
      readLinkFrame(text(fx['frame']), OPTS),
      { ok: true, message: asMessage(fx['serialized'] ?? fx['frame']) },
      file,
    );
  }
});

t.test('every invalid link fixture is refused', async (t) => {
  const invalid = load('invalid');
  t.ok(invalid.length >= 40, `${invalid.length} fixtures`);
  for (const [file, fx] of invalid) {
    const r = readLinkFrame(text(fx['frame']), OPTS);
    t.match(r, { ok: false, violation: /./ }, `${file}: ${r.ok ? 'read' : r.violation}`);
  }
});

/** §8.2's example. */
const SPEC_METADATA: LinkMetadata = {
  'bob-s': {
    user_id: '@bob:b.example',
    device_id: 'BOBDEV',
    purpose: 'm.usermedia',
    audio_muted: false,
    video_muted: false,
    tracks: {
      'bob-a': { kind: 'audio', ssrc: 4101 },
      'bob-v': {
        kind: 'video',
        width: 1280,
        height: 720,
        layers: [
          { rid: 'q', ssrc: 4111, width: 320, height: 180 },
          { rid: 'h', ssrc: 4112, width: 640, height: 360 },
          { rid: 'f', ssrc: 4113, width: 1280, height: 720 },
        ],
      },
    },
  },
};

t.test('writers produce the spec examples', async (t) => {
  const spec82 = `{"op": "metadata", "metadata": {"bob-s": {"user_id": "@bob:b.example", "device_id": "BOBDEV",
  "purpose": "m.usermedia", "audio_muted": false, "video_muted": false,
  "tracks": {"bob-a": {"kind": "audio", "ssrc": 4101},
             "bob-v": {"kind": "video", "width": 1280, "height": 720, "layers": [
               {"rid": "q", "ssrc": 4111, "width": 320, "height": 180},
               {"rid": "h", "ssrc": 4112, "width": 640, "height": 360},
               {"rid": "f", "ssrc": 4113, "width": 1280, "height": 720}]}}}}}`;
  t.equal(linkMetadataFrame(SPEC_METADATA), JSON.stringify(JSON.parse(spec82)), '§8.2 metadata');
  const spec85 = `{"op": "layers", "tracks": [{"stream_id": "bob-s", "track_id": "bob-v", "sending": ["q"]}]}`;
  t.equal(
    layersFrame([{ stream_id: 'bob-s', track_id: 'bob-v', sending: ['q'] }]),
    JSON.stringify(JSON.parse(spec85)),
    '§8.5 layers',
  );
});

t.test('every writer reads back as the message it wrote', async (t) => {
  const want = [
    { stream_id: 'bob-s', track_id: 'bob-v', layers: ['q', 'f'] },
    { stream_id: 'bob-s', track_id: 'bob-a' },
  ];
  const rows: [name: string, frame: string, message: Record<string, unknown>][] = [
    [
      'metadata',
      linkMetadataFrame(SPEC_METADATA, 'm1'),
      { kind: 'metadata', id: 'm1', metadata: SPEC_METADATA },
    ],
    ['subscribe', linkSubscribeFrame(want, 's1'), { kind: 'subscribe', id: 's1', start: want }],
    [
      'unsubscribe drops layers',
      linkUnsubscribeFrame(want),
      {
        kind: 'unsubscribe',
        stop: [
          { stream_id: 'bob-s', track_id: 'bob-v' },
          { stream_id: 'bob-s', track_id: 'bob-a' },
        ],
      },
    ],
    [
      'layers, all paused',
      layersFrame([{ stream_id: 'bob-s', track_id: 'bob-v', sending: [] }], 'y'),
      { kind: 'layers', id: 'y', tracks: [{ stream_id: 'bob-s', track_id: 'bob-v', sending: [] }] },
    ],
    ['alive', linkAliveFrame(), { kind: 'alive' }],
    ['ack', linkAckFrame('s1'), { kind: 'ack', id: 's1' }],
    [
      'error (§8.8)',
      linkErrorFrame('M_INVALID_PARAM', 'taken', 'm1', [{ stream_id: 'bob-s', track_id: 'bob-a' }]),
      {
        kind: 'error',
        id: 'm1',
        errcode: 'M_INVALID_PARAM',
        error: 'taken',
        failed: [{ stream_id: 'bob-s', track_id: 'bob-a' }],
      },
    ],
  ];
  for (const [name, frame, message] of rows) {
    t.strictSame(readLinkFrame(frame), { ok: true, message }, name);
  }
});

t.test('violations the fixtures do not show', async (t) => {
  const md = (track: unknown): string =>
    linkMetadataFrame({
      s: { user_id: '@u:x', device_id: 'D', tracks: { t: track } },
    } as unknown as LinkMetadata);
  const rows: [name: string, frame: string, ok: boolean][] = [
    ['null where a value is optional', md({ kind: 'audio', ssrc: 1, width: null }), false],
    ['ssrc 2^32 - 1', md({ kind: 'audio', ssrc: 2 ** 32 - 1 }), true],
    ['ssrc 2^32', md({ kind: 'audio', ssrc: 2 ** 32 }), false],
    ['ssrc as a string', md({ kind: 'audio', ssrc: '1' }), false],
    ['dialect B', '{"type":"m.call.pong","content":{}}', false],
    ['an id of 64 astral characters', JSON.stringify({ op: 'alive', id: '😀'.repeat(64) }), true],
    ['an id of 65 astral characters', JSON.stringify({ op: 'alive', id: '😀'.repeat(65) }), false],
    [
      'a subscribe entry with 4 rids',
      linkSubscribeFrame([{ stream_id: 's', track_id: 't', layers: ['a', 'b', 'c', 'd'] }]),
      true,
    ],
    [
      '200 entries (default limit)',
      linkSubscribeFrame(Array.from({ length: 200 }, (_, i) => ({ stream_id: 's', track_id: `t${i}` }))),
      true,
    ],
    [
      '201 entries',
      linkSubscribeFrame(Array.from({ length: 201 }, (_, i) => ({ stream_id: 's', track_id: `t${i}` }))),
      false,
    ],
  ];
  for (const [name, frame, ok] of rows) {
    const r = readLinkFrame(frame);
    t.equal(r.ok, ok, `${name}: ${r.ok ? 'read' : r.violation}`);
  }
});

t.test('a focus never sends link messages to a client: the session reader refuses them', async (t) => {
  t.match(readFocusFrame(layersFrame([{ stream_id: 's', track_id: 't', sending: ['q'] }])), {
    ok: false,
    violation: /not one the focus sends/,
  });
});

// §6 stream metadata: the per-stream merge (whole-value table) and the standalone validator.
import t from 'tap';
import { mergeMetadata, parseStreamMetadata } from '../../../../src/protocol/dc/metadata.js';
import type { StreamMetadata } from '../../../../src/protocol/dc/types.js';

const ALICE = { user_id: '@alice:example.org', device_id: 'ALICEDEV' };
const OWNED = { user_id: '@alice:example.org', device_id: 'ALICEDEV' } as const;

/** Alice's camera stream as §5.2's metadata example sends it (no user/device). */
const CAM: StreamMetadata = {
  'alice-s': {
    purpose: 'm.usermedia',
    audio_muted: true,
    video_muted: false,
    tracks: { 'alice-a': { kind: 'audio' }, 'alice-v': { kind: 'video', width: 1280, height: 720 } },
  },
};

const SCREEN: StreamMetadata = {
  'alice-scr': {
    purpose: 'm.screenshare',
    audio_muted: false,
    video_muted: false,
    tracks: { 'alice-sv': { kind: 'video', width: 1920, height: 1080 } },
  },
};

/** Unvalidated input, as the to-device path hands it over. */
function raw(v: unknown): StreamMetadata {
  return v as StreamMetadata;
}

const table: [name: string, current: StreamMetadata, incoming: StreamMetadata, expected: StreamMetadata][] = [
  ['both empty', {}, {}, {}],
  ['first metadata: owner added', {}, CAM, { 'alice-s': { ...OWNED, ...CAM['alice-s'] } }],
  [
    'claimed user_id/device_id are overwritten',
    {},
    { 'alice-s': { user_id: '@mallory:example.org', device_id: 'EVIL', purpose: 'm.usermedia' } },
    { 'alice-s': { ...OWNED, purpose: 'm.usermedia' } },
  ],
  [
    'a new stream is added, the others are kept',
    CAM,
    SCREEN,
    { 'alice-s': { ...OWNED, ...CAM['alice-s'] }, 'alice-scr': { ...OWNED, ...SCREEN['alice-scr'] } },
  ],
  [
    'incoming {} changes nothing (streams are merged, never removed)',
    { ...CAM, ...SCREEN },
    {},
    { 'alice-s': { ...OWNED, ...CAM['alice-s'] }, 'alice-scr': { ...OWNED, ...SCREEN['alice-scr'] } },
  ],
  [
    'mute: only the sent field changes, tracks are kept',
    CAM,
    { 'alice-s': { audio_muted: false } },
    {
      'alice-s': {
        ...OWNED,
        purpose: 'm.usermedia',
        audio_muted: false,
        video_muted: false,
        tracks: { 'alice-a': { kind: 'audio' }, 'alice-v': { kind: 'video', width: 1280, height: 720 } },
      },
    },
  ],
  [
    'resolution change: per-track fields merge, other tracks stay',
    CAM,
    { 'alice-s': { tracks: { 'alice-v': { width: 640, height: 360 } } } },
    {
      'alice-s': {
        ...OWNED,
        purpose: 'm.usermedia',
        audio_muted: true,
        video_muted: false,
        tracks: { 'alice-a': { kind: 'audio' }, 'alice-v': { kind: 'video', width: 640, height: 360 } },
      },
    },
  ],
  [
    'a new track joins an existing stream',
    CAM,
    { 'alice-s': { tracks: { 'alice-v2': { kind: 'video' } } } },
    {
      'alice-s': {
        ...OWNED,
        ...CAM['alice-s'],
        tracks: {
          'alice-a': { kind: 'audio' },
          'alice-v': { kind: 'video', width: 1280, height: 720 },
          'alice-v2': { kind: 'video' },
        },
      },
    },
  ],
  [
    'a track without kind stays without (the m-line supplies it later)',
    {},
    { s: { tracks: { t: {} } } },
    { s: { ...OWNED, tracks: { t: {} } } },
  ],
  [
    'unknown keys are dropped, at every level',
    {},
    raw({
      s: { purpose: 'm.usermedia', label: 'cam', tracks: { t: { kind: 'video', rid: 'h', width: 320 } } },
    }),
    { s: { ...OWNED, purpose: 'm.usermedia', tracks: { t: { kind: 'video', width: 320 } } } },
  ],
  [
    'invalid values in unvalidated input are dropped, valid ones kept',
    {},
    raw({
      s: {
        purpose: 'm.camera',
        audio_muted: 'yes',
        video_muted: true,
        tracks: {
          a: { kind: 'data', width: -1, height: 16385 },
          v: { kind: 'video', width: 1.5, height: 720 },
          x: 'not a track',
        },
      },
      notAStream: 5,
      alsoNot: null,
      list: [],
    }),
    { s: { ...OWNED, video_muted: true, tracks: { a: {}, v: { kind: 'video', height: 720 } } } },
  ],
  [
    'tracks that is not an object is dropped; current tracks kept',
    CAM,
    raw({ 'alice-s': { tracks: [{ kind: 'audio' }] } }),
    { 'alice-s': { ...OWNED, ...CAM['alice-s'] } },
  ],
  [
    'current with a stale owner and junk is cleaned too',
    raw({ s: { user_id: '@old:example.org', device_id: 'OLD', purpose: 'm.screenshare', foo: 1 } }),
    {},
    { s: { ...OWNED, purpose: 'm.screenshare' } },
  ],
  [
    'the 0 size (unconstrained) and the 16384 maximum are kept',
    {},
    { s: { tracks: { t: { width: 0, height: 16384 } } } },
    { s: { ...OWNED, tracks: { t: { width: 0, height: 16384 } } } },
  ],
  ['inputs that are not objects count as {}', raw(null), raw([CAM]), {}],
];

t.test('mergeMetadata', async (t) => {
  for (const [name, current, incoming, expected] of table) {
    const before = structuredClone({ current, incoming });
    t.strictSame(mergeMetadata(current, incoming, ALICE), expected, name);
    t.strictSame({ current, incoming }, before, `${name}: inputs untouched`);
  }
});

t.test('mergeMetadata returns a fresh value sharing nothing with its inputs', async (t) => {
  const current = structuredClone(CAM);
  const incoming = structuredClone(SCREEN);
  const out = mergeMetadata(current, incoming, ALICE);
  const outCam = out['alice-s'];
  const outScreen = out['alice-scr'];
  if (outCam?.tracks === undefined || outScreen?.tracks === undefined) {
    t.fail('both streams present');
    return;
  }
  t.not(outCam, current['alice-s']);
  t.not(outCam.tracks, current['alice-s']?.tracks);
  t.not(outCam.tracks['alice-v'], current['alice-s']?.tracks?.['alice-v']);
  t.not(outScreen.tracks, incoming['alice-scr']?.tracks);
  (outCam.tracks['alice-v'] ??= {}).width = 1;
  t.equal(current['alice-s']?.tracks?.['alice-v']?.width, 1280, 'mutating the result leaves the input alone');
});

t.test('mergeMetadata keeps `__proto__` stream and track ids as own data', async (t) => {
  const incoming = raw(
    JSON.parse('{"__proto__": {"purpose": "m.usermedia", "tracks": {"__proto__": {"kind": "audio"}}}}'),
  );
  const out = mergeMetadata({}, incoming, ALICE);
  t.ok(Object.hasOwn(out, '__proto__'));
  t.equal(Object.getPrototypeOf(out), Object.prototype);
  t.equal(
    JSON.stringify(out),
    '{"__proto__":{"user_id":"@alice:example.org","device_id":"ALICEDEV","purpose":"m.usermedia","tracks":{"__proto__":{"kind":"audio"}}}}',
  );
});

t.test('parseStreamMetadata', async (t) => {
  const rows: [name: string, input: unknown, expected: unknown][] = [
    [
      '§6 example',
      { 'bob-s': { ...OWNED, ...CAM['alice-s'] } },
      { ok: true, metadata: { 'bob-s': { ...OWNED, ...CAM['alice-s'] } } },
    ],
    [
      'unknown keys dropped',
      { s: { x: 1, tracks: { t: { y: 2 } } } },
      { ok: true, metadata: { s: { tracks: { t: {} } } } },
    ],
    ['not an object', [], { ok: false, errcode: 'M_BAD_JSON' }],
    ['bad purpose', { s: { purpose: 'x' } }, { ok: false, errcode: 'M_BAD_JSON' }],
    [
      'size out of range',
      { s: { tracks: { t: { width: 20000 } } } },
      { ok: false, errcode: 'M_INVALID_PARAM' },
    ],
    [
      'mistyped before out of range',
      { s: { tracks: { a: { width: -1 }, b: { kind: 1 } } } },
      { ok: false, errcode: 'M_BAD_JSON' },
    ],
  ];
  for (const [name, input, expected] of rows) {
    const r = parseStreamMetadata(input);
    t.strictSame(r.ok ? r : { ok: r.ok, errcode: r.errcode }, expected, name);
  }
  const r = parseStreamMetadata({ s: 1 }, 'org.matrix.msc3077.sdp_stream_metadata');
  t.match(
    r,
    { ok: false, error: /^org\.matrix\.msc3077\.sdp_stream_metadata\["s"\] must be an object/ },
    'error names the path',
  );
});

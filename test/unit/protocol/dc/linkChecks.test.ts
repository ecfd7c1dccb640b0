// §8.8 collisions and §8.2 SSRC stability: pure checks of link metadata against state the parser cannot see.
import t from 'tap';
import {
  collisionError,
  relayedCollisions,
  unstableTrunkSsrcs,
} from '../../../../src/protocol/dc/linkChecks.js';
import { parseLinkFrame } from '../../../../src/protocol/dc/linkParse.js';
import { serializeLinkFrame } from '../../../../src/protocol/dc/linkSerialize.js';
import type { LayerInfo, StreamMetadata } from '../../../../src/protocol/dc/types.js';

const BOB = { user_id: '@bob:b.example', device_id: 'BOBDEV' };

function layers(...l: [rid: string, ssrc: number][]): LayerInfo[] {
  return l.map(([rid, ssrc]) => ({ rid, ssrc }));
}

/** §8.2's example: bob-a on 4101, bob-v q/h/f on 4111–4113. */
const SPEC: StreamMetadata = {
  'bob-s': {
    ...BOB,
    tracks: {
      'bob-a': { kind: 'audio', ssrc: 4101 },
      'bob-v': { kind: 'video', layers: layers(['q', 4111], ['h', 4112], ['f', 4113]) },
    },
  },
};

t.test('relayedCollisions (§8.8)', async (t) => {
  const taken = (pairs: string[]) => (s: string, tr: string) => pairs.includes(`${s}/${tr}`);
  const rows: [name: string, relayed: StreamMetadata, taken: string[], expected: unknown][] = [
    ['nothing published locally', SPEC, [], []],
    ['another stream of the same name is no collision', SPEC, ['bob-s/bob-x', 'carol-s/bob-a'], []],
    ['one track taken', SPEC, ['bob-s/bob-v'], [{ stream_id: 'bob-s', track_id: 'bob-v' }]],
    [
      'both taken, in metadata order',
      SPEC,
      ['bob-s/bob-v', 'bob-s/bob-a'],
      [
        { stream_id: 'bob-s', track_id: 'bob-a' },
        { stream_id: 'bob-s', track_id: 'bob-v' },
      ],
    ],
    ['a stream without tracks', { 'bob-s': { ...BOB } }, ['bob-s/bob-a'], []],
    ['empty metadata', {}, ['bob-s/bob-a'], []],
  ];
  for (const [name, relayed, pairs, expected] of rows) {
    t.strictSame(relayedCollisions(relayed, taken(pairs)), expected, name);
  }
});

t.test('collisionError is the §8.8 reply and a valid link frame', async (t) => {
  const failed = [{ stream_id: 'bob-s', track_id: 'bob-a' }];
  const e = collisionError(failed, 'm7');
  t.match(e, { kind: 'error', id: 'm7', errcode: 'M_INVALID_PARAM', failed });
  t.not((e as { failed: unknown }).failed, failed, 'a copy of the list');
  if (e.kind !== 'error') {
    return;
  }
  t.match(e.error, /"bob-s"\/"bob-a"/, 'names the track');
  t.strictSame(parseLinkFrame(serializeLinkFrame(e), { maxBytes: 65536, maxListEntries: 200 }), {
    ok: true,
    dialect: 'A',
    message: e,
  });
  t.notOk('id' in collisionError(failed), 'no id when the metadata had none');
  const many = Array.from({ length: 5 }, (_, i) => ({ stream_id: 's', track_id: `t${i}` }));
  const m = collisionError(many);
  t.match(m, { error: /and 2 more$/, failed: many }, 'long lists are cut in the text, not in failed');
});

t.test('unstableTrunkSsrcs (§8.2: stable for the link life)', async (t) => {
  const with_ = (tracks: NonNullable<StreamMetadata[string]['tracks']>): StreamMetadata => ({
    'bob-s': { ...BOB, tracks },
  });
  const rows: [name: string, before: StreamMetadata, after: StreamMetadata, problems: number][] = [
    ['same snapshot', SPEC, SPEC, 0],
    ['first snapshot', {}, SPEC, 0],
    ['a track removed', SPEC, with_({ 'bob-a': { kind: 'audio', ssrc: 4101 } }), 0],
    [
      'a layer added with a new SSRC',
      with_({ 'bob-v': { kind: 'video', layers: layers(['q', 1]) } }),
      with_({ 'bob-v': { kind: 'video', layers: layers(['q', 1], ['f', 2]) } }),
      0,
    ],
    [
      'a layer changed its SSRC',
      SPEC,
      with_({
        'bob-a': { kind: 'audio', ssrc: 4101 },
        'bob-v': { kind: 'video', layers: layers(['q', 4111], ['h', 4112], ['f', 5000]) },
      }),
      1,
    ],
    ['an audio track changed its SSRC', SPEC, with_({ 'bob-a': { kind: 'audio', ssrc: 1 } }), 1],
    [
      'two layers swapped SSRCs: both moved, both changed',
      with_({ 'bob-v': { kind: 'video', layers: layers(['q', 1], ['f', 2]) } }),
      with_({ 'bob-v': { kind: 'video', layers: layers(['q', 2], ['f', 1]) } }),
      4,
    ],
    [
      'an SSRC of a removed track reused by a new one',
      with_({ 'bob-a': { kind: 'audio', ssrc: 9 } }),
      with_({ 'bob-a2': { kind: 'audio', ssrc: 9 } }),
      1,
    ],
  ];
  for (const [name, before, after, n] of rows) {
    const problems = unstableTrunkSsrcs(before, after);
    t.equal(problems.length, n, `${name}: ${JSON.stringify(problems)}`);
  }
  t.strictSame(
    unstableTrunkSsrcs(SPEC, with_({ 'bob-a': { kind: 'audio', ssrc: 1 } })),
    ['"bob-s"/"bob-a" changed ssrc from 4101 to 1'],
    'the text names the track and both SSRCs',
  );
});

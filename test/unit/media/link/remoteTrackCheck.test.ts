/** The checks of a link's announced relayed tracks (media/link/remoteTrackCheck.ts), as a table. */
import t from 'tap';
import { checkRemoteTracks, MAX_TRUNK_LAYERS } from '../../../../src/media/link/remoteTrackCheck.js';
import type { RemoteTrunkTrack } from '../../../../src/media/link/types.js';

const audio = (trackId: string, ssrc: number): RemoteTrunkTrack => ({
  streamId: 's',
  trackId,
  kind: 'audio',
  ssrc,
});
const video = (
  trackId: string,
  layers: { rid: string; ssrc: number; width?: number }[],
): RemoteTrunkTrack => ({
  streamId: 's',
  trackId,
  kind: 'video',
  layers,
});

const rows: { name: string; list: RemoteTrunkTrack[]; ok: string[] }[] = [
  {
    name: 'audio + video',
    list: [
      audio('a', 1),
      video('v', [
        { rid: 'q', ssrc: 2 },
        { rid: 'f', ssrc: 3 },
      ]),
    ],
    ok: ['a', 'v'],
  },
  { name: 'SSRC 0 and 2^32-1 are valid', list: [audio('a', 0), audio('b', 0xffff_ffff)], ok: ['a', 'b'] },
  { name: 'SSRC 2^32 is not', list: [audio('a', 2 ** 32)], ok: [] },
  { name: 'a fractional SSRC is not', list: [audio('a', 1.5)], ok: [] },
  { name: 'audio without SSRC', list: [{ streamId: 's', trackId: 'a', kind: 'audio' }], ok: [] },
  { name: 'video without layers', list: [video('v', [])], ok: [] },
  {
    name: 'too many layers',
    list: [
      video(
        'v',
        Array.from({ length: MAX_TRUNK_LAYERS + 1 }, (_, i) => ({ rid: `r${i}`, ssrc: 10 + i })),
      ),
    ],
    ok: [],
  },
  {
    name: 'a rid twice',
    list: [
      video('v', [
        { rid: 'q', ssrc: 2 },
        { rid: 'q', ssrc: 3 },
      ]),
    ],
    ok: [],
  },
  { name: 'an empty rid', list: [video('v', [{ rid: '', ssrc: 2 }])], ok: [] },
  { name: 'a negative size', list: [video('v', [{ rid: 'q', ssrc: 2, width: -1 }])], ok: [] },
  {
    name: 'an SSRC twice in one track',
    list: [
      video('v', [
        { rid: 'q', ssrc: 2 },
        { rid: 'f', ssrc: 2 },
      ]),
    ],
    ok: [],
  },
  {
    name: 'an SSRC taken by an earlier track: the later one is refused',
    list: [audio('a', 7), video('v', [{ rid: 'q', ssrc: 7 }])],
    ok: ['a'],
  },
  { name: 'a track twice: the first is kept', list: [audio('a', 1), audio('a', 2)], ok: ['a'] },
  { name: 'an empty stream id', list: [{ streamId: '', trackId: 'a', kind: 'audio', ssrc: 1 }], ok: [] },
  {
    name: 'an unknown kind',
    list: [{ streamId: 's', trackId: 'a', kind: 'data' as 'audio', ssrc: 1 }],
    ok: [],
  },
];

t.test('announced relayed tracks', async (t) => {
  for (const r of rows) {
    const { ok, problems } = checkRemoteTracks(r.list);
    t.same(
      ok.map((x) => x.trackId),
      r.ok,
      r.name,
    );
    t.equal(problems.length, r.list.length - r.ok.length, `${r.name}: one problem per refused track`);
  }
});

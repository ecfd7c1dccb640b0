/**
 * Layer activity by announcement (media/trackLayers.ts `announced`, used for relayed tracks, protocol.md §8.3):
 * a layer is selectable iff announced in the sending set — before any RTP, and after RTP stops for longer than
 * the 2 s stall rule; a client track (`rtp` mode) keeps the stall rule.
 */
import { pino } from 'pino';
import t from 'tap';
import { MediaCounters } from '../../../../src/media/mediaMetrics.js';
import { PublishedTrack } from '../../../../src/media/publishedTrack.js';
import { SIZE_WAIT_MS, TrackLayers } from '../../../../src/media/trackLayers.js';
import { RtpPacketView } from '../../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../../src/rtp/rtpHeader.js';
import { FakeClock } from '../../../helpers/fakeClock.js';

const active = (l: TrackLayers) => l.all.map((x) => [x.rid, x.active]);

t.test('announced: selectable by the sending set, not by RTP flow', async (t) => {
  const l = new TrackLayers('announced');
  l.updateRids(['q', 'h', 'f'], new Map(), 0);
  t.same(
    active(l),
    [
      ['q', false],
      ['h', false],
      ['f', false],
    ],
    'nothing before the first announcement',
  );
  t.equal(l.setAvailable(new Set(['q', 'h', 'f'])), true, 'changed');
  t.same(
    active(l),
    [
      ['q', true],
      ['h', true],
      ['f', true],
    ],
    'every announced layer, without RTP',
  );
  t.equal(l.tick(SIZE_WAIT_MS), true, 'the wait for layer sizes ends: a change (no size known)');
  t.equal(l.tick(10_000), false, 'no stall rule');
  t.same(active(l), [
    ['q', true],
    ['h', true],
    ['f', true],
  ]);
  t.equal(l.setAvailable(new Set(['q'])), true);
  t.same(
    active(l),
    [
      ['q', true],
      ['h', false],
      ['f', false],
    ],
    'paused layers are not selectable',
  );
  t.equal(l.setAvailable(new Set(['q'])), false, 'same set: no change');
});

t.test('rtp mode ignores announcements and keeps the stall rule', async (t) => {
  const l = new TrackLayers();
  l.updateRids(['q'], new Map(), 0);
  t.equal(l.setAvailable(new Set(['q'])), false);
  t.same(active(l), [['q', false]]);
});

t.test('a relayed PublishedTrack: packets do not make a paused layer selectable', async (t) => {
  const clock = new FakeClock();
  const track = new PublishedTrack({
    kind: 'video',
    mid: 'link:s/v',
    rids: ['q', 'f'],
    restrictions: new Map(),
    clock,
    counters: new MediaCounters(),
    log: pino({ level: 'silent' }),
    pliMinIntervalMs: 500,
    codecs: () => [{ payloadType: 96, mimeType: 'video/VP8', clockRate: 90000 }],
    extensions: () => [],
    requestKeyframe: () => undefined,
    layerActivity: 'announced',
    nack: 'always',
  });
  track.setAvailableRids(['q']);
  const head = writeRtpHeader({
    ssrc: 9,
    sequenceNumber: 1,
    timestamp: 1,
    payloadType: 96,
    marker: true,
    extensions: [],
  });
  const v = new RtpPacketView();
  v.reset(Buffer.concat([head, Buffer.from([0x10, 0x02, 0x00, 0x9d])]));
  track.handle(v, 'f');
  t.same(
    track.selectable().layers.map((x) => [x.rid, x.active]),
    [
      ['q', true],
      ['f', false],
    ],
  );
  // Loss tracking is on whatever the codec negotiated (`nack: 'always'`): a gap is NACKed.
  const head2 = writeRtpHeader({
    ssrc: 9,
    sequenceNumber: 3,
    timestamp: 1,
    payloadType: 96,
    marker: true,
    extensions: [],
  });
  v.reset(Buffer.concat([head2, Buffer.from([0x10, 0x02, 0x00, 0x9d])]));
  track.handle(v, 'f');
  clock.advance(50);
  const nacks: [number, number[]][] = [];
  track.flushNacks(clock.now(), (ssrc, seqs) => nacks.push([ssrc, seqs]));
  t.same(nacks, [[9, [2]]], 'the missing packet is NACKed on its SSRC');
  track.resyncLoss(9);
  clock.advance(100);
  const after: unknown[] = [];
  track.flushNacks(clock.now(), (ssrc, seqs) => after.push([ssrc, seqs]));
  t.same(after, [], 'a resync forgets the gap');
});

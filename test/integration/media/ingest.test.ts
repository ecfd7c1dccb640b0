/**
 * media/ingest with a real werift pair on loopback: the sender writes SRTP on extra SSRCs that its SDP never
 * signalled. On the receiving side, the production receive path (PeerMedia → receive wiring → werift's
 * decrypted RTP → ingest demux → PublishedTrack) routes the SSRCs announced to a track (as trunk SSRCs of
 * protocol.md §8.2 will be) to that track's layers, and counts the unannounced one `unknown_stream`.
 */
import { pino } from 'pino';
import t from 'tap';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import { PeerMedia } from '../../../src/media/peerMedia.js';
import type { SourcePacket, TrackSink } from '../../../src/media/track.js';
import { sendSrtp } from '../../../src/media/srtpSend.js';
import { signalledSsrcs } from '../../../src/protocol/sdpSsrc.js';
import { WireRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { FakeClock } from '../../helpers/fakeClock.js';
import { connectedWeriftPair } from '../../../harness/peers/weriftPair.js';
import { waitFor } from '../../../harness/stack.js';
import { PublisherRemb } from '../../../src/media/publisherRemb.js';

const TRUNK_Q = 0x7e57_0001;
const TRUNK_H = 0x7e57_0002;
const STRAY = 0x7e57_00ff;

t.test('an SSRC announced but never signalled in SDP is routed to its track', async (t) => {
  const pair = await connectedWeriftPair();
  t.teardown(pair.close);
  const counters = new MediaCounters();
  const media = new PeerMedia(pair.b, {
    clock: new FakeClock(),
    counters,
    log: pino({ level: 'silent' }),
    pliMinIntervalMs: 500,
    publisherRemb: new PublisherRemb(1_000_000, false),
    skipUnwatched: true,
  });
  t.teardown(() => {
    media.close();
  });
  const rx = pair.b.getTransceivers()[0]!;
  const mid = rx.mid!;
  media.sync([
    { mid, kind: 'video', streamId: 's', trackId: 't', sending: true, rids: ['q', 'h'], ridSizes: {} },
  ]);
  const track = media.published(mid)!;
  const got: { layer: number; seq: number; keyframe: boolean; first: number | undefined }[] = [];
  const sink: TrackSink = {
    onPacket: (p: SourcePacket) => {
      got.push({ layer: p.layer, seq: p.fwd.seq, keyframe: p.fwd.keyframe, first: p.payload[4] });
    },
    onLayersChanged: () => undefined,
    onTrackClosed: () => undefined,
  };
  track.addSink(sink);
  t.equal(media.announce(TRUNK_Q, mid, 'q'), true);
  t.equal(media.announce(TRUNK_H, mid, 'h'), true);
  t.equal(media.announce(TRUNK_H, 'no-such-mid', 'h'), false, 'no track, no route');
  const signalled = [...signalledSsrcs(pair.b.remoteDescription!.sdp).values()].flat();
  t.notOk(
    [TRUNK_Q, TRUNK_H, STRAY].some((s) => signalled.includes(s)),
    'none of the extra SSRCs is in the SDP',
  );

  const pt = pair.sender.codecs[0]!.payloadType;
  const dtls = pair.sender.sender.dtlsTransport;
  // VP8: descriptor S=1 PID=0, then a keyframe header (P=0) of 320×180; the 5th byte marks the layer.
  const payload = (mark: number) =>
    Buffer.from([0x10, 0x10, 0x02, 0x00, mark, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00, 1, 2, 3]);
  const send = (ssrc: number, seq: number, mark: number) =>
    sendSrtp(
      dtls,
      payload(mark),
      new WireRtpHeader({
        ssrc,
        payloadType: pt,
        sequenceNumber: seq,
        timestamp: seq * 3000,
        marker: true,
        extensions: [],
      }),
    );
  const results = [];
  for (let seq = 65534; seq < 65538; seq++) {
    results.push(send(TRUNK_Q, seq & 0xffff, 0x9d), send(TRUNK_H, (seq + 100) & 0xffff, 0x77));
    results.push(send(STRAY, seq & 0xffff, 0x55));
  }
  t.same(new Set(results), new Set(['direct']), 'sent as SRTP on the pair');
  await waitFor(() => got.length >= 8 && counters.dropped.unknown_stream >= 4, 10_000, 'routed packets');
  t.ok(
    got.every((g) => g.keyframe),
    'classified once by the VP8 handler: every packet starts a keyframe',
  );
  t.same(
    got.filter((g) => g.first === 0x9d).map((g) => [g.layer, g.seq]),
    [
      [0, 65534],
      [0, 65535],
      [0, 0],
      [0, 1],
    ],
    'the q trunk SSRC: layer q, every packet, across the sequence wrap',
  );
  t.same(
    got.filter((g) => g.first === 0x77).map((g) => [g.layer, g.seq]),
    [
      [1, 98],
      [1, 99],
      [1, 100],
      [1, 101],
    ],
    'the h trunk SSRC: layer h',
  );
  t.equal(got.filter((g) => g.first === 0x55).length, 0, 'the unannounced SSRC reached no track');
  t.equal(counters.dropped.unknown_stream, 4, 'and was counted unknown_stream');
  t.same(track.ssrcs().sort(), [TRUNK_Q, TRUNK_H].sort(), 'the layers are bound to the trunk SSRCs');
  t.equal(counters.packets.in_video, 8, 'counted as received video');
});

/**
 * A link's relayed tracks announced before the link is negotiated (the ingest does not exist yet) are routed
 * once it is: trunk RTP reaches them. With `keepLowestLayer` (`cascade.keep_lowest_layer`) a relayed video
 * track's demand always includes its lowest layer.
 */
import t from 'tap';
import type { TrackSink } from '../../../src/media/track.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { waitFor } from '../../../harness/stack.js';
import { connectLink, linkSide, sourceTrack } from '../../helpers/linkPair.js';

t.test('tracks announced before negotiation; keep_lowest_layer', async (t) => {
  const a = linkSide();
  const b = linkSide(500, true);
  t.teardown(async () => {
    await a.peer.close();
    await b.peer.close();
  });
  b.peer.setRemoteTracks([
    {
      streamId: 's',
      trackId: 'v',
      kind: 'video',
      layers: [
        { rid: 'q', ssrc: 0x7201, width: 320, height: 180 },
        { rid: 'f', ssrc: 0x7203, width: 1280, height: 720 },
      ],
    },
  ]);
  const relayed = b.peer.relayedSource('s', 'v')!;
  const ids = Object.fromEntries(relayed.selectable().layers.map((l) => [l.rid, l.id]));
  const seqs: number[] = [];
  const sink: TrackSink = {
    onPacket: (p) => seqs.push(p.view.seq),
    onLayersChanged: () => undefined,
    onTrackClosed: () => undefined,
    usedLayers: () => ({ current: ids.f, target: ids.f }),
  };
  relayed.addSink(sink);
  t.same(b.peer.demand(0), [{ streamId: 's', trackId: 'v', rids: ['q', 'f'] }], 'f used, q kept');

  await connectLink(a, b);
  const source = sourceTrack({ kind: 'video', mid: '1', rids: ['q', 'f'] });
  const send = a.peer.sendTrack(source, 's', 'v', {
    layers: [
      { layerId: 0, rid: 'q', ssrc: 0x7201 },
      { layerId: 1, rid: 'f', ssrc: 0x7203 },
    ],
  });
  send.setLayers(['f']);
  const v = new RtpPacketView();
  for (let seq = 1; seq <= 10; seq++) {
    const head = writeRtpHeader({
      ssrc: 0x99,
      sequenceNumber: seq,
      timestamp: seq * 3000,
      payloadType: 96,
      marker: true,
      extensions: [],
    });
    v.reset(Buffer.concat([head, Buffer.from([0x10, 0x02, 0x00, 0x9d, seq])]));
    source.handle(v, 'f');
    await new Promise((r) => setTimeout(r, 5));
  }
  await waitFor(() => seqs.length >= 10, 10_000, 'f at B');
  t.same(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'routed once the link was negotiated');
  t.equal(b.counters.dropped.unknown_stream, 0);
  send.close();
});

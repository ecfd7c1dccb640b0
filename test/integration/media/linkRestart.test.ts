/**
 * An ICE restart on a link (protocol.md §8.7) with real werift peers on loopback: the initiator's
 * `restartIce()` offer, the invitee's answer and fresh candidates handed over directly; the data channel and
 * the trunk keep working afterwards with the same relayed source (no new tracks, no new SSRCs).
 */
import t from 'tap';
import type { TrackSink } from '../../../src/media/track.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { waitFor } from '../../../harness/stack.js';
import { linkPair, OPUS_CODEC, sourceTrack } from '../../helpers/linkPair.js';

function opus(seq: number): RtpPacketView {
  const head = writeRtpHeader({
    ssrc: 0x55,
    sequenceNumber: seq,
    timestamp: seq * 960,
    payloadType: OPUS_CODEC.payloadType,
    marker: false,
    extensions: [],
  });
  const v = new RtpPacketView();
  v.reset(Buffer.concat([head, Buffer.from([0xfc, seq & 0xff])]));
  return v;
}

t.test('restartIce: new ICE credentials, same link, media and data channel continue', async (t) => {
  const { a, b, close } = await linkPair();
  t.teardown(close);
  const audio = sourceTrack({ kind: 'audio', mid: '0' });
  const send = a.peer.sendTrack(audio, 's', 'a', { audioSsrc: 0x7100 });
  b.peer.setRemoteTracks([{ streamId: 's', trackId: 'a', kind: 'audio', ssrc: 0x7100 }]);
  const relayed = b.peer.relayedSource('s', 'a')!;
  const seqs: number[] = [];
  const sink: TrackSink = {
    onPacket: (p) => seqs.push(p.view.seq),
    onLayersChanged: () => undefined,
    onTrackClosed: () => undefined,
  };
  relayed.addSink(sink);
  for (let s = 1; s <= 5; s++) {
    audio.handle(opus(s), undefined);
  }
  await waitFor(() => seqs.length >= 5, 10_000, 'audio before the restart');

  const ufrag = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
  const ice = () => a.peer.media.transport!.iceTransport.connection;
  const ufragBefore = ice().localUsername;
  const offer = await a.peer.restartIce();
  const answer = await b.peer.answer(offer);
  await a.peer.acceptAnswer(answer);
  for (const c of a.peer.localCandidates()) {
    await b.peer.addRemoteCandidate(c);
  }
  for (const c of b.peer.localCandidates()) {
    await a.peer.addRemoteCandidate(c);
  }
  t.ok(ufrag(offer), 'the restart offer carries ICE credentials');
  await waitFor(
    () => a.peer.state === 'connected' && b.peer.state === 'connected',
    20_000,
    'connected after the restart',
  );
  await waitFor(() => ice().nominated !== undefined, 20_000, 'a pair of the new ICE generation nominated');
  t.not(ice().localUsername, ufragBefore, 'new local ICE credentials');
  for (let s = 6; s <= 30; s++) {
    audio.handle(opus(s), undefined);
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor(() => seqs.includes(30), 20_000, 'audio after the restart');
  t.equal(b.peer.relayedSource('s', 'a'), relayed, 'the same relayed source');
  t.ok(a.peer.send('after'), 'the data channel still sends');
  await waitFor(() => b.messages.includes('after'), 10_000, 'the frame after the restart');
  send.close();
});

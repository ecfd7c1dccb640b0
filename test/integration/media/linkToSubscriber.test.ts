/**
 * The whole media path of a cascade in one process, with real werift peers: a publisher's track on focus A
 * (a PublishedTrack fed by hand) → the trunk of a link A–B (LinkPeers) → B's relayed source → a DownTrack
 * toward a werift subscriber of B. The subscriber starts on q (320×180), switches to f (1280×720) at f's
 * keyframe, and sees one continuous stream (sequence numbers +1 across the switch) — layer choice,
 * keyframe-gated switching and munging of relayed tracks are those of client tracks.
 */
import t from 'tap';
import type { RtpPacket } from 'werift';
import { DownTrack } from '../../../src/media/downTrack.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { connectedWeriftPair } from '../../../harness/peers/weriftPair.js';
import { waitFor } from '../../../harness/stack.js';
import { linkPair, sourceTrack } from '../../helpers/linkPair.js';

const RIDS = ['q', 'h', 'f'];
const PUB = [0x2001, 0x2002, 0x2003];
const TRUNK = [0x7301, 0x7302, 0x7303];
const SIZES = [
  [320, 180],
  [640, 360],
  [1280, 720],
] as const;

t.test('publisher on A → trunk → relayed source on B → subscriber on B: q, then f, continuous', async (t) => {
  const { a, b, close } = await linkPair();
  t.teardown(close);
  const got: RtpPacket[] = [];
  const client = await connectedWeriftPair({
    onRtp: (p) => {
      got.push(p);
    },
  });
  t.teardown(client.close);

  const requests: number[] = [];
  const source = sourceTrack({
    kind: 'video',
    mid: '1',
    rids: RIDS,
    pliMinIntervalMs: 0,
    requestKeyframe: (ssrc) => requests.push(ssrc),
  });
  const send = a.peer.sendTrack(source, 's', 'v', {
    layers: RIDS.map((rid, layerId) => ({ layerId, rid, ssrc: TRUNK[layerId]! })),
  });
  b.peer.setRemoteTracks([
    {
      streamId: 's',
      trackId: 'v',
      kind: 'video',
      layers: RIDS.map((rid, i) => ({ rid, ssrc: TRUNK[i]!, width: SIZES[i]![0], height: SIZES[i]![1] })),
    },
  ]);
  const relayed = b.peer.relayedSource('s', 'v')!;
  const dt = new DownTrack({
    track: relayed,
    transceiver: client.sender,
    counters: b.counters,
    pliMinIntervalMs: 500,
    now: Date.now(),
    width: 320,
    height: 180,
  });
  t.teardown(() => {
    dt.close();
  });
  const ridOf = (id: number | undefined) => relayed.selectable().layers.find((l) => l.id === id)?.rid;
  t.equal(ridOf(dt.stats().targetLayer), 'q', 'the subscriber targets q');
  // What B would demand now (R sends it on the link); A applies it.
  send.setLayers(b.peer.demand(Date.now())[0]!.rids);
  t.same(send.sending, ['q'], 'the demand is q alone');

  const v = new RtpPacketView();
  let seq = 1000;
  /** One frame per layer (a keyframe when `key`), each packet marked with its layer in the last byte. */
  const frame = (key: boolean) => {
    seq++;
    RIDS.forEach((rid, layer) => {
      const desc = [0x90, 0x80, 0x80 | ((seq >> 8) & 0x7f), seq & 0xff];
      const body = key ? [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00] : [0x11, 0x02, 0x00];
      const head = writeRtpHeader({
        ssrc: PUB[layer]!,
        sequenceNumber: seq & 0xffff,
        timestamp: (seq * 3000) >>> 0,
        payloadType: 96,
        marker: true,
        extensions: [],
      });
      v.reset(Buffer.concat([head, Buffer.from(desc), Buffer.from(body), Buffer.from([layer])]));
      source.handle(v, rid);
    });
  };
  for (let i = 0; i < 20; i++) {
    frame(i % 10 === 0);
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor(() => got.length >= 15, 10_000, 'q at the subscriber');
  t.ok(
    got.every((p) => p.payload.at(-1) === 0),
    'the subscriber gets q only',
  );

  dt.setRequested(1280, 720, Date.now());
  t.equal(ridOf(dt.stats().targetLayer), 'f', 'the subscriber now targets f');
  send.setLayers(b.peer.demand(Date.now())[0]!.rids);
  t.same(send.sending, ['q', 'f'], 'the demand is q (current) and f (pending switch)');
  t.ok(requests.includes(PUB[2]!), 'the trunk asked the publisher for an f keyframe');
  const n = got.length;
  for (let i = 0; i < 30; i++) {
    frame(i % 10 === 5);
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor(() => got.slice(n).some((p) => p.payload.at(-1) === 2), 10_000, 'f at the subscriber');
  await waitFor(() => ridOf(dt.stats().currentLayer) === 'f', 5_000, 'switched to f');
  const layers = got.map((p) => p.payload.at(-1));
  const firstF = layers.indexOf(2);
  t.ok(
    layers.slice(0, firstF).every((l) => l === 0) && layers.slice(firstF).every((l) => l === 2),
    'q until the switch, f after it',
  );
  const seqs = got.map((p) => p.header.sequenceNumber);
  t.ok(
    seqs.every((s, i) => i === 0 || s === ((seqs[i - 1]! + 1) & 0xffff)),
    'the subscriber sequence numbers are continuous across the switch',
  );
  send.close();
});

/**
 * The media side of a link satisfies the conference's ports (src/conference/linkPorts.ts) structurally:
 * media/ may not import conference/, so this compile-time check is what pins LinkPeer to LinkPeerPort and
 * MediaLayer to LinkMediaPort (a shape change on either side fails `tsc`). At run time: a MediaLayer's link
 * peer is tracked for shutdown like a client peer and closes with it.
 */
import { pino } from 'pino';
import t from 'tap';
import type { LinkMediaPort, LinkPeerPort, TrunkSendPort } from '../../../../src/conference/linkPorts.js';
import type { LinkPeer } from '../../../../src/media/link/linkPeer.js';
import type { TrunkSend } from '../../../../src/media/link/trunkSender.js';
import { MediaLayer } from '../../../../src/media/mediaLayer.js';
import { systemClock } from '../../../../src/util/clock.js';
import { testConfig } from '../../../../harness/sfu.js';

type Assignable<A, B> = A extends B ? true : false;
const peerFits: Assignable<LinkPeer, LinkPeerPort> = true;
const sendFits: Assignable<TrunkSend, TrunkSendPort> = true;
const layerFits: Assignable<MediaLayer, LinkMediaPort> = true;

t.test('LinkPeer, TrunkSend and MediaLayer fit the conference ports', async (t) => {
  t.same([peerFits, sendFits, layerFits], [true, true, true]);
});

t.test('a link peer is tracked by the media layer and closed at shutdown', async (t) => {
  const layer = new MediaLayer(testConfig({ media: { bind_address: '127.0.0.1' } }).media, {
    clock: systemClock,
    log: pino({ level: 'silent' }),
  });
  const port: LinkMediaPort = layer;
  const peer = port.createLinkPeer({ maxLinkBps: 1_000_000 });
  t.equal(layer.openResources, 1, 'tracked');
  t.equal(peer.stats().budgetBps, 1_000_000, 'the cap is the budget before congestion control');
  const sdp = await peer.offer();
  t.match(sdp, /m=audio .*\r\n[\s\S]*m=video /, 'one audio and one video carrier');
  t.notMatch(sdp, /sdes:mid|rtp-stream-id/, 'no MID or RID header extension on a link');
  t.match(sdp, /abs-send-time/, 'abs-send-time');
  t.match(sdp, /ssrc-audio-level/, 'audio level');
  t.match(sdp, /m=application /, 'the data channel');
  t.match(sdp, /a=group:BUNDLE/, 'bundled');
  let closed = false;
  peer.on('state', (s) => {
    closed ||= s === 'closed';
  });
  await layer.close();
  t.equal(layer.openResources, 0, 'untracked at shutdown');
  t.ok(closed, 'the link peer was closed');
  t.equal(layer.openResources, 0);
});

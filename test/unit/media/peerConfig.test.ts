import t from 'tap';
import { peerConfig } from '../../../src/media/peerConfig.js';
import { testConfig } from '../../../harness/sfu.js';

t.test('no STUN server, the configured port range, BUNDLE only when offered', async (t) => {
  const media = testConfig().media;
  const bundled = peerConfig(media, true);
  t.same(bundled.iceServers, []);
  t.same(bundled.icePortRange, [40000, 49999]);
  t.equal(bundled.bundlePolicy, 'max-bundle');
  t.equal(peerConfig(media, false).bundlePolicy, 'disable');
});

t.test('a specific bind address is the only host address gathered', async (t) => {
  const c = peerConfig(testConfig({ media: { bind_address: '127.0.0.1' } }).media, true);
  t.same(c.iceAdditionalHostAddresses, ['127.0.0.1']);
  t.equal(c.iceUseIpv4, false, 'interface gathering off');
  t.equal(c.iceUseIpv6, false);
  const v6 = peerConfig(testConfig({ media: { bind_address: '::1' } }).media, true);
  t.same(v6.iceInterfaceAddresses, { udp6: '::1' });
  const any = peerConfig(testConfig({ media: { bind_address: '0.0.0.0' } }).media, true);
  t.equal(any.iceAdditionalHostAddresses, undefined, 'wildcard: every interface');
});

t.test('fresh codec and extension objects per connection (werift mutates them)', async (t) => {
  const media = testConfig().media;
  const a = peerConfig(media, true);
  const b = peerConfig(media, true);
  t.not(a.codecs?.video?.[0], b.codecs?.video?.[0]);
  t.same(
    a.headerExtensions?.video?.map((e) => e.uri),
    [
      'urn:ietf:params:rtp-hdrext:sdes:mid',
      'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
      'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    ],
    'no transport-cc, no repaired rid (werift-notes pitfalls 4 and 6)',
  );
  t.ok(a.headerExtensions?.audio?.some((e) => e.uri === 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'));
});

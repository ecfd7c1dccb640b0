/**
 * werift's ICE agent falls back to stun.l.google.com when no STUN server is configured; with our patch a
 * connection configured with `iceServers: []` gathers without any STUN server, and one configured with a STUN
 * server (here a UDP socket of ours on loopback) still asks it.
 */
import { createSocket } from 'node:dgram';
import t from 'tap';
import { RTCPeerConnection, useVP8 } from 'werift';
import '../../../src/media/noDefaultStun.js';
import { stunServerOf } from '../../../src/media/noDefaultStun.js';

type WithTransports = { iceTransports: { iceGather: Parameters<typeof stunServerOf>[0] }[] };

async function gathered(pc: RTCPeerConnection): Promise<string> {
  pc.addTransceiver('video', { direction: 'sendonly' });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const end = Date.now() + 10_000;
  while (pc.iceGatheringState !== 'complete' && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return pc.localDescription?.sdp ?? '';
}

const loopback = {
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceInterfaceAddresses: { udp4: '127.0.0.1' },
  iceUseIpv4: false,
  iceUseIpv6: false,
  codecs: { video: [useVP8()] },
};

t.test('no STUN server configured: none used', async (t) => {
  const pc = new RTCPeerConnection({ iceServers: [], ...loopback });
  t.teardown(() => pc.close());
  const sdp = await gathered(pc);
  const g = (pc as unknown as WithTransports).iceTransports[0]!.iceGather;
  t.equal(stunServerOf(g), undefined, 'the default public STUN server is cleared');
  t.notMatch(sdp, /typ srflx/, 'no server-reflexive candidate');
  t.match(sdp, /127\.0\.0\.1 \d+ typ host/, 'host candidates still gathered');
});

t.test('a configured STUN server is still asked', async (t) => {
  const server = createSocket('udp4');
  await new Promise<void>((r) => {
    server.bind(0, '127.0.0.1', () => {
      r();
    });
  });
  t.teardown(() => server.close());
  let requests = 0;
  server.on('message', (m) => {
    if (m.length >= 20 && m.readUInt16BE(0) === 0x0001) {
      requests++; // a STUN Binding Request (no answer: gathering just times out on it)
    }
  });
  const pc = new RTCPeerConnection({
    iceServers: [{ urls: `stun:127.0.0.1:${server.address().port}` }],
    ...loopback,
  });
  t.teardown(() => pc.close());
  pc.addTransceiver('video', { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const end = Date.now() + 10_000;
  while (requests === 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(requests > 0, 'the configured STUN server got a binding request');
});

/**
 * `media.udp_receive_buffer_bytes`: after gathering, every ICE socket of a werift peer has the receive buffer
 * asked for (Linux reports twice the size set) — or, when the kernel's `net.core.rmem_max` is lower, what it
 * allows, reported once; 0 leaves the system default. Real werift peers on loopback.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:dgram';
import t, { type Test } from 'tap';
import { RTCPeerConnection, useVP8 } from 'werift';
import { setUdpReceiveBuffer } from '../../../src/media/udpReceiveBuffer.js';

type WithSockets = {
  iceTransports: { connection: { protocols: { transport: { socket: Socket } }[] } }[];
};

const loopback = {
  iceServers: [],
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceInterfaceAddresses: { udp4: '127.0.0.1' },
  iceUseIpv4: false,
  iceUseIpv6: false,
  codecs: { video: [useVP8()] },
};

async function gatheredSockets(t: Test): Promise<Socket[]> {
  const pc = new RTCPeerConnection(loopback);
  t.teardown(() => pc.close());
  pc.addTransceiver('video', { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const end = Date.now() + 10_000;
  while (pc.iceGatheringState !== 'complete' && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return (pc as unknown as WithSockets).iceTransports.flatMap((x) =>
    x.connection.protocols.map((p) => p.transport.socket),
  );
}

const readInt = (path: string): number | undefined => {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
};
const rmemMax = readInt('/proc/sys/net/core/rmem_max');
const rmemDefault = readInt('/proc/sys/net/core/rmem_default');
const linux = process.platform === 'linux';

t.test('the size asked for, on every ICE socket', { skip: linux ? false : 'Linux sizes' }, async (t) => {
  const asked = Math.min(1 << 20, rmemMax ?? 1 << 20);
  const capped: number[] = [];
  setUdpReceiveBuffer({ bytes: asked, capped: (_a, g) => capped.push(g) });
  t.teardown(() => {
    setUdpReceiveBuffer({ bytes: 0 });
  });
  const sockets = await gatheredSockets(t);
  t.ok(sockets.length > 0, `${String(sockets.length)} socket(s)`);
  for (const s of sockets) {
    t.equal(s.getRecvBufferSize(), 2 * asked, 'Linux reports twice the size set');
  }
  t.same(capped, [], 'not capped');
});

t.test(
  'over rmem_max: what the kernel allows, reported once',
  { skip: linux ? false : 'Linux sizes' },
  async (t) => {
    const max = rmemMax ?? 0;
    t.ok(max > 0, `rmem_max read: ${String(max)}`);
    const asked = max * 4;
    const capped: { asked: number; granted: number }[] = [];
    setUdpReceiveBuffer({ bytes: asked, capped: (a, g) => capped.push({ asked: a, granted: g }) });
    t.teardown(() => {
      setUdpReceiveBuffer({ bytes: 0 });
    });
    const sockets = [...(await gatheredSockets(t)), ...(await gatheredSockets(t))];
    for (const s of sockets) {
      t.equal(s.getRecvBufferSize(), 2 * max, 'capped at rmem_max (reported doubled)');
    }
    t.same(capped, [{ asked, granted: 2 * max }], 'reported once for two peers');
  },
);

t.test('0 leaves the system default', { skip: linux ? false : 'Linux sizes' }, async (t) => {
  setUdpReceiveBuffer({ bytes: 0 });
  const sockets = await gatheredSockets(t);
  t.ok(sockets.length > 0);
  for (const s of sockets) {
    t.equal(s.getRecvBufferSize(), rmemDefault, 'the default, untouched (as read, not doubled)');
  }
});

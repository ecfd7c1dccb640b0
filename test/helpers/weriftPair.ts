/**
 * Two real werift peer connections on loopback, connected: `a` offers one send-only video track, `b` answers
 * (each after its ICE gathering completes, at most 10 s). Waits at most 15 s for both to be 'connected' and
 * returns either way (the test asserts the state); both are closed at the test's teardown. Used by the tests
 * that need werift's own ICE, DTLS and SRTP under the fast path (udpFastPath, consentChecksWerift).
 */
import { MediaStreamTrack, RTCPeerConnection, useVP8 } from 'werift';

export const loopbackPeerConfig = {
  iceServers: [],
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceInterfaceAddresses: { udp4: '127.0.0.1' },
  iceUseIpv4: true,
  iceUseIpv6: false,
  codecs: { video: [useVP8()] },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `what` every 20 ms for at most `ms`; its last value. */
export async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!what() && Date.now() < end) {
    await sleep(20);
  }
  return what();
}

export interface WeriftPair {
  a: RTCPeerConnection;
  b: RTCPeerConnection;
  /** a's send-only video track. */
  track: MediaStreamTrack;
}

export async function connectedWeriftPair(t: {
  teardown(fn: () => Promise<void>): void;
}): Promise<WeriftPair> {
  const a = new RTCPeerConnection(loopbackPeerConfig);
  const b = new RTCPeerConnection(loopbackPeerConfig);
  t.teardown(async () => {
    await Promise.allSettled([a.close(), b.close()]);
  });
  const track = new MediaStreamTrack({ kind: 'video' });
  a.addTransceiver(track, { direction: 'sendonly' });
  await a.setLocalDescription(await a.createOffer());
  await until(() => a.iceGatheringState === 'complete', 10_000);
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await until(() => b.iceGatheringState === 'complete', 10_000);
  await a.setRemoteDescription(b.localDescription!);
  await until(() => a.connectionState === 'connected' && b.connectionState === 'connected', 15_000);
  return { a, b, track };
}

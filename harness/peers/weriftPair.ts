/**
 * Two bare werift RTCPeerConnections connected to each other over 127.0.0.1 (no signalling server): `a` has
 * one sendonly video transceiver, `b` receives. For tests and micro-benchmarks of the send path itself.
 */
import { MediaStreamTrack, RTCPeerConnection, useVP8, type RTCRtpTransceiver, type RtpPacket } from 'werift';
import '../../src/media/noDefaultStun.js';
import { weriftIce } from './common.js';

export interface WeriftPair {
  a: RTCPeerConnection;
  b: RTCPeerConnection;
  /** `a`'s sendonly video transceiver. */
  sender: RTCRtpTransceiver;
  close: () => Promise<void>;
}

/**
 * Offer/answer and trickled candidates between the two; resolves once both are connected. `onRtp` gets every
 * RTP packet `b` receives (subscribed before negotiating, so none is missed).
 */
export async function connectedWeriftPair(
  o: { onRtp?: (rtp: RtpPacket) => void; timeoutMs?: number } = {},
): Promise<WeriftPair> {
  const timeoutMs = o.timeoutMs ?? 20_000;
  const pc = () => new RTCPeerConnection({ ...weriftIce(), codecs: { video: [useVP8()] } });
  const a = pc();
  const b = pc();
  const close = async () => {
    await a.close();
    await b.close();
  };
  const onRtp = o.onRtp;
  if (onRtp !== undefined) {
    b.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe(onRtp);
    });
  }
  a.onIceCandidate.subscribe((c) => void (c ? b.addIceCandidate(c) : undefined));
  b.onIceCandidate.subscribe((c) => void (c ? a.addIceCandidate(c) : undefined));
  const sender = a.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  const end = Date.now() + timeoutMs;
  while (a.connectionState !== 'connected' || b.connectionState !== 'connected') {
    if (Date.now() > end) {
      await close();
      throw new Error(`werift pair: not connected after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { a, b, sender, close };
}

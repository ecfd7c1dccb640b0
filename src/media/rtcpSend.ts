/**
 * Sends RTCP the SFU serialised itself (rtp/rtcpFeedback.ts, rtp/rtcpNack.ts) on a werift DTLS transport:
 * werift's `sendRtcp` concatenates what each packet's `serialize()` returns, then SRTCP-encrypts it. A failure
 * (the transport is closing) is ignored.
 */
import type { RTCDtlsTransport } from 'werift';

type RtcpTransport = Pick<RTCDtlsTransport, 'sendRtcp'>;

export function sendRtcpBytes(dtls: RtcpTransport, bytes: Uint8Array): void {
  const packet = { serialize: () => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  void dtls.sendRtcp([packet as never]).catch(() => {
    // the transport is closing
  });
}

/**
 * Sends RTCP the SFU serialised itself (rtp/rtcpFeedback.ts, rtp/rtcpNack.ts) on a werift DTLS transport: the
 * way forwarded RTP leaves where it can (srtpSend.ts `sendSrtcp`: the own SRTCP cipher, the turn's batched
 * send), else through werift's `sendRtcp` — which concatenates what each packet's `serialize()` returns,
 * SRTCP-encrypts it and sends it down four nested async functions and node:dgram's address lookup (at 20
 * subscribers ≈ 80 SRs a second took that way). A failure (the transport is closing) is ignored.
 */
import { Buffer } from 'node:buffer';
import type { RTCDtlsTransport } from 'werift';
import { sendSrtcp } from './srtpSend.js';

type RtcpTransport = Pick<RTCDtlsTransport, 'sendRtcp'>;

export function sendRtcpBytes(dtls: RtcpTransport, bytes: Uint8Array): void {
  if (sendSrtcp(dtls as RTCDtlsTransport, bytes) === 'direct') {
    return;
  }
  const packet = { serialize: () => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  void dtls.sendRtcp([packet as never]).catch(() => {
    // the transport is closing
  });
}

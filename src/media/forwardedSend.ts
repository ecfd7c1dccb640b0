/**
 * Sending parts of a forwarded stream that DownTrack shares with its probe padding: the subscriber transport's
 * transport-wide sequence number, and padding-only packets (built in the shared scratch slot, sentPackets.ts;
 * never kept for retransmission).
 */
import type { RTCDtlsTransport } from 'werift';
import { PADDING_BYTES } from '../forwarding/probePolicy.js';
import { FORWARDED_HEADER_MAX, writeForwardedHeader, type ForwardedFields } from '../rtp/forwardedHeader.js';
import type { ExtensionPlan } from '../rtp/headerExtensions.js';
import type { MediaCounters } from './mediaMetrics.js';
import { scratchPacket } from './sentPackets.js';
import { sendSrtpPacket } from './srtpSend.js';

/** The transport-wide sequence number of the next packet sent on `dtls`, when transport-cc is negotiated (else -1). */
export function nextTransportSeq(plan: ExtensionPlan, dtls: { transportSequenceNumber: number }): number {
  if (plan.transportCcId === undefined) {
    return -1;
  }
  dtls.transportSequenceNumber = (dtls.transportSequenceNumber + 1) & 0xffff;
  return dtls.transportSequenceNumber;
}

/**
 * Sends `n` padding-only packets with sequence numbers `firstSeq…` and timestamp `ts`, the fixed-header fields
 * otherwise from `f` (whose sequence number, marker, padding, level and transport-cc fields this overwrites).
 */
export function sendPaddingPackets(
  dtls: RTCDtlsTransport,
  plan: ExtensionPlan,
  f: ForwardedFields,
  firstSeq: number,
  ts: number,
  n: number,
  counters: MediaCounters,
): void {
  f.timestamp = ts;
  f.marker = false;
  f.padding = true;
  f.audioLevel = undefined;
  for (let i = 0; i < n; i++) {
    const p = scratchPacket(FORWARDED_HEADER_MAX + PADDING_BYTES);
    f.sequenceNumber = (firstSeq + i) & 0xffff;
    f.transportSeq = nextTransportSeq(plan, dtls);
    const h = writeForwardedHeader(p.buf, p.off, plan, f);
    p.buf.fill(0, p.off + h, p.off + h + PADDING_BYTES - 1);
    p.buf[p.off + h + PADDING_BYTES - 1] = PADDING_BYTES;
    p.headerLength = h;
    p.length = h + PADDING_BYTES;
    counters.sent(sendSrtpPacket(dtls, p));
  }
}

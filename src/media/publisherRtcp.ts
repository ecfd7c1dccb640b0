/**
 * The SFU's periodic RTCP to a client as a publisher, once a second per DTLS transport (one with BUNDLE): one
 * compound packet holding a receiver report — a block per layer SSRC that sent RTP since it was bound (RFC 3550
 * §6.4.1: loss, extended highest sequence number, jitter, LSR/DLSR; layerReception.ts) — followed, when the
 * client publishes video, by a REMB naming every video layer SSRC (browsers use it, with the reports' loss and
 * round trip, for their send-side estimate): what its layers are wanted for, or `media.publisher_remb_bps`
 * (publisherRemb.ts). The reports used to be werift's
 * (its receivers' own timers and statistics); the SFU writes them now that werift's RTP receive handling is
 * skipped (decryptedRtpTap.ts). A transport with nothing to report sends nothing.
 */
import type { RTCRtpTransceiver } from 'werift';
import { rembPacket } from '../rtp/rtcpFeedback.js';
import type { ReceptionReport } from '../rtp/receptionStats.js';
import { receiverReportPackets } from '../rtp/receiverReport.js';
import type { PublishedTrack } from './publishedTrack.js';
import type { PublisherRemb } from './publisherRemb.js';
import { sendRtcpBytes } from './rtcpSend.js';

type Dtls = RTCRtpTransceiver['receiver']['dtlsTransport'];

/** A published track and the m-line it arrives on. */
export interface PublishedEntry {
  readonly track: PublishedTrack;
  readonly transceiver: RTCRtpTransceiver;
}

/** One transport's compound: the sender SSRC (its first receiving m-line's), the blocks, the REMB's SSRCs. */
interface Pending {
  readonly sender: number;
  readonly blocks: ReceptionReport[];
  readonly videoSsrcs: number[];
  readonly video: PublishedTrack[];
  audio: boolean;
}

/** The RR (+ REMB) compound of one transport's published tracks; undefined when there is nothing to say. */
export function publisherRtcp(
  sender: number,
  blocks: readonly ReceptionReport[],
  videoSsrcs: readonly number[],
  rembBps: number,
): Uint8Array | undefined {
  if (blocks.length === 0 && videoSsrcs.length === 0) {
    return undefined;
  }
  const rr = receiverReportPackets(sender, blocks);
  if (videoSsrcs.length === 0) {
    return rr;
  }
  const remb = rembPacket(sender, rembBps, videoSsrcs);
  const out = new Uint8Array(rr.length + remb.length);
  out.set(rr, 0);
  out.set(remb, rr.length);
  return out;
}

/** Sends each connected transport its compound (`publisherRtcp`), closing the tracks' report intervals. */
export function sendPublisherRtcp(
  published: Iterable<PublishedEntry>,
  now: number,
  remb: PublisherRemb,
): void {
  const byTransport = new Map<Dtls, Pending>();
  for (const { track, transceiver } of published) {
    const dtls = transceiver.receiver.dtlsTransport;
    if (dtls.state !== 'connected') {
      continue;
    }
    let p = byTransport.get(dtls);
    if (p === undefined) {
      p = { sender: transceiver.receiver.rtcpSsrc, blocks: [], videoSsrcs: [], video: [], audio: false };
      byTransport.set(dtls, p);
    }
    track.reportBlocks(now, p.blocks);
    if (track.kind === 'video') {
      p.videoSsrcs.push(...track.ssrcs());
      p.video.push(track);
    } else {
      p.audio = true;
    }
  }
  for (const [dtls, p] of byTransport) {
    const rembBps = p.video.length === 0 ? 0 : remb.bps(dtls, p.video, p.audio, now);
    const bytes = publisherRtcp(p.sender, p.blocks, p.videoSsrcs, rembBps);
    if (bytes !== undefined) {
      sendRtcpBytes(dtls, bytes);
    }
  }
}

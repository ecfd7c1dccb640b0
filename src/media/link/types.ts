/**
 * The shapes of a link's media side (protocol.md §8.2–§8.6). They mirror src/conference/linkPorts.ts
 * structurally (media/ may not import conference/; test/unit/media/link/linkPorts.test.ts pins that LinkPeer
 * satisfies LinkPeerPort and MediaLayer LinkMediaPort), plus the hooks trunk congestion control (§8.5) plugs
 * into. Types only.
 */
import type { RtpPacketView } from '../../rtp/packetView.js';
import type { ReportBlock } from '../../rtp/rtcpFeedback.js';

/** One layer of a relayed video track on the trunk, lowest quality first. */
export interface TrunkLayer {
  readonly rid: string;
  readonly ssrc: number;
  readonly width?: number;
  readonly height?: number;
}

/** A track the remote focus relays to this one (from its link metadata). */
export interface RemoteTrunkTrack {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly ssrc?: number;
  readonly layers?: readonly TrunkLayer[];
}

/** What this focus's subscribers use of one relayed track (§8.3), as rids of its trunk layers. */
export interface RelayedDemand {
  readonly streamId: string;
  readonly trackId: string;
  readonly rids: readonly string[];
}

/** A local track's layer as sent on the trunk. */
export interface TrunkSendLayer {
  readonly layerId: number;
  readonly rid: string;
  readonly ssrc: number;
}

export type LinkState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export type LinkPeerEvents = {
  state: [LinkState];
  dcopen: [];
  dcmessage: [string | Uint8Array];
  /** The sending budget paused or resumed layers of a sent track (§8.5): announce `layers` at once. */
  layers: [{ streamId: string; trackId: string; sending: readonly string[] }];
  listenererror: [string, Error];
};

export interface LinkStats {
  rtpIn: number;
  rtpOut: number;
  bytesIn: number;
  bytesOut: number;
  estimateBps: number | undefined;
  budgetBps: number;
  lastMediaAt: number | undefined;
}

/**
 * Trunk congestion control's view of a link (§8.5; src/media/link/trunkCc*.ts plugs in with
 * `LinkPeer.setCongestionControl`). Every member is optional; none may throw (errors are logged once).
 * - `onRtp`: every RTP packet received on the link (any SSRC, before routing), its view valid during the call
 *   (abs-send-time under `absSendTimeId`, undefined when not negotiated).
 * - `onRemb` / `onReports`: REMB and report blocks (RR, or the blocks of an SR) received on the link.
 * - `estimateBps` / `budgetBps`: what `stats()` reports (defaults: undefined / the link's cap).
 * - `tick`: every media tick (100 ms) with the link's RTCP sender (REMB + RR go out through `sendRtcp`).
 */
export interface LinkCongestionControl {
  onRtp?(view: RtpPacketView, absSendTimeId: number | undefined, now: number): void;
  onRemb?(bitrateBps: number, now: number): void;
  onReports?(reports: readonly ReportBlock[], now: number): void;
  estimateBps?(): number | undefined;
  budgetBps?(): number;
  tick?(now: number, link: LinkRtcpSender): void;
}

/** What congestion control may send on the link. */
export interface LinkRtcpSender {
  /** The SSRC this focus's RTCP on the link is sent from. */
  readonly rtcpSsrc: number;
  /** The trunk SSRCs the remote focus sends now (what a REMB names). */
  remoteSsrcs(): number[];
  /** One RTCP packet (or a compound), SRTCP-protected on the link. False when the link is not connected. */
  sendRtcp(bytes: Uint8Array): boolean;
}

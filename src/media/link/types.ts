/**
 * The shapes of a link's media side (protocol.md §8.2–§8.6). They mirror src/conference/linkPorts.ts
 * structurally (media/ may not import conference/; test/unit/media/link/linkPorts.test.ts pins that LinkPeer
 * satisfies LinkPeerPort and MediaLayer LinkMediaPort), plus the hooks trunk congestion control (§8.5) plugs
 * into. Types only.
 */
import type { RtpPacketView } from '../../rtp/packetView.js';
import type { ReportBlock } from '../../rtp/rtcpFeedback.js';
import type { LayerTable } from '../../simulcast/layerTable.js';
import type { SrtpHeader } from '../srtpSend.js';

/** How a link peer is made (`cascade.*`). */
export interface LinkPeerOptions {
  /** The send budget's cap (`cascade.max_link_bps`). */
  readonly maxLinkBps: number;
  /** Always demand the lowest layer of a relayed video track with subscribers (`cascade.keep_lowest_layer`). */
  readonly keepLowestLayer?: boolean;
}

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

/** One local track sent on the trunk: the rids demanded and the rids sent after the budget (video). */
export interface TrunkSendStatus {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly demanded: readonly string[];
  readonly sending: readonly string[];
}

export type LinkState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export type LinkPeerEvents = {
  state: [LinkState];
  dcopen: [];
  dcmessage: [string | Uint8Array];
  /** The sending budget paused or resumed layers of a sent track (§8.5): announce `layers` at once. */
  layers: [{ streamId: string; trackId: string; sending: readonly string[] }];
  /** The remote focus's RTCP feedback went past its flood bound (media/feedbackBudget.ts); emitted once. */
  flood: [];
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
 *   (abs-send-time under `absSendTimeId`, undefined when not negotiated); true = consumed (probe padding), not
 *   routed.
 * - `onSenderReport`: an SR received on the link, its LSR (for the LSR/DLSR of the receiver reports).
 * - `admit`: asked when the remote focus demands a new layer of a sent track; false keeps it paused.
 * - `onRemb` / `onReports`: REMB and report blocks (RR, or the blocks of an SR) received on the link.
 * - `estimateBps` / `budgetBps`: what `stats()` reports (defaults: undefined / the link's cap).
 * - `tick`: every media tick (100 ms) with the link's RTCP sender (REMB + RR go out through `sendRtcp`).
 */
export interface LinkCongestionControl {
  /** `now`: the packet's arrival time (the kernel's where the add-on read it). */
  onRtp?(view: RtpPacketView, absSendTimeId: number | undefined, now: number): boolean | undefined;
  onSenderReport?(ssrc: number, lsr: number, now: number): void;
  /** Whether a newly demanded layer of a sent track fits the trunk budget now (else it waits for `tick`). */
  admit?(streamId: string, trackId: string, rid: string, source: { selectable(): LayerTable }): boolean;
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
  /** The kind a remote trunk SSRC carries (undefined: not routed). */
  kindOf(ssrc: number): 'audio' | 'video' | undefined;
  /** One RTP packet (probe padding) SRTP-protected on the link. False when the link is not connected. */
  sendRtp(header: SrtpHeader, payload: Buffer): boolean;
  /** The video carrier's first payload type (undefined before negotiation). */
  readonly videoPayloadType: number | undefined;
}

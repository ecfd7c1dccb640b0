/**
 * Trunk congestion control of one link (protocol.md §8.5), as the LinkPeer drives it: one object holding the
 * receive side (trunkCcReceive.ts), the send side (trunkCcSend.ts) and the probe padding (trunkCcPadding.ts),
 * so the link needs four hooks — every received trunk RTP packet (`onRtp`), every RTCP item received on the
 * link (`onRtcp`), its periodic tick (`tick`: RTCP bytes to send, the layers to send per track, the
 * announcements, padding packets due) and `stats`. No timers, no I/O: the link sends what `tick` returns.
 *
 * The demand the send side allocates is built per tick by `trunkDemand` from what the link knows of each sent
 * track: its source's layer table (the publisher's measured bitrate per layer, also while a layer is paused on
 * the trunk), the rids the remote focus demands, and — when the conference says so — purpose, active speaker
 * and remote subscribers per rid (defaults: camera, not speaking, 1 each).
 */
import type { TrunkLayerDemand, TrunkTrackDemand } from '../../forwarding/trunkAllocation.js';
import type { RtpPacketView } from '../../rtp/packetView.js';
import type { RtcpFeedback } from '../../rtp/rtcpFeedback.js';
import type { LayerTable } from '../../simulcast/layerTable.js';
import { isPaddingOnly, TrunkPadding } from './trunkCcPadding.js';
import { TrunkReceiveCc, type TrunkReceiveCcOptions, type TrunkSsrc } from './trunkCcReceive.js';
import { TrunkSendCc, type TrunkSendCcOptions, type TrunkSendDecision } from './trunkCcSend.js';

export interface TrunkCcOptions {
  /** `cascade.max_link_bps`. */
  readonly maxLinkBps: number;
  /** This focus's RTCP sender SSRC on the link (REMB and RR are sent from it). */
  readonly senderSsrc: number;
  /** The SSRC of this focus's probe padding on the link (unique in its direction, never announced). */
  readonly paddingSsrc: number;
  /** The video carrier's payload type (padding goes under it). */
  readonly videoPt: number;
  /** The link's abs-send-time extension id (undefined: not negotiated). */
  readonly absSendTimeId?: number;
  readonly receive?: Partial<Omit<TrunkReceiveCcOptions, 'senderSsrc' | 'absSendTimeId'>>;
  readonly send?: Partial<Omit<TrunkSendCcOptions, 'maxLinkBps'>>;
}

export interface TrunkCcTick {
  /** RTCP to send on the link now (RR + REMB), or undefined. */
  readonly rtcp: Uint8Array | undefined;
  readonly decision: TrunkSendDecision;
  /** Padding packets due now: send `padding.packet(now)` with `padding.payload` this many times. */
  readonly paddingPackets: number;
}

/** What the link knows of one track it sends on the trunk. */
export interface TrunkSentTrack {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  /** The source's layers (video: per-layer bitrates by rid; audio: its one layer's bitrate). */
  readonly layers: LayerTable;
  /** Video: the rids the remote focus demands (`setLayers`). */
  readonly demanded: readonly string[];
  readonly purpose?: 'm.usermedia' | 'm.screenshare' | undefined;
  readonly speaker?: boolean | undefined;
  /** Remote subscribers per demanded rid (absent: 1). */
  readonly subscribers?: ReadonlyMap<string, number> | undefined;
}

/** Audio bitrate assumed before one is measured (Opus at its usual rate, with headers). */
const AUDIO_DEFAULT_BPS = 64_000;

/**
 * The allocation's demand for the sent tracks (lowest layer first, in the source's quality order). Built per
 * tick for every sent track: plain literals of one shape each (an object spread per track was a quarter of a
 * link tick's time, `.scratch`-style micro in bench/README.md "The link tick").
 */
export function trunkDemand(tracks: readonly TrunkSentTrack[]): TrunkTrackDemand[] {
  const out: TrunkTrackDemand[] = [];
  for (const t of tracks) {
    const purpose = t.purpose ?? 'm.usermedia';
    const speaker = t.speaker ?? false;
    if (t.kind === 'audio') {
      let bps = 0;
      for (const l of t.layers.layers) {
        bps += l.bitrateBps ?? 0;
      }
      out.push({
        streamId: t.streamId,
        trackId: t.trackId,
        purpose,
        speaker,
        kind: 'audio',
        bitrateBps: bps > 0 ? bps : AUDIO_DEFAULT_BPS,
      });
      continue;
    }
    const layers: TrunkLayerDemand[] = [];
    for (const l of t.layers.layers) {
      const rid = l.rid;
      if (rid !== undefined && t.demanded.includes(rid)) {
        layers.push({ rid, bitrateBps: l.bitrateBps ?? 0, subscribers: t.subscribers?.get(rid) ?? 1 });
      }
    }
    out.push({ streamId: t.streamId, trackId: t.trackId, purpose, speaker, kind: 'video', layers });
  }
  return out;
}

export class TrunkCc {
  readonly receive: TrunkReceiveCc;
  readonly send: TrunkSendCc;
  readonly padding: TrunkPadding;

  constructor(o: TrunkCcOptions) {
    this.receive = new TrunkReceiveCc({
      ...o.receive,
      senderSsrc: o.senderSsrc,
      ...(o.absSendTimeId !== undefined ? { absSendTimeId: o.absSendTimeId } : {}),
    });
    this.send = new TrunkSendCc({ ...o.send, maxLinkBps: o.maxLinkBps });
    this.padding = new TrunkPadding(o.paddingSsrc, o.videoPt, o.absSendTimeId);
  }

  /** The link's abs-send-time id changed (a renegotiation). */
  setAbsSendTimeId(id: number | undefined): void {
    this.receive.setAbsSendTimeId(id);
    this.padding.setAbsSendTimeId(id);
  }

  /** The remote focus's trunk SSRCs (from its metadata), with clock rates. */
  setRemoteSsrcs(list: readonly TrunkSsrc[]): void {
    this.receive.setSsrcs(list);
  }

  /**
   * One RTP packet received on the link (before the SSRC demux). Returns true when it is probe padding — padding
   * only, under an SSRC that is not an announced trunk SSRC: the link drops it. (A publisher's own padding on a
   * trunk SSRC is in that layer's sequence space: it is routed like media.) `now` is its arrival time.
   */
  onRtp(view: RtpPacketView, now: number): boolean {
    this.receive.onRtp(view, now);
    return isPaddingOnly(view) && !this.receive.knows(view.ssrc);
  }

  /**
   * One RTCP item received on the link: REMB → the send budget; report blocks about this focus's trunk SSRCs
   * (`ours`) → loss; an SR of a remote trunk SSRC → its LSR (the middle 32 bits of the SR's NTP time).
   */
  onRtcp(fb: RtcpFeedback, ours: (ssrc: number) => boolean, now: number): void {
    switch (fb.kind) {
      case 'remb':
        this.send.onRemb(fb.bitrateBps, now);
        return;
      case 'sr':
        this.receive.onSenderReport(fb.ssrc, fb.lsr, now);
        this.#losses(fb.reports, ours, now);
        return;
      case 'rr':
        this.#losses(fb.reports, ours, now);
        return;
      case 'pli':
      case 'fir':
      case 'nack':
      case 'unknown':
        return;
    }
  }

  /** The link's tick: what to send now and which layers go, for the tracks sent now. */
  tick(now: number, sent: readonly TrunkSentTrack[]): TrunkCcTick {
    const rtcp = this.receive.tick(now);
    const decision = this.send.allocate(trunkDemand(sent), now);
    const paddingPackets = this.padding.take(decision.paddingBps, now);
    return { rtcp, decision, paddingPackets };
  }

  /** For LinkStats: the receive-side estimate (undefined before a trunk packet) and the send budget. */
  stats(): { estimateBps: number | undefined; budgetBps: number } {
    return { estimateBps: this.receive.estimateBps, budgetBps: this.send.budgetBps };
  }

  #losses(
    blocks: readonly { ssrc: number; fractionLost: number }[],
    ours: (ssrc: number) => boolean,
    now: number,
  ): void {
    const fractions: number[] = [];
    for (const b of blocks) {
      if (ours(b.ssrc)) {
        fractions.push(b.fractionLost);
      }
    }
    if (fractions.length > 0) {
      this.send.onLossReports(fractions, now);
    }
  }
}

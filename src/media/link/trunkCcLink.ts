/**
 * Trunk congestion control plugged into a link (protocol.md §8.5): the LinkPeer's congestion-control hooks
 * (`LinkPeer.setCongestionControl`, link/types.ts LinkCongestionControl) implemented over TrunkCc
 * (trunkCc.ts). What it does with them:
 * - every received RTP packet feeds the receive-side estimate; probe padding is reported consumed (the link
 *   does not route it);
 * - REMB, report blocks about this link's own trunk SSRCs and SRs of the remote trunk SSRCs feed the send
 *   budget and the receiver reports;
 * - each tick: the remote trunk SSRCs (with their kinds' clock rates) are refreshed, the RR + REMB due go
 *   out on the link, the trunk sends' demanded layers are allocated under the budget and applied with
 *   `setPaused` (the send announces `layers` when its sending set changes), and the probe padding due goes
 *   out on the link under its own SSRC — paced in `PADDING_SLOTS` (5) slots over the tick when a clock is
 *   given (a burst of padding per tick reads as queueing to the remote delay-gradient detector).
 * - `estimateBps` / `budgetBps` fill the link's stats.
 */
import { sharedHostStalls, type HostStalls } from '../hostStall.js';
import type { RtpPacketView } from '../../rtp/packetView.js';
import type { ReportBlock } from '../../rtp/rtcpFeedback.js';
import type { LayerTable } from '../../simulcast/layerTable.js';
import type { Clock } from '../../util/clock.js';
import type { SrtpHeader } from '../srtpSend.js';
import { TrunkCc, type TrunkSentTrack } from './trunkCc.js';
import type { TrunkSendCcOptions } from './trunkCcSend.js';

/** What this needs of one trunk send (link/trunkSender.ts TrunkSend). */
export interface TrunkCcSend {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly closed: boolean;
  readonly source: { selectable(): LayerTable };
  /** The rids the remote focus demands. */
  readonly demanded: readonly string[];
  setPaused(rids: readonly string[]): void;
  ssrcs(): number[];
}

/** What this may do on the link at a tick (link/types.ts LinkRtcpSender). */
export interface TrunkCcLinkSender {
  readonly rtcpSsrc: number;
  remoteSsrcs(): number[];
  sendRtcp(bytes: Uint8Array): boolean;
  /** The kind a remote trunk SSRC carries (for its clock rate); absent: video. */
  kindOf?(ssrc: number): 'audio' | 'video' | undefined;
  /** One RTP packet on the link (SRTP); absent: no probe padding is sent. */
  sendRtp?(header: SrtpHeader, payload: Buffer): boolean;
  /** The video carrier's payload type (probe padding goes under it); undefined: not negotiated yet. */
  readonly videoPayloadType?: number | undefined;
}

/** How the conference ranks a sent track (absent: a camera, not speaking, one remote subscriber per rid). */
export type TrunkPriority = (
  streamId: string,
  trackId: string,
) =>
  | {
      purpose?: 'm.usermedia' | 'm.screenshare';
      speaker?: boolean;
      subscribers?: ReadonlyMap<string, number>;
    }
  | undefined;

export interface TrunkCcLinkOptions {
  readonly maxLinkBps: number;
  /** The trunk sends of the link now (LinkMedia.sends). */
  readonly sends: () => readonly TrunkCcSend[];
  /** The SSRC of this focus's probe padding on the link (default: random, never a trunk SSRC). */
  readonly paddingSsrc?: number;
  readonly priority?: TrunkPriority;
  readonly send?: Partial<Omit<TrunkSendCcOptions, 'maxLinkBps'>>;
  /**
   * Where this focus's receive-side estimate of the trunk toward it starts (bit/s; default 1 Mbit/s, the
   * estimator's). A high start lets a fresh link carry its demand at once; the detector cuts it on a path
   * that cannot.
   */
  readonly startBps?: number;
  /** Paces probe padding within a tick (absent: the padding of a tick goes at once). */
  readonly clock?: Clock;
  /** The link's tick (ms), for the padding slots (default 100). */
  readonly tickMs?: number;
  /**
   * This process's event-loop stalls (default: the shared monitor, made when first polled — once trunk RTP came;
   * null: none, the estimate ignores them).
   */
  readonly hostStalls?: HostStalls | null;
}

const PADDING_SLOTS = 5;

/** The shared monitor, started by its first poll (its timers wake the process: not for links that need none). */
const LAZY_HOST_STALLS: HostStalls = { poll: (now) => sharedHostStalls().poll(now) };

const CLOCK = { audio: 48_000, video: 90_000 } as const;

export class TrunkCcLink {
  readonly #o: TrunkCcLinkOptions;
  #cc: TrunkCc | undefined;
  readonly #paddingSsrc: number;
  #absId: number | undefined;
  #remoteKey = '';
  #ours = new Set<number>();
  /** What the last allocation sends, plus what was admitted since (bit/s). */
  #usedBps = 0;

  constructor(o: TrunkCcLinkOptions) {
    this.#o = o;
    this.#paddingSsrc = (o.paddingSsrc ?? Math.floor(Math.random() * 0xffff_fff0) + 1) >>> 0;
  }

  /** The controller, once the link told its RTCP SSRC (the first tick). */
  get cc(): TrunkCc | undefined {
    return this.#cc;
  }

  /** Every RTP packet received on the link; true when it is probe padding (not to be routed). `now`: its arrival. */
  onRtp(view: RtpPacketView, absSendTimeId: number | undefined, now: number): boolean {
    const cc = this.#cc;
    if (cc === undefined) {
      return false;
    }
    if (absSendTimeId !== this.#absId) {
      this.#absId = absSendTimeId;
      cc.setAbsSendTimeId(absSendTimeId);
    }
    return cc.onRtp(view, now);
  }

  onRemb(bitrateBps: number, now: number): void {
    this.#cc?.onRtcp({ kind: 'remb', bitrateBps }, this.#isOurs, now);
  }

  onReports(reports: readonly ReportBlock[], now: number): void {
    this.#cc?.onRtcp({ kind: 'rr', reports }, this.#isOurs, now);
  }

  /** An SR of a remote trunk SSRC (its LSR goes back in the next RR block). */
  onSenderReport(ssrc: number, lsr: number, now: number): void {
    this.#cc?.onRtcp({ kind: 'sr', ssrc, ntpMs: 0, rtpTs: 0, lsr, reports: [] }, this.#isOurs, now);
  }

  /**
   * A newly demanded layer between ticks: on at once when it fits what the budget leaves (with the 10 %
   * margin); else paused until the next allocation. Unknown bitrates (0) fit.
   */
  admit(_streamId: string, _trackId: string, rid: string, source: { selectable(): LayerTable }): boolean {
    const cc = this.#cc;
    if (cc === undefined) {
      return true;
    }
    const row = source.selectable().layers.find((l) => l.rid === rid);
    const bps = row?.bitrateBps ?? 0;
    const ok = this.#usedBps + bps * 1.1 <= cc.stats().budgetBps;
    if (ok) {
      this.#usedBps += bps;
    }
    return ok;
  }

  estimateBps(): number | undefined {
    return this.#cc?.stats().estimateBps;
  }

  budgetBps(): number {
    return this.#cc?.stats().budgetBps ?? this.#o.maxLinkBps;
  }

  tick(now: number, link: TrunkCcLinkSender): void {
    const cc = this.#ccFor(link);
    if (cc === undefined) {
      return; // not negotiated yet
    }
    this.#refreshRemote(cc, link);
    const sends = this.#o.sends().filter((s) => !s.closed);
    const ours = new Set<number>();
    const tracks: TrunkSentTrack[] = [];
    for (const s of sends) {
      for (const ssrc of s.ssrcs()) {
        ours.add(ssrc >>> 0);
      }
      const p = this.#o.priority?.(s.streamId, s.trackId);
      // One literal shape for every track (spreads made a new shape per combination, and were slow).
      tracks.push({
        streamId: s.streamId,
        trackId: s.trackId,
        kind: s.kind,
        layers: s.source.selectable(),
        demanded: s.demanded,
        purpose: p?.purpose,
        speaker: p?.speaker,
        subscribers: p?.subscribers,
      });
    }
    this.#ours = ours;
    const t = cc.tick(now, tracks);
    this.#usedBps = t.decision.usedBps;
    if (t.rtcp !== undefined) {
      link.sendRtcp(t.rtcp);
    }
    const video = t.decision.video; // the video tracks in input order (trunkAllocation.ts)
    let vi = 0;
    for (const s of sends) {
      if (s.kind !== 'video') {
        continue; // audio is never paused
      }
      let v = video[vi++];
      if (v === undefined || v.streamId !== s.streamId || v.trackId !== s.trackId) {
        v = video.find((x) => x.streamId === s.streamId && x.trackId === s.trackId);
      }
      if (v !== undefined) {
        const sending = v.sending;
        s.setPaused(s.demanded.filter((rid) => !sending.includes(rid)));
      }
    }
    this.#sendPadding(cc, link, t.paddingPackets, now);
    const clock = this.#o.clock;
    const bps = t.decision.paddingBps;
    if (clock !== undefined && bps > 0 && link.sendRtp !== undefined) {
      const slotMs = (this.#o.tickMs ?? 100) / PADDING_SLOTS;
      for (let i = 1; i < PADDING_SLOTS; i++) {
        clock.setTimeout(() => {
          const at = clock.now();
          this.#sendPadding(cc, link, cc.padding.take(bps, at), at);
        }, slotMs * i);
      }
    }
  }

  #sendPadding(cc: TrunkCc, link: TrunkCcLinkSender, n: number, now: number): void {
    if (n <= 0 || link.sendRtp === undefined) {
      return;
    }
    const payload = cc.padding.payload;
    for (let i = 0; i < n; i++) {
      if (!link.sendRtp(cc.padding.packet(now), payload)) {
        return; // not connected (or closed)
      }
    }
  }

  readonly #isOurs = (ssrc: number): boolean => this.#ours.has(ssrc >>> 0);

  /** Created at the first tick after negotiation (the link's RTCP SSRC and video payload type known). */
  #ccFor(link: TrunkCcLinkSender): TrunkCc | undefined {
    const pt = 'videoPayloadType' in link ? link.videoPayloadType : 96;
    if (this.#cc === undefined && pt !== undefined) {
      this.#cc = new TrunkCc({
        maxLinkBps: this.#o.maxLinkBps,
        senderSsrc: link.rtcpSsrc,
        paddingSsrc: this.#paddingSsrc,
        videoPt: pt,
        ...(this.#absId !== undefined ? { absSendTimeId: this.#absId } : {}),
        ...(this.#o.send !== undefined ? { send: this.#o.send } : {}),
        receive: {
          ...(this.#o.startBps !== undefined ? { estimator: { aimd: { startBps: this.#o.startBps } } } : {}),
          ...(this.#o.hostStalls !== null ? { hostStalls: this.#o.hostStalls ?? LAZY_HOST_STALLS } : {}),
        },
      });
    }
    return this.#cc;
  }

  #refreshRemote(cc: TrunkCc, link: TrunkCcLinkSender): void {
    const ssrcs = link.remoteSsrcs();
    const key = ssrcs.join(',');
    if (key === this.#remoteKey) {
      return;
    }
    this.#remoteKey = key;
    cc.setRemoteSsrcs(ssrcs.map((ssrc) => ({ ssrc, clockRate: CLOCK[link.kindOf?.(ssrc) ?? 'video'] })));
  }
}

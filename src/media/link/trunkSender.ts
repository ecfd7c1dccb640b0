/**
 * One local track sent on a link's trunk (protocol.md §8.2, §8.3, §8.6): a sink on the local source (a
 * PublishedTrack) that forwards every packet of a layer sent now VERBATIM — sequence number, timestamp,
 * marker, payload and padding untouched (VP8 picture ids and E2EE frames included) — under the layer's trunk
 * SSRC, the link's payload type for the codec and only the link's header extensions (trunkHeader.ts), SRTP
 * encrypted and sent on the link's transport (media/srtpSend.ts) — at the end of the event-loop turn, with
 * the link's other trunk packets, when the link gives a queue (trunkQueue.ts). A NACK is answered with the
 * packet byte for byte as first sent (its abs-send-time included). A layer is sent when demanded
 * (`setLayers`) and not paused by the trunk budget (`setPaused`, §8.5); a newly sent layer starts with a
 * coalesced keyframe request to the publisher. Per hop (§8.6): NACKs received for a trunk SSRC are answered
 * from its buffer (trunkOut.ts); PLI/FIR for it are coalesced per trunk SSRC (forwarding/pliCoalescer.ts)
 * into the source's own throttled keyframe request; an SR per trunk SSRC once a second carries the
 * publisher's NTP↔RTP mapping (none before the publisher's first SR). Never throws on remote input.
 */
import { Buffer } from 'node:buffer';
import type { RTCDtlsTransport } from 'werift';
import { PliCoalescer } from '../../forwarding/pliCoalescer.js';
import { forwardedSenderReport } from '../../forwarding/rtpClock.js';
import { sameRidSet } from '../../forwarding/trunkAllocation.js';
import { lsrFromNtp, ntpFromUnixMs, senderReportPacket, type ReportBlock } from '../../rtp/rtcpFeedback.js';
import type { NegotiatedCodec } from '../codec/handler.js';
import { sendRtcpBytes } from '../rtcpSend.js';
import { PayloadTypes } from '../payloadTypes.js';
import type { SourcePacket, TrackCodec, TrackSink, TrackSource } from '../track.js';
import { TrunkOut } from './trunkOut.js';
import { sendTrunkPacket, type TrunkQueue, type TrunkWire } from './trunkQueue.js';
import type { TrunkSendLayer } from './types.js';

const SR_INTERVAL_MS = 1000;

/** What a trunk send needs of its link (TrunkWire: counters, clock, transport, header writers, `sent`). */
export interface TrunkSendHost extends TrunkWire {
  readonly pliMinIntervalMs: number;
  /** The link's carrier codecs of a kind. */
  codecs(kind: 'audio' | 'video'): readonly NegotiatedCodec[];
  /** The link's queue: packets leave at the end of the turn (absent: each is sent at once). */
  readonly queue?: TrunkQueue;
  /** The layers sent changed because of `setPaused` (the link announces `layers`). */
  pausedChanged(send: TrunkSend): void;
  /** Whether a newly demanded layer may go on at once (trunk congestion control, §8.5); absent: yes. */
  admit?(send: TrunkSend, rid: string): boolean;
  /** The send ended (closed, or its source did). */
  ended(send: TrunkSend): void;
}

export class TrunkSend implements TrackSink {
  readonly source: TrackSource;
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly #host: TrunkSendHost;
  /** By the source's layer id. */
  readonly #byLayer: (TrunkOut | undefined)[] = [];
  readonly #outs: TrunkOut[] = [];
  readonly #pli: PliCoalescer;
  #demanded = new Set<string>();
  /** The sending set last announced with `layers` (undefined: none yet — everything demanded counts as sent). */
  #announced: readonly string[] | undefined;
  #paused = new Set<string>();
  #sending: readonly string[] = [];
  readonly #payloadTypes = new PayloadTypes();
  #closed = false;
  readonly #due: number[] = [];

  constructor(
    source: TrackSource,
    streamId: string,
    trackId: string,
    trunk: { audioSsrc?: number; layers?: readonly TrunkSendLayer[] },
    host: TrunkSendHost,
    now: number,
  ) {
    this.source = source;
    this.streamId = streamId;
    this.trackId = trackId;
    this.kind = source.kind;
    this.#host = host;
    this.#pli = new PliCoalescer(host.pliMinIntervalMs);
    if (this.kind === 'audio') {
      if (trunk.audioSsrc !== undefined) {
        this.#add(new TrunkOut(0, '', trunk.audioSsrc, 'audio', now));
      }
    } else {
      for (const l of trunk.layers ?? []) {
        this.#add(new TrunkOut(l.layerId, l.rid, l.ssrc, 'video', now));
      }
    }
    this.#apply(now, false);
    source.addSink(this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The rids sent now (video; audio: empty). */
  get sending(): readonly string[] {
    return this.#sending;
  }

  /** The trunk SSRCs of this send. */
  ssrcs(): number[] {
    return this.#outs.map((o) => o.ssrc);
  }

  /** The trunk layers of this send, as announced (congestion control reads their rates). */
  outs(): readonly TrunkOut[] {
    return this.#outs;
  }

  out(ssrc: number): TrunkOut | undefined {
    return this.#outs.find((o) => o.ssrc === ssrc);
  }

  /** The rids the receiving focus demands (video; audio ignores it). */
  setLayers(rids: readonly string[]): void {
    const next = new Set(rids);
    let refused = false;
    for (const rid of next) {
      if (!this.#demanded.has(rid) && this.#host.admit?.(this, rid) === false) {
        this.#paused.add(rid); // over the trunk budget now: congestion control decides at its next tick (§8.5)
        refused = true;
      }
    }
    this.#demanded = next;
    this.#apply(this.#host.now(), true);
    const announced = this.#announced;
    if (refused || (announced !== undefined && !sameRidSet(announced, this.#sending))) {
      // Demanded but not sent: announced at once. And once a `layers` was announced the receiving focus
      // selects from it alone, so a change the new demand made (a fallback layer admitted) is announced too —
      // unannounced, that layer flowed and no subscriber could take it (`cascade-cpu` at a 12-Mbit/s cap).
      this.#announce();
    }
  }

  /** The rids the trunk budget pauses (§8.5). */
  setPaused(rids: readonly string[]): void {
    this.#paused = new Set(rids);
    if (this.#apply(this.#host.now(), true)) {
      this.#announce();
    }
  }

  #announce(): void {
    this.#announced = this.#sending;
    this.#host.pausedChanged(this);
  }

  /** The demanded rids (before the budget). */
  get demanded(): readonly string[] {
    return this.#outs.filter((o) => this.#demanded.has(o.rid)).map((o) => o.rid);
  }

  wantsLayer(layerId: number): boolean {
    return !this.#closed && this.#byLayer[layerId]?.on === true;
  }

  /** The highest layer the receiving focus demands (the publisher's REMB keeps it encoded: publisherRemb.ts). */
  wantedLayer(): number | undefined {
    if (this.#closed || this.kind !== 'video') {
      return undefined;
    }
    let best: number | undefined;
    let bestRank = -1;
    for (const o of this.#outs) {
      const rank = this.#demanded.has(o.rid) ? this.source.rankOf(o.layerId) : -1;
      if (rank > bestRank) {
        bestRank = rank;
        best = o.layerId;
      }
    }
    return best;
  }

  onPacket(sp: SourcePacket, now: number): void {
    const out = this.#byLayer[sp.layer];
    if (out === undefined || !out.on || this.#closed) {
      return;
    }
    const dtls = this.#host.transport();
    if (dtls === undefined) {
      return;
    }
    const pt = this.#payloadType(sp.codec);
    if (pt === undefined) {
      this.#host.counters.drop('unknown_stream');
      return;
    }
    const v = sp.view;
    const padding = v.paddingLength > 0;
    // With padding, the publisher's tail (payload + padding) goes as is; else the shared payload object.
    const payload = padding
      ? Buffer.from(
          v.buffer.buffer,
          v.buffer.byteOffset + v.payloadOffset,
          v.offset + v.length - v.payloadOffset,
        )
      : sp.payload;
    if (sp.fwd.keyframe) {
      this.#pli.onKeyframe(out.ssrc, now);
    }
    // Kept first: the send tells `out` the abs-send-time the packet leaves with (a resend carries it again).
    out.sent(v.seq, now, pt, v.ts, v.marker, padding, payload, sp.audioLevel);
    this.#send(out, pt, v.seq, v.ts, v.marker, padding, sp.audioLevel, payload, now, -1);
  }

  onLayersChanged(): void {
    // The trunk layers are fixed by the announcement; selection happens at the receiving focus.
  }

  onTrackClosed(): void {
    this.#end();
  }

  /** A NACK from the receiving focus for one of this send's trunk SSRCs. */
  onNack(out: TrunkOut, seqs: readonly number[], now: number): void {
    const counters = this.#host.counters;
    const dtls = this.#host.transport();
    if (dtls === undefined || this.#closed) {
      counters.retransmits.missing += seqs.length;
      return;
    }
    out.refill(now);
    for (const seq of seqs) {
      const r = out.answer(seq, now);
      if (typeof r === 'string') {
        counters.retransmits[r]++;
        continue;
      }
      counters.retransmits.sent++;
      // Byte for byte as first sent, its abs-send-time included: one SRTP index, one header (a packet that never
      // left has none yet: it gets now's, kept).
      this.#send(out, r.pt, seq, r.ts, r.marker, r.padding, r.audioLevel, r.payload, now, r.absSendTime);
    }
  }

  /** A PLI/FIR from the receiving focus for a trunk SSRC (ignored for a layer not sent now). */
  onKeyframeRequest(out: TrunkOut, now: number): void {
    if (out.on && this.kind === 'video' && this.#pli.request(out.ssrc, now)) {
      this.source.requestKeyframe(out.layerId, 'subscriber');
    }
  }

  /**
   * A report block about one of this send's trunk SSRCs: RTT from our SRs; returns the fraction lost on the
   * trunk itself (the report's, less what was lost before it: forwarding/upstreamGaps.ts).
   */
  onReport(out: TrunkOut, block: ReportBlock, now: number): number {
    out.rtt.onReport(block.lsr, block.dlsr, now);
    return out.upstream.downstreamFraction(block.fractionLost, now);
  }

  /** Periodic: coalesced keyframe requests that came due, send rates, and the SRs. */
  tick(now: number): void {
    if (this.#closed) {
      return;
    }
    this.#due.length = 0;
    for (const ssrc of this.#pli.due(now, this.#due)) {
      const out = this.out(ssrc);
      if (out?.on === true) {
        this.source.requestKeyframe(out.layerId, 'subscriber');
      }
    }
    const dtls = this.#host.transport();
    for (const out of this.#outs) {
      out.tick(now);
      if (dtls !== undefined && out.on && out.packets > 0 && now - out.lastSrAt >= SR_INTERVAL_MS) {
        this.#senderReport(dtls, out, now);
      }
    }
  }

  close(): void {
    if (!this.#closed) {
      this.source.removeSink(this);
      this.#end();
    }
  }

  /**
   * One packet of `out` onto the link: into its queue (sent at the end of the turn) or, without one, at once;
   * `abs` the abs-send-time it first left with (a resend), else −1.
   */
  #send(
    out: TrunkOut,
    pt: number,
    seq: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    audioLevel: Uint8Array | undefined,
    payload: Buffer,
    now: number,
    abs: number,
  ): void {
    const q = this.#host.queue;
    if (q !== undefined) {
      q.push(this.kind, out.ssrc, pt, seq, ts, marker, padding, audioLevel, payload, out, abs);
    } else {
      sendTrunkPacket(
        this.#host,
        this.kind,
        out.ssrc,
        pt,
        seq,
        ts,
        marker,
        padding,
        audioLevel,
        payload,
        now,
        out,
        abs,
      );
    }
  }

  #end(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    for (const o of this.#outs) {
      o.on = false;
      o.clear();
    }
    this.#sending = [];
    this.#host.ended(this);
  }

  #add(out: TrunkOut): void {
    if (this.#outs.some((o) => o.ssrc === out.ssrc || o.layerId === out.layerId)) {
      return; // a duplicate SSRC or layer in the announcement: the first one wins
    }
    this.#outs.push(out);
    this.#byLayer[out.layerId] = out;
  }

  /** Recomputes which layers are sent; true when the set changed. Newly sent video layers ask for a keyframe. */
  #apply(now: number, requestKeyframes: boolean): boolean {
    if (this.#closed) {
      return false;
    }
    let changed = false;
    for (const o of this.#outs) {
      const on = this.kind === 'audio' || (this.#demanded.has(o.rid) && !this.#paused.has(o.rid));
      if (on === o.on) {
        continue;
      }
      changed = true;
      o.on = on;
      if (on) {
        o.upstream.restart(); // the numbers skipped while paused are not loss
      }
      if (on && requestKeyframes && this.kind === 'video' && this.#pli.request(o.ssrc, now)) {
        this.source.requestKeyframe(o.layerId, 'start');
      }
    }
    if (changed) {
      this.#sending = this.kind === 'audio' ? [] : this.#outs.filter((o) => o.on).map((o) => o.rid);
    }
    return changed;
  }

  /** The link's payload type for a publisher codec (the codec handler picks once per codec list). */
  #payloadType(codec: TrackCodec): number | undefined {
    return this.#payloadTypes.of(codec, this.#host.codecs(this.kind));
  }

  /** This trunk SSRC's SR: the publisher's mapping extrapolated to now (timestamps are verbatim). */
  #senderReport(dtls: RTCDtlsTransport, out: TrunkOut, now: number): void {
    const clock = this.source.senderClock(out.layerId);
    if (clock === undefined) {
      return;
    }
    out.lastSrAt = now;
    const sr = forwardedSenderReport(
      { clockRate: this.source.clockRate, lastOutTs: 0, lastOutAt: now, tsOffset: 0, sourceSr: clock },
      now,
    );
    const ntp = ntpFromUnixMs(sr.ntpMs);
    out.rtt.onSenderReportSent(lsrFromNtp(ntp), now);
    sendRtcpBytes(dtls, senderReportPacket(out.ssrc, ntp, sr.rtpTs, out.packets, out.bytes));
  }
}

/**
 * One track a publisher sends (one m-line of its connection), a TrackSource (track.ts): its layer table
 * (trackLayers.ts: simulcast layers by rid, else one layer); per-packet classification done ONCE for all
 * subscribers from the packet view (layer; the codec handler chosen once per payload type: keyframe, VP8
 * descriptor, keyframe size; audio level); fan-out to the subscribers' down tracks; loss tracking (NACKs) and
 * coalesced keyframe requests per layer SSRC. A sink's error never stops the others.
 */
import { Buffer } from 'node:buffer';
import type { Logger } from 'pino';
import type { ForwarderPacket } from '../forwarding/forwarder.js';
import type { SenderClock } from '../forwarding/rtpClock.js';
import { LoudnessMeter } from '../rtp/audioLevel.js';
import type { RtpPacketView } from '../rtp/packetView.js';
import type { Size } from '../simulcast/layerOrder.js';
import { rankOf } from '../simulcast/layerTable.js';
import type { Clock } from '../util/clock.js';
import { lsrFromNtp, ntpFromUnixMs } from '../rtp/rtcpFeedback.js';
import type { ReceptionReport } from '../rtp/receptionStats.js';
import { toError } from '../util/errors.js';
import type { PayloadFacts } from './codec/handler.js';
import type { KeyframeReason, MediaCounters } from './mediaMetrics.js';
import { KeyframeRequests } from './keyframeRequests.js';
import { flushLayerNacks, layerArrival, layerReports } from './layerReception.js';
import { skipUnwatched } from './layerSkip.js';
import { TrackCodecs } from './trackCodecs.js';
import { TrackLayers, type LayerActivity } from './trackLayers.js';
import type { PublisherCodec, SelectableView, TrackCodec, TrackSink, TrackSource } from './track.js';

export type { PublisherCodec, SelectableView, SourcePacket, TrackSink } from './track.js';
export { LAYER_STALL_MS } from './trackLayers.js';

const EMPTY = Buffer.alloc(0);

/** The per-packet objects a track reuses (a sink never keeps a SourcePacket past `onPacket`). */
interface MutablePacket {
  layer: number;
  view: RtpPacketView;
  payload: Buffer;
  fwd: ForwarderPacket;
  codec: TrackCodec;
  facts: PayloadFacts;
  audioLevel: Uint8Array | undefined;
}

export interface PublishedTrackDeps {
  kind: 'audio' | 'video';
  mid: string;
  /** `a=rid` send lines of the m-line (empty = no simulcast) and their max-width/max-height restrictions. */
  rids: readonly string[];
  restrictions: ReadonlyMap<string, Size>;
  clock: Clock;
  counters: MediaCounters;
  log: Logger;
  pliMinIntervalMs: number;
  /** The negotiated codecs of the m-line (read per packet; cheap). */
  codecs: () => readonly PublisherCodec[];
  /** The negotiated header extensions of the m-line. */
  extensions: () => readonly { uri: string; id: number }[];
  /** Sends one keyframe request (PLI, or FIR where only that is negotiated) for a publisher SSRC. */
  requestKeyframe: (ssrc: number) => void;
  /** Called when a packet went missing (the owner schedules `flushNacks`). */
  onLoss?: () => void;
  /** Layer activity by RTP flow (default) or by announcement (a relayed track, trackLayers.ts). */
  layerActivity?: LayerActivity;
  /** `always`: track losses (and NACK) whatever the m-line negotiated (a link's trunk, protocol.md §8.6). */
  nack?: 'negotiated' | 'always';
  /** Keep RFC 3550 reception statistics per layer for receiver reports to the publisher (`reportBlocks`). */
  receiverReports?: boolean;
  /** Drop packets of layers no sink takes before decryption (`skip`, layerSkip.ts). */
  skipUnwatched?: boolean;
}

export class PublishedTrack implements TrackSource {
  readonly kind: 'audio' | 'video';
  readonly mid: string;
  readonly #d: PublishedTrackDeps;
  readonly #layers: TrackLayers;
  readonly #sinks = new Set<TrackSink>();
  readonly #keyframes: KeyframeRequests;
  readonly #knownSsrc = (ssrc: number): boolean => this.#layers.bySsrc(ssrc) !== undefined;
  readonly #codecs: TrackCodecs;
  readonly #facts: PayloadFacts = { keyframe: false, vp8: undefined, size: undefined };
  readonly #fwd: ForwarderPacket = {
    layer: 0,
    seq: 0,
    ts: 0,
    marker: false,
    payloadSize: 0,
    keyframe: false,
    vp8: undefined,
  };
  #sp: MutablePacket | undefined;
  #muted = false;
  readonly #loudness = new LoudnessMeter();
  #declared: Size | undefined;
  #closed = false;
  #sinkErrors = 0;

  constructor(deps: PublishedTrackDeps) {
    this.#d = deps;
    this.kind = deps.kind;
    this.mid = deps.mid;
    this.#keyframes = new KeyframeRequests({
      pliMinIntervalMs: deps.pliMinIntervalMs,
      counters: deps.counters,
      log: deps.log,
      mid: deps.mid,
      send: deps.requestKeyframe,
    });
    this.#layers = new TrackLayers(deps.layerActivity);
    this.#codecs = new TrackCodecs(deps.codecs, deps.extensions, deps.nack === 'always');
    this.updateRids(deps.rids, deps.restrictions);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get muted(): boolean {
    return this.#muted;
  }

  get simulcast(): boolean {
    return this.#layers.simulcast;
  }

  /** Clock rate of the track's codec (from the negotiated codecs; 90 kHz video / 48 kHz audio otherwise). */
  get clockRate(): number {
    return this.#d.codecs()[0]?.clockRate ?? (this.kind === 'audio' ? 48000 : 90000);
  }

  /** Adds layers for new rids (renegotiation keeps the existing ones). */
  updateRids(rids: readonly string[], restrictions: ReadonlyMap<string, Size>): void {
    this.#layers.updateRids(rids, restrictions, this.#d.clock.now());
  }

  /** Announced activity (`layerActivity: 'announced'`): only these rids are selectable. */
  setAvailableRids(rids: readonly string[]): void {
    if (this.#layers.setAvailable(new Set(rids))) {
      this.#notifyLayers(this.#d.clock.now());
    }
  }

  /** Binds a layer (by rid; the single layer without) to an SSRC before its first packet (a trunk SSRC). */
  bindSsrc(ssrc: number, rid: string | undefined): void {
    this.#layers.layerFor(ssrc >>> 0, rid);
  }

  /** Forgets the losses tracked on an SSRC (its sender resumed it after a pause: the gap is no loss). */
  resyncLoss(ssrc: number): void {
    const layer = this.#layers.bySsrc(ssrc);
    if (layer !== undefined) {
      layer.nack = undefined;
    }
  }

  setMuted(muted: boolean): void {
    if (muted !== this.#muted) {
      this.#muted = muted;
      this.#notifyLayers(this.#d.clock.now());
    }
  }

  /** The track's size as its publisher declared it in metadata (the top layer's). */
  setDeclaredSize(size: Size | undefined): void {
    const same = size?.width === this.#declared?.width && size?.height === this.#declared?.height;
    if (!same) {
      this.#declared = size;
      this.#notifyLayers(this.#d.clock.now());
    }
  }

  addSink(s: TrackSink): void {
    if (this.#closed) {
      s.onTrackClosed();
      return;
    }
    this.#sinks.add(s);
  }

  removeSink(s: TrackSink): void {
    this.#sinks.delete(s);
  }

  get sinkCount(): number {
    return this.#sinks.size;
  }

  /** The attached sinks (read only; for demand on links). */
  sinks(): IterableIterator<TrackSink> {
    return this.#sinks.values();
  }

  /** Layers lowest quality first, with what selection needs. */
  selectable(): SelectableView {
    return this.#layers.selectable(this.#declared);
  }

  /** Position of a layer in quality order (0 = lowest), -1 if unknown. */
  rankOf(layerId: number): number {
    return rankOf(this.selectable(), layerId);
  }

  /** The last sender report of a layer (for timestamp alignment on switches and forwarded SRs). */
  senderClock(layerId: number): (SenderClock & { receivedAt: number }) | undefined {
    return this.#layers.get(layerId)?.sr;
  }

  /**
   * The publisher's RTCP SR for one of this track's SSRCs (`lsr`: the middle 32 bits of its NTP time, echoed in
   * the next receiver report; derived from `ntpMs` when not given). False if the SSRC is not this track's.
   */
  onSenderReport(ssrc: number, ntpMs: number, rtpTs: number, now: number, lsr?: number): boolean {
    const layer = this.#layers.bySsrc(ssrc);
    if (layer === undefined) {
      return false;
    }
    layer.sr = { ntpMs, rtpTs, receivedAt: now };
    layer.reception?.onSenderReport(lsr ?? lsrFromNtp(ntpFromUnixMs(ntpMs)), now);
    return true;
  }

  /** The SSRCs currently known for this track's layers. */
  ssrcs(): number[] {
    return this.#layers.ssrcs();
  }

  hasSsrc(ssrc: number): boolean {
    return this.#layers.bySsrc(ssrc) !== undefined;
  }

  /** A keyframe request for one layer (none while its SSRC is unknown), coalesced (keyframeRequests.ts). */
  requestKeyframe(layerId: number, reason: KeyframeReason): void {
    const layer = this.#layers.get(layerId);
    if (this.kind === 'video' && !this.#closed && layer?.ssrc !== undefined) {
      layer.keyframeAskedAt = this.#d.clock.now();
      this.#keyframes.request(layer.ssrc, reason, layer.keyframeAskedAt);
    }
  }

  /**
   * Whether a packet still encrypted (`view` over its SRTP bytes, `overhead` bytes of tag) may be dropped
   * unread: a layer nobody takes (`skipUnwatched`; layerSkip.ts). When so, it was counted on its layer.
   */
  skip(view: RtpPacketView, overhead: number): boolean {
    const layer =
      this.#d.skipUnwatched === true && !this.#closed ? this.#layers.bySsrc(view.ssrc) : undefined;
    return (
      layer !== undefined &&
      this.#layers.simulcast &&
      skipUnwatched(layer, this.#sinks, view, overhead, this.#d.clock.now(), this.#d.counters)
    );
  }

  /**
   * One RTP packet from the publisher (`rid` when the ingest knows it), as a view valid during this call.
   * Classified once (layer, codec handler: keyframe, VP8 descriptor, size; audio level), then fanned out.
   * Never throws.
   */
  handle(view: RtpPacketView, rid: string | undefined): void {
    if (this.#closed) {
      return;
    }
    const now = this.#d.clock.now();
    const counters = this.#d.counters;
    counters.packetIn(this.kind);
    const codec = this.#codecs.get(view.pt);
    const layer = this.#layers.layerFor(view.ssrc, rid);
    if (codec === undefined || layer === undefined) {
      counters.drop('unknown_stream');
      return;
    }
    layer.decryptedAt = now;
    const size = view.payloadLength;
    const rr = this.#d.receiverReports === true;
    const arrival = layerArrival(
      layer,
      view.seq,
      view.ts,
      view.ssrc,
      codec.clockRate,
      now,
      this.#codecs.nackOk,
      rr,
    );
    if (arrival === 'repair') {
      counters.nackRepaired++;
    } else if (arrival === 'loss') {
      this.#d.onLoss?.();
    }
    let changed = false;
    if (size > 0) {
      // Media. A padding-only packet keeps no layer alive: a browser pads on a paused layer's SSRC.
      layer.lastPacketAt = now;
      layer.windowBytes += size;
      if (!layer.active && this.#layers.activity === 'rtp') {
        layer.active = true;
        changed = true;
      }
    }
    const facts = this.#facts;
    if (size === 0) {
      facts.keyframe = false;
      facts.vp8 = undefined;
      facts.size = undefined;
    } else if (!codec.handler.inspect(view.buffer, view.payloadOffset, size, facts)) {
      counters.drop('malformed');
      return;
    }
    const measured = facts.size;
    if (
      measured !== undefined &&
      (measured.width !== layer.measured?.width || measured.height !== layer.measured.height)
    ) {
      layer.measured = measured;
      changed = true;
    }
    if (facts.keyframe) {
      this.#keyframes.onKeyframe(view.ssrc, now);
    }
    const fwd = this.#fwd;
    fwd.layer = layer.id;
    fwd.seq = view.seq;
    fwd.ts = view.ts;
    fwd.marker = view.marker;
    fwd.payloadSize = size;
    fwd.keyframe = facts.keyframe;
    fwd.vp8 = facts.vp8;
    let audioLevel: Uint8Array | undefined;
    if (this.kind === 'audio' && this.#codecs.audioLevelId > 0) {
      audioLevel = view.extensionBytes(this.#codecs.audioLevelId);
      if (audioLevel !== undefined && audioLevel.length > 0) {
        this.#loudness.add(audioLevel[0] as number);
      }
    }
    if (changed) {
      this.#notifyLayers(now);
    }
    if (this.#sinks.size === 0) {
      return;
    }
    const sp = this.#packet(view, fwd, codec);
    sp.layer = layer.id;
    sp.payload = view.payload();
    sp.codec = codec;
    sp.audioLevel = audioLevel;
    for (const sink of this.#sinks) {
      try {
        sink.onPacket(sp, now);
      } catch (e) {
        this.#sinkFailed(e);
      }
    }
  }

  /**
   * Sends the NACKs that are due now, one packet per layer SSRC; returns when the next ones are due
   * (undefined: nothing is missing).
   */
  flushNacks(now: number, send: (ssrc: number, seqs: number[]) => void): number | undefined {
    return flushLayerNacks(this.#layers.all, now, send, {
      counters: this.#d.counters,
      log: this.#d.log,
      mid: this.mid,
    });
  }

  /** Appends the receiver report blocks of this track's layers (`receiverReports`), closing their intervals. */
  reportBlocks(now: number, out: ReceptionReport[]): void {
    layerReports(this.#layers.all, now, out);
  }

  /**
   * The RFC 6464 loudness (0–1) of the audio packets since the last call: sum and count (count 0 when none
   * carried a level), then resets. For speaker detection.
   */
  takeLoudness(): { sum: number; count: number } {
    return this.#loudness.take();
  }

  /** The publisher-leg RTT measured from NACK repairs of any layer (undefined before one). */
  get nackRttMs(): number | undefined {
    return this.#layers.all.find((l) => l.nack !== undefined)?.nack?.rttMs;
  }

  /** Periodic: layer stalls (no RTP for 2 s), bitrate windows, keyframe requests come due. */
  tick(now: number): void {
    if (this.#layers.tick(now)) {
      this.#notifyLayers(now);
    }
    if (this.kind === 'video' && !this.#closed) {
      this.#keyframes.tick(now, this.#knownSsrc);
    }
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    const sinks = [...this.#sinks];
    this.#sinks.clear();
    for (const s of sinks) {
      try {
        s.onTrackClosed();
      } catch (e) {
        this.#sinkFailed(e);
      }
    }
  }

  /** The one SourcePacket object of this track, pointed at the current packet (fields set by `handle`). */
  #packet(view: RtpPacketView, fwd: ForwarderPacket, codec: TrackCodec): MutablePacket {
    this.#sp ??= { layer: 0, view, payload: EMPTY, fwd, codec, facts: this.#facts, audioLevel: undefined };
    this.#sp.view = view;
    return this.#sp;
  }

  #notifyLayers(now: number): void {
    for (const sink of this.#sinks) {
      try {
        sink.onLayersChanged(now);
      } catch (e) {
        this.#sinkFailed(e);
      }
    }
  }

  #sinkFailed(e: unknown): void {
    // Logged once per track (then counted silently): a faulty sink must not flood the log per packet.
    if (this.#sinkErrors++ === 0) {
      this.#d.log.error(
        { err: toError(e), mid: this.mid },
        'a subscriber of this track failed; others continue',
      );
    }
  }
}

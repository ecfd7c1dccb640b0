/**
 * One track a publisher sends (one m-line of its connection): its simulcast layers (by rid, else one layer),
 * per-layer activity, bitrate, measured keyframe size and last sender report; per-packet classification
 * done ONCE for all subscribers (layer, codec, VP8 descriptor, keyframe, audio level); fan-out to the
 * subscribers' down tracks; throttled keyframe requests per layer SSRC. A sink's error never stops the others.
 */
import type { RtpPacket } from 'werift';
import type { Logger } from 'pino';
import type { ForwarderPacket } from '../forwarding/forwarder.js';
import { KeyframeThrottle } from '../forwarding/keyframeThrottle.js';
import type { SenderClock } from '../forwarding/rtpClock.js';
import { loudness } from '../rtp/audioLevel.js';
import { isH264Keyframe } from '../rtp/h264.js';
import { NackGenerator } from '../rtp/nackGenerator.js';
import { EXT_URI, findExtension, parseAudioLevel } from '../rtp/headerExtensions.js';
import { parseVp8Descriptor, vp8KeyframeSize, type Vp8Descriptor } from '../rtp/vp8.js';
import type { Size } from '../simulcast/layerOrder.js';
import { layerTable, rankOf, type LayerTable } from '../simulcast/layerTable.js';
import type { Clock } from '../util/clock.js';
import { toError } from '../util/errors.js';
import type { KeyframeReason, MediaCounters } from './mediaMetrics.js';

/** A layer without RTP for this long is not flowing (protocol.md §7). */
export const LAYER_STALL_MS = 2000;
const BITRATE_WINDOW_MS = 1000;

export interface PublisherCodec {
  payloadType: number;
  mimeType: string;
  clockRate: number;
  parameters?: string | undefined;
}

export interface SourcePacket {
  readonly layer: number;
  /** The publisher's packet: read only, shared by every subscriber. */
  readonly rtp: RtpPacket;
  readonly fwd: ForwarderPacket;
  readonly codec: PublisherCodec;
  readonly vp8: Vp8Descriptor | undefined;
  readonly audioLevel: Uint8Array | undefined;
}

export interface TrackSink {
  onPacket(p: SourcePacket, now: number): void;
  onLayersChanged(now: number): void;
  onTrackClosed(): void;
}

interface Layer {
  readonly id: number;
  readonly rid: string | undefined;
  ssrc: number | undefined;
  lastPacketAt: number | undefined;
  active: boolean;
  measured: Size | undefined;
  restricted: Size | undefined;
  windowStart: number;
  windowBytes: number;
  bitrateBps: number | undefined;
  sr: (SenderClock & { receivedAt: number }) | undefined;
  /** Loss tracking of the layer's current SSRC (only when the m-line negotiated `nack`). */
  nack: NackGenerator | undefined;
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
}

/** The track's layer table (simulcast/layerTable.ts): ids and rows, lowest quality first. */
export type SelectableView = LayerTable;

export class PublishedTrack {
  readonly kind: 'audio' | 'video';
  readonly mid: string;
  readonly #d: PublishedTrackDeps;
  readonly #layers: Layer[] = [];
  readonly #byRid = new Map<string, Layer>();
  readonly #bySsrc = new Map<number, Layer>();
  readonly #sinks = new Set<TrackSink>();
  readonly #throttle: KeyframeThrottle;
  #codecSrc: readonly PublisherCodec[] | undefined;
  #codecByPt = new Map<number, PublisherCodec>();
  #extSrc: readonly { uri: string; id: number }[] | undefined;
  #nackSrc: readonly PublisherCodec[] | undefined;
  #nackOk = false;
  #extIds = new Map<string, number>();
  #muted = false;
  #loudnessSum = 0;
  #loudnessCount = 0;
  #declared: Size | undefined;
  #closed = false;
  #sinkErrors = 0;

  constructor(deps: PublishedTrackDeps) {
    this.#d = deps;
    this.kind = deps.kind;
    this.mid = deps.mid;
    this.#throttle = new KeyframeThrottle(deps.pliMinIntervalMs);
    this.updateRids(deps.rids, deps.restrictions);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get muted(): boolean {
    return this.#muted;
  }

  get simulcast(): boolean {
    return this.#byRid.size > 0;
  }

  /** Clock rate of the track's codec (from the negotiated codecs; 90 kHz video / 48 kHz audio otherwise). */
  get clockRate(): number {
    return this.#d.codecs()[0]?.clockRate ?? (this.kind === 'audio' ? 48000 : 90000);
  }

  /** Adds layers for new rids (renegotiation keeps the existing ones). */
  updateRids(rids: readonly string[], restrictions: ReadonlyMap<string, Size>): void {
    for (const rid of rids) {
      const existing = this.#byRid.get(rid);
      if (existing !== undefined) {
        existing.restricted = restrictions.get(rid);
        continue;
      }
      const layer = this.#newLayer(rid);
      layer.restricted = restrictions.get(rid);
      this.#byRid.set(rid, layer);
    }
    if (this.#layers.length === 0) {
      this.#newLayer(undefined);
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

  /** Layers lowest quality first, with what selection needs. */
  selectable(): SelectableView {
    return layerTable(this.#layers, this.#declared);
  }

  /** Position of a layer in quality order (0 = lowest), -1 if unknown. */
  rankOf(layerId: number): number {
    return rankOf(this.selectable(), layerId);
  }

  /** The last sender report of a layer (for timestamp alignment on switches and forwarded SRs). */
  senderClock(layerId: number): (SenderClock & { receivedAt: number }) | undefined {
    return this.#layers[layerId]?.sr;
  }

  /** The publisher's RTCP SR for one of this track's SSRCs. False if the SSRC is not this track's. */
  onSenderReport(ssrc: number, ntpMs: number, rtpTs: number, now: number): boolean {
    const layer = this.#bySsrc.get(ssrc);
    if (layer === undefined) {
      return false;
    }
    layer.sr = { ntpMs, rtpTs, receivedAt: now };
    return true;
  }

  /** The SSRCs currently known for this track's layers. */
  ssrcs(): number[] {
    return [...this.#bySsrc.keys()];
  }

  hasSsrc(ssrc: number): boolean {
    return this.#bySsrc.has(ssrc);
  }

  /** A throttled keyframe request for one layer (nothing while its SSRC is unknown). */
  requestKeyframe(layerId: number, reason: KeyframeReason): void {
    if (this.kind !== 'video' || this.#closed) {
      return;
    }
    const ssrc = this.#layers[layerId]?.ssrc;
    if (ssrc === undefined) {
      return;
    }
    if (!this.#throttle.allow(ssrc, this.#d.clock.now())) {
      return;
    }
    this.#d.counters.keyframeRequests[reason]++;
    try {
      this.#d.requestKeyframe(ssrc);
    } catch (e) {
      this.#d.log.warn({ err: toError(e), mid: this.mid }, 'keyframe request failed');
    }
  }

  /** One RTP packet from the publisher (`rid` when the router knows it). Never throws. */
  handle(rtp: RtpPacket, rid: string | undefined): void {
    if (this.#closed) {
      return;
    }
    const now = this.#d.clock.now();
    const counters = this.#d.counters;
    counters.packetIn(this.kind);
    const codec = this.#codec(rtp.header.payloadType);
    const layer = this.#layerFor(rtp.header.ssrc, rid);
    if (codec === undefined || layer === undefined) {
      counters.drop('unknown_stream');
      return;
    }
    const payload = rtp.payload;
    if (layer.nack === undefined && this.#nackNegotiated()) {
      layer.nack = new NackGenerator();
    }
    if (layer.nack !== undefined) {
      const before = layer.nack.missingCount;
      const arrival = layer.nack.onPacket(rtp.header.sequenceNumber, now);
      if (arrival === 'repair') {
        counters.nackRepaired++;
      } else if (layer.nack.missingCount > before) {
        this.#d.onLoss?.();
      }
    }
    let changed = false;
    layer.lastPacketAt = now;
    layer.windowBytes += payload.length;
    if (!layer.active) {
      layer.active = true;
      changed = true;
    }
    let keyframe = false;
    let vp8: Vp8Descriptor | undefined;
    const mime = codec.mimeType.toLowerCase();
    if (payload.length > 0) {
      if (mime === 'video/vp8') {
        vp8 = parseVp8Descriptor(payload);
        if (vp8 === undefined) {
          counters.drop('malformed');
          return;
        }
        keyframe = vp8.keyframe;
        if (keyframe) {
          const size = vp8KeyframeSize(payload, vp8, vp8.length);
          if (
            size !== undefined &&
            (size.width !== layer.measured?.width || size.height !== layer.measured.height)
          ) {
            layer.measured = size;
            changed = true;
          }
        }
      } else if (mime === 'video/h264') {
        keyframe = isH264Keyframe(payload);
      }
    }
    const fwd: ForwarderPacket = {
      layer: layer.id,
      seq: rtp.header.sequenceNumber,
      ts: rtp.header.timestamp,
      marker: rtp.header.marker,
      payloadSize: payload.length,
      keyframe,
    };
    if (vp8 !== undefined) {
      fwd.vp8 = {
        ...(vp8.pictureId !== undefined ? { pictureId: vp8.pictureId } : {}),
        ...(vp8.pictureIdBits !== undefined ? { pictureIdBits: vp8.pictureIdBits } : {}),
        ...(vp8.tl0PicIdx !== undefined ? { tl0PicIdx: vp8.tl0PicIdx } : {}),
        ...(vp8.tid !== undefined ? { tid: vp8.tid } : {}),
      };
    }
    const audioLevel =
      this.kind === 'audio'
        ? findExtension(rtp.header.extensions, this.#extensionIds(), EXT_URI.audioLevel)
        : undefined;
    if (audioLevel !== undefined) {
      const level = parseAudioLevel(audioLevel);
      if (level !== undefined) {
        this.#loudnessSum += loudness(level.level);
        this.#loudnessCount++;
      }
    }
    if (changed) {
      this.#notifyLayers(now);
    }
    const sp: SourcePacket = { layer: layer.id, rtp, fwd, codec, vp8, audioLevel };
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
    let next: number | undefined;
    for (const l of this.#layers) {
      if (l.nack === undefined || l.ssrc === undefined) {
        continue;
      }
      const seqs = l.nack.due(now);
      if (seqs.length > 0) {
        this.#d.counters.nackSent += seqs.length;
        try {
          send(l.ssrc, seqs);
        } catch (e) {
          this.#d.log.warn({ err: toError(e), mid: this.mid }, 'NACK send failed');
        }
      }
      const at = l.nack.nextDueAt();
      if (at !== undefined && (next === undefined || at < next)) {
        next = at;
      }
    }
    return next;
  }

  /**
   * The RFC 6464 loudness (0–1) of the audio packets since the last call: sum and count (count 0 when none
   * carried a level), then resets. For speaker detection.
   */
  takeLoudness(): { sum: number; count: number } {
    const r = { sum: this.#loudnessSum, count: this.#loudnessCount };
    this.#loudnessSum = 0;
    this.#loudnessCount = 0;
    return r;
  }

  /** The publisher-leg RTT measured from NACK repairs of any layer (undefined before one). */
  get nackRttMs(): number | undefined {
    return this.#layers.find((l) => l.nack !== undefined)?.nack?.rttMs;
  }

  /** Periodic: layer stalls (no RTP for 2 s) and bitrate windows. */
  tick(now: number): void {
    let changed = false;
    for (const l of this.#layers) {
      const active = l.lastPacketAt !== undefined && now - l.lastPacketAt < LAYER_STALL_MS;
      if (active !== l.active) {
        l.active = active;
        changed = true;
      }
      const elapsed = now - l.windowStart;
      if (elapsed >= BITRATE_WINDOW_MS) {
        l.bitrateBps =
          l.lastPacketAt === undefined ? undefined : Math.round((l.windowBytes * 8000) / elapsed);
        l.windowBytes = 0;
        l.windowStart = now;
      }
    }
    if (changed) {
      this.#notifyLayers(now);
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

  #newLayer(rid: string | undefined): Layer {
    const layer: Layer = {
      id: this.#layers.length,
      rid,
      ssrc: undefined,
      lastPacketAt: undefined,
      active: false,
      measured: undefined,
      restricted: undefined,
      windowStart: this.#d.clock.now(),
      windowBytes: 0,
      bitrateBps: undefined,
      sr: undefined,
      nack: undefined,
    };
    this.#layers.push(layer);
    return layer;
  }

  #layerFor(ssrc: number, rid: string | undefined): Layer | undefined {
    if (rid !== undefined) {
      const layer = this.#byRid.get(rid);
      if (layer !== undefined && layer.ssrc !== ssrc) {
        if (layer.ssrc !== undefined) {
          this.#bySsrc.delete(layer.ssrc);
        }
        layer.ssrc = ssrc;
        layer.nack = undefined;
        this.#bySsrc.set(ssrc, layer);
      }
      return layer;
    }
    const known = this.#bySsrc.get(ssrc);
    if (known !== undefined || this.simulcast) {
      return known;
    }
    // No simulcast: one layer; a new SSRC (e.g. a restarted encoder) replaces the old one.
    const only = this.#layers[0];
    if (only === undefined) {
      return undefined;
    }
    if (only.ssrc !== undefined) {
      this.#bySsrc.delete(only.ssrc);
    }
    only.ssrc = ssrc;
    only.sr = undefined;
    only.nack = undefined;
    this.#bySsrc.set(ssrc, only);
    return only;
  }

  /** Whether the m-line's codec negotiated generic NACK (`a=rtcp-fb:<pt> nack`). */
  #nackNegotiated(): boolean {
    const src = this.#d.codecs();
    if (src !== this.#nackSrc) {
      this.#nackSrc = src;
      const c = src[0] as
        (PublisherCodec & { rtcpFeedback?: readonly { type: string; parameter?: string }[] }) | undefined;
      this.#nackOk = c?.rtcpFeedback?.some((f) => f.type === 'nack' && (f.parameter ?? '') === '') ?? false;
    }
    return this.#nackOk;
  }

  #codec(pt: number): PublisherCodec | undefined {
    const src = this.#d.codecs();
    if (src !== this.#codecSrc) {
      this.#codecSrc = src;
      this.#codecByPt = new Map(src.map((c) => [c.payloadType, c]));
    }
    return this.#codecByPt.get(pt);
  }

  #extensionIds(): ReadonlyMap<string, number> {
    const src = this.#d.extensions();
    if (src !== this.#extSrc) {
      this.#extSrc = src;
      this.#extIds = new Map(src.map((e) => [e.uri, e.id]));
    }
    return this.#extIds;
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

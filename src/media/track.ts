/**
 * The seam between a published track and its subscribers. A `TrackSource` is what a publication offers (a
 * client's m-line today — PublishedTrack —, a track relayed over a link later): its layers for selection,
 * keyframe requests, sender clocks, and the packets, classified ONCE for all subscribers. A `TrackSink` is what
 * a subscriber's down track receives. The conference keeps a publication's `source` and hands it to the
 * subscribing peer; nothing here knows about werift.
 */
import type { ForwarderPacket } from '../forwarding/forwarder.js';
import type { SenderClock } from '../forwarding/rtpClock.js';
import type { RtpPacketView } from '../rtp/packetView.js';
import type { Size } from '../simulcast/layerOrder.js';
import type { LayerTable } from '../simulcast/layerTable.js';
import type { CodecHandler, NegotiatedCodec, PayloadFacts } from './codec/handler.js';
import type { KeyframeReason } from './mediaMetrics.js';

/** A codec of the publisher's m-line (werift's RTCRtpCodecParameters has these fields). */
export interface PublisherCodec extends NegotiatedCodec {
  clockRate: number;
}

/** A publisher codec with the handler chosen for it once (when the codec list was applied). */
export interface TrackCodec extends PublisherCodec {
  readonly handler: CodecHandler;
}

/**
 * One publisher packet as every subscriber sees it. Valid only during `onPacket`: the source reuses the
 * object and `view` for the next packet, so a sink keeps only what it copies out (or `payload`, which is
 * never written by anyone).
 */
export interface SourcePacket {
  readonly layer: number;
  /** The publisher's packet bytes (read only). */
  readonly view: RtpPacketView;
  /** The publisher's payload (padding excluded): shared by every subscriber, never written. */
  readonly payload: Buffer;
  readonly fwd: ForwarderPacket;
  readonly codec: TrackCodec;
  /** What the codec handler read from the payload (keyframe, VP8 descriptor, size). */
  readonly facts: Readonly<PayloadFacts>;
  /** The RFC 6464 audio level element's value, when the publisher sent one. */
  readonly audioLevel: Uint8Array | undefined;
}

export interface TrackSink {
  onPacket(p: SourcePacket, now: number): void;
  onLayersChanged(now: number): void;
  onTrackClosed(): void;
  /**
   * Whether this sink takes packets of `layerId` now (its current or target layer; a link's demanded layers).
   * A layer no sink takes may be dropped before decryption (layerSkip.ts); a sink without it takes every layer.
   */
  wantsLayer?(layerId: number): boolean;
  /** The layer being forwarded and the one a pending switch targets (a subscriber's; demand on links). */
  usedLayers?(): { current: number | undefined; target: number | undefined };
  /**
   * The layer the subscriber's size and bandwidth cap would choose if every layer flowed: on links a layer the
   * sending focus paused stays demanded while subscribers want it (§8.3, §8.5), so it is probed for and resumes.
   * `capped` false: by its size alone (what a publisher's REMB keeps encoded, publisherRemb.ts).
   */
  wantedLayer?(capped?: boolean): number | undefined;
}

/** A track's layer table (simulcast/layerTable.ts): ids and rows, lowest quality first. */
export type SelectableView = LayerTable;

export interface TrackSource {
  readonly kind: 'audio' | 'video';
  readonly closed: boolean;
  readonly muted: boolean;
  /** Clock rate of the track's codec. */
  readonly clockRate: number;
  addSink(s: TrackSink): void;
  removeSink(s: TrackSink): void;
  readonly sinkCount: number;
  /** Layers lowest quality first, with what selection needs. */
  selectable(): SelectableView;
  /** Position of a layer in quality order (0 = lowest), -1 if unknown. */
  rankOf(layerId: number): number;
  /** The last sender report of a layer (for timestamp alignment on switches and forwarded SRs). */
  senderClock(layerId: number): (SenderClock & { receivedAt: number }) | undefined;
  /** A throttled keyframe request for one layer. */
  requestKeyframe(layerId: number, reason: KeyframeReason): void;

  // What the conference sets and reads on a publication (from stream metadata; for speaker detection).
  setMuted(muted: boolean): void;
  /** The track's size as its publisher declared it in metadata (the top layer's). */
  setDeclaredSize(size: Size | undefined): void;
  /** RFC 6464 loudness (0–1) since the last call: sum and count; then resets. */
  takeLoudness(): { sum: number; count: number };
}

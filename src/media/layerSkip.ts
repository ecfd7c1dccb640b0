/**
 * Unwatched simulcast layers dropped before decryption (performance-design.md §6, step 3's second half). In a
 * meeting everyone sends three layers and most subscribers take one: the top layer is two thirds of what a
 * publisher sends, and every packet of it was decrypted, classified and offered to every subscriber, each of
 * which dropped it. An SRTP header is in the clear, so the ingest can tell the layer before decrypting
 * (ingest.ts `skip`); the packet is then counted on the layer — arrival time and bytes (activity and bitrate,
 * which layer choice reads), the receiver report statistics — and dropped, when all of these hold:
 * - a simulcast video layer already bound to this SSRC, flowing, its size known (restriction or measured);
 * - no sink takes the layer now (`TrackSink.wantsLayer`: a subscriber's current or target layer, a link's
 *   demanded layers) and no keyframe of it was asked for in the last `KEYFRAME_GRACE_MS`;
 * - a packet of the layer was decrypted in the last `DECRYPT_EVERY_MS`: one in every such interval is still
 *   decrypted, which keeps the SRTP rollover counter estimate current (a layer skipped across a sequence wrap
 *   would otherwise never authenticate again) and checks that the peer's header facts are authentic.
 * Loss tracking restarts when the layer is taken again (a skipped packet is not a NACK reference). The facts
 * counted from a skipped header are not authenticated (the fast path only takes datagrams from the peer's own
 * address); a measured size changes only on the decrypted packets. Pure; no allocation.
 */
import type { RtpPacketView } from '../rtp/packetView.js';
import type { MediaCounters } from './mediaMetrics.js';
import type { TrackSink } from './track.js';
import type { Layer } from './trackLayers.js';

/** At least one packet of a skipped layer is decrypted per this interval. */
export const DECRYPT_EVERY_MS = 500;
/** A layer whose keyframe was asked for is decrypted for this long (the keyframe must reach the switch). */
export const KEYFRAME_GRACE_MS = 2000;

/**
 * Whether the packet `view` (its SRTP header; the payload still encrypted, `overhead` bytes of tag after it)
 * of `layer` may be dropped unread; when it may, it was counted on the layer.
 */
export function skipUnwatched(
  layer: Layer,
  sinks: Iterable<TrackSink>,
  view: RtpPacketView,
  overhead: number,
  now: number,
  counters: MediaCounters,
): boolean {
  if (
    !layer.active ||
    layer.ssrc !== view.ssrc ||
    (layer.measured === undefined && layer.restricted === undefined) ||
    layer.decryptedAt === undefined ||
    now - layer.decryptedAt >= DECRYPT_EVERY_MS ||
    (layer.keyframeAskedAt !== undefined && now - layer.keyframeAskedAt < KEYFRAME_GRACE_MS)
  ) {
    return false;
  }
  for (const s of sinks) {
    if (s.wantsLayer === undefined || s.wantsLayer(layer.id)) {
      return false;
    }
  }
  counters.packetIn('video');
  counters.unwatchedSkipped++;
  if (view.paddingLength === 0) {
    // The P bit (in the clear) is off: media. A padded packet is taken as padding only (how much is encrypted;
    // a browser pads a paused layer's SSRC with such packets), which keeps no layer alive.
    layer.lastPacketAt = now;
    layer.windowBytes += Math.max(0, view.offset + view.length - view.payloadOffset - overhead);
  }
  layer.reception?.onPacket(view.seq, view.ts, now);
  layer.nack = undefined;
  return true;
}

/** Why a packet was not forwarded to one subscriber (the `reason` label of sfu_rtp_dropped_total). */
export const DROP_REASONS = [
  /** Padding only (no payload): never consumes an output sequence number. */
  'padding',
  /** A layer that is neither forwarded nor switched to. */
  'layer_mismatch',
  /** The target layer, before its keyframe (start or switch pending). */
  'waiting_keyframe',
  /** No layer chosen (nothing flowing, or unsubscribed). */
  'no_layer',
  /** Above the temporal layer being forwarded. */
  'temporal_layer',
  /** A late packet of the current layer from before the switch to it. */
  'before_switch',
  /** The subscriber's m-line is not negotiated or its transport is not connected yet. */
  'not_ready',
  /** A payload that cannot be parsed (e.g. a truncated VP8 descriptor). */
  'malformed',
  /** An SSRC or payload type the SFU does not know on that connection. */
  'unknown_stream',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

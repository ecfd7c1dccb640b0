/**
 * When and how a subscriber connection probes for more bandwidth (README "Subscriber bandwidth"), pure.
 * Whether a probe succeeded is the estimator's rule (forwarding/bandwidthEstimator.ts); this module picks
 * the probe and paces its padding.
 *
 * - Choice: no probe runs → the first forwarded video track whose cap holds it below its wanted layer
 *   (allocation.ts `heldBackBitrate`) is probed, towards what the connection sends with that track at the
 *   next layer's bitrate + 10 %; only that one track is considered per tick, and the estimator decides
 *   whether a probe may start (hold after congestion, interval and back-off).
 * - A running probe, during its padding phase: each tick adds the bytes that lift the send rate to the
 *   probe's target for one tick to the probed track's backlog.
 * - Padding: 255-byte padding-only packets right after a frame's last packet, at most 40 per frame; a
 *   backlog larger than two frames' worth is forgotten (no catch-up bursts).
 */

/** A probe asks for the next layer's bitrate plus this margin. */
export const PROBE_MARGIN = 1.1;
export const PADDING_BYTES = 255;
export const MAX_PADDING_PER_FRAME = 40;
/** Probe bytes not sent within this many frames are forgotten. */
export const MAX_PROBE_BACKLOG_BYTES = PADDING_BYTES * MAX_PADDING_PER_FRAME * 2;

export interface ProbeInputs<T> {
  /** The running probe's target (bit/s), undefined when none runs. */
  readonly probingTargetBps: number | undefined;
  /** The running probe is in its padding phase. */
  readonly probeActive: boolean;
  /** What the connection sends (media, without probes), bit/s. */
  readonly sendBps: number;
  /** How often the plan is made (the padding of one tick). */
  readonly tickMs: number;
  /** The connection's forwarded video tracks, in order. */
  readonly video: readonly T[];
  readonly rateBps: (track: T) => number;
  /** Evaluated lazily, in order, until one is found. */
  readonly heldBackBps: (track: T) => number | undefined;
  /** The estimator's permission for a probe towards `targetBps` now. */
  readonly mayProbe: (targetBps: number) => boolean;
}

export type ProbePlan<T> =
  | { readonly kind: 'idle' }
  /** Add `bytes` of padding to the running probe's track. */
  | { readonly kind: 'pad'; readonly bytes: number }
  | { readonly kind: 'start'; readonly track: T; readonly targetBps: number };

const IDLE = { kind: 'idle' } as const;

export function planProbe<T>(i: ProbeInputs<T>): ProbePlan<T> {
  if (i.probingTargetBps !== undefined) {
    if (!i.probeActive) {
      return IDLE;
    }
    const extraBps = Math.max(0, i.probingTargetBps - i.sendBps);
    return { kind: 'pad', bytes: (extraBps / 8) * (i.tickMs / 1000) };
  }
  for (const track of i.video) {
    const next = i.heldBackBps(track);
    if (next === undefined) {
      continue;
    }
    const targetBps = i.sendBps - i.rateBps(track) + next * PROBE_MARGIN;
    return i.mayProbe(targetBps) ? { kind: 'start', track, targetBps } : IDLE;
  }
  return IDLE;
}

/** The backlog after a probe asked for `bytes` more (invalid amounts ignored), bounded. */
export function addProbeBacklog(backlog: number, bytes: number): number {
  if (!Number.isFinite(bytes) || bytes <= 0) {
    return backlog;
  }
  return Math.min(MAX_PROBE_BACKLOG_BYTES, backlog + bytes);
}

/** Padding packets to send after the frame that just ended. */
export function paddingPacketsDue(backlog: number): number {
  return Math.min(MAX_PADDING_PER_FRAME, Math.ceil(backlog / PADDING_BYTES));
}

/** The backlog after `packets` padding packets went out. */
export function backlogAfterPadding(backlog: number, packets: number): number {
  return Math.max(0, backlog - packets * PADDING_BYTES);
}

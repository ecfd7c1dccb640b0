/**
 * What a sending focus puts on one trunk when demand exceeds its budget (protocol.md §8.5), pure. Called when
 * the estimate, the demand or a layer's bitrate changes — not per packet.
 *
 * - Budget: min(estimate, `cascade.max_link_bps`); an unknown estimate (NaN, +Infinity) is the link cap alone.
 * - Order: every audio track (never dropped, even over budget); then the lowest demanded layer of each
 *   screenshare (input order), then of each camera (the active speaker first, then input order); then the
 *   other demanded layers ("upgrades") of tracks whose lowest layer went, by how many remote subscribers want
 *   them (most first; ties: screenshare, then the speaker, then the lower layer, then input order).
 * - Each candidate goes if it fits in what is left, else it is paused and the next is tried (a smaller one
 *   may still fit). A layer of a track the previous allocation had but did not send
 *   (paused, or newly demanded) goes only if it fits with `resumeMargin`
 *   (10 %) of its bitrate to spare, so an estimate hovering at a layer's edge does not flap it on and off. Layers are independent on the trunk (each is its own SSRC), so an upper layer may go
 *   without the ones between.
 * - Changes: a video track whose sending set differs from the one last announced (a track never announced
 *   counts as sending all it demands) is listed in `changed`, to announce at once with the `layers` op.
 * - Bitrates that are not finite and non-negative count as 0.
 */

export type TrunkPurpose = 'm.usermedia' | 'm.screenshare';

export interface TrunkLayerDemand {
  readonly rid: string;
  /** What the layer sends now, bit/s. */
  readonly bitrateBps: number;
  /** Remote subscribers (at the receiving focus) that want this layer. */
  readonly subscribers: number;
}

export interface TrunkTrackDemand {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly purpose: TrunkPurpose;
  /** The stream's member is the active speaker. */
  readonly speaker: boolean;
  /** Audio: its bitrate. Ignored for video. */
  readonly bitrateBps?: number;
  /** Video: the demanded layers, lowest first (§7 ordering). Ignored for audio. */
  readonly layers?: readonly TrunkLayerDemand[];
}

export interface TrunkTrackSending {
  readonly streamId: string;
  readonly trackId: string;
  /** Rids sent, lowest first. */
  readonly sending: readonly string[];
}

export interface TrunkAllocation {
  readonly budgetBps: number;
  /** What the chosen set sends (audio included), bit/s; above the budget only when audio alone is. */
  readonly usedBps: number;
  /** Every demanded video track, input order. */
  readonly video: readonly TrunkTrackSending[];
  /** The video tracks whose sending set changed (to announce). */
  readonly changed: readonly TrunkTrackSending[];
}

export interface TrunkAllocationInput {
  readonly estimateBps: number;
  readonly maxLinkBps: number;
  readonly tracks: readonly TrunkTrackDemand[];
  /** The sets last announced (or the previous allocation's `video`); absent tracks: all they demand. */
  readonly previous?: readonly TrunkTrackSending[];
  /** Extra fraction of its bitrate a paused layer needs to resume (default 0.1). */
  readonly resumeMargin?: number;
}

interface Candidate {
  readonly track: number;
  readonly layer: number;
  readonly bps: number;
  readonly subscribers: number;
  readonly screenshare: boolean;
  readonly speaker: boolean;
  /** Its track was in the previous allocation, without this layer. */
  readonly paused: boolean;
}

const bpsOf = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v >= 0 ? v : 0);

export function allocateTrunk(input: TrunkAllocationInput): TrunkAllocation {
  const cap =
    Number.isFinite(input.maxLinkBps) && input.maxLinkBps > 0 ? input.maxLinkBps : Number.POSITIVE_INFINITY;
  const est =
    Number.isFinite(input.estimateBps) && input.estimateBps >= 0
      ? input.estimateBps
      : Number.POSITIVE_INFINITY;
  const budgetBps = Math.min(cap, est);
  const tracks = input.tracks;
  let used = 0;
  for (const t of tracks) {
    if (t.kind === 'audio') {
      used += bpsOf(t.bitrateBps);
    }
  }
  const previous = new Map<string, readonly string[]>();
  for (const p of input.previous ?? []) {
    previous.set(keyOf(p.streamId, p.trackId), p.sending);
  }
  const margin =
    input.resumeMargin !== undefined && Number.isFinite(input.resumeMargin) && input.resumeMargin >= 0
      ? input.resumeMargin
      : 0.1;
  const chosen: Set<number>[] = tracks.map(() => new Set<number>());
  const take = (c: Candidate): void => {
    if (used + c.bps * (c.paused ? 1 + margin : 1) <= budgetBps) {
      used += c.bps;
      chosen[c.track]?.add(c.layer);
    }
  };
  const base: Candidate[] = [];
  const upgrades: Candidate[] = [];
  tracks.forEach((t, i) => {
    if (t.kind !== 'video') {
      return;
    }
    const before = previous.get(keyOf(t.streamId, t.trackId));
    (t.layers ?? []).forEach((l, j) => {
      const c: Candidate = {
        paused: before !== undefined && !before.includes(l.rid),
        track: i,
        layer: j,
        bps: bpsOf(l.bitrateBps),
        subscribers: Number.isFinite(l.subscribers) ? l.subscribers : 0,
        screenshare: t.purpose === 'm.screenshare',
        speaker: t.speaker,
      };
      (j === 0 ? base : upgrades).push(c);
    });
  });
  // Screenshares (input order), then cameras with the speaker first; the sort is stable.
  base.sort(
    (a, b) =>
      rank(b.screenshare) - rank(a.screenshare) || (a.screenshare ? 0 : rank(b.speaker) - rank(a.speaker)),
  );
  for (const c of base) {
    take(c);
  }
  upgrades.sort(
    (a, b) =>
      b.subscribers - a.subscribers ||
      rank(b.screenshare) - rank(a.screenshare) ||
      rank(b.speaker) - rank(a.speaker) ||
      a.layer - b.layer ||
      a.track - b.track,
  );
  for (const c of upgrades) {
    if (chosen[c.track]?.has(0) === true) {
      take(c);
    }
  }

  const video: TrunkTrackSending[] = [];
  const changed: TrunkTrackSending[] = [];
  tracks.forEach((t, i) => {
    if (t.kind !== 'video') {
      return;
    }
    const layers = t.layers ?? [];
    const sending = layers.filter((_, j) => chosen[i]?.has(j) === true).map((l) => l.rid);
    const entry = { streamId: t.streamId, trackId: t.trackId, sending };
    video.push(entry);
    const before = previous.get(keyOf(t.streamId, t.trackId)) ?? layers.map((l) => l.rid);
    if (!sameRidSet(before, sending)) {
      changed.push(entry);
    }
  });
  return { budgetBps, usedBps: used, video, changed };
}

/** The §8.5 `layers` message announcing `changed`. */
export function layersMessage(changed: readonly TrunkTrackSending[]): {
  op: 'layers';
  tracks: { stream_id: string; track_id: string; sending: string[] }[];
} {
  return {
    op: 'layers',
    tracks: changed.map((c) => ({ stream_id: c.streamId, track_id: c.trackId, sending: [...c.sending] })),
  };
}

const rank = (b: boolean): number => (b ? 1 : 0);
const keyOf = (streamId: string, trackId: string): string => `${streamId}\u0000${trackId}`;

/** Same rids, in any order (a track's few rids, each once: no Set). Shared by the trunk's senders. */
export function sameRidSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (const x of b) {
    if (!a.includes(x)) {
      return false;
    }
  }
  return true;
}

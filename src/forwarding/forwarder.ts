/**
 * The per-subscriber, per-track forwarding decision (decide-then-apply, mediasoup/LiveKit style): for each
 * input packet of the published track, forward or drop (with the reason), and the output sequence number,
 * timestamp, VP8 picture id and TL0PICIDX, so that the subscriber sees ONE continuous stream across simulcast
 * layer switches: seq +1, timestamps advancing, picture id / TL0PICIDX +1, switches only on a keyframe of the
 * target layer (protocol.md §7). Pure: no I/O, no timers; time comes in as `now`.
 */
import { SeqManager } from '../rtp/seqManager.js';
import { seqDiff } from '../rtp/seq.js';
import type { DropReason } from './dropReason.js';
import { tsDiff } from './rtpClock.js';

export interface Vp8Fields {
  pictureId?: number | undefined;
  pictureIdBits?: 7 | 15 | undefined;
  tl0PicIdx?: number | undefined;
  tid?: number | undefined;
}

export interface ForwarderPacket {
  /** Layer id within the published track (any stable number). */
  layer: number;
  seq: number;
  ts: number;
  marker: boolean;
  /** Payload bytes; 0 = padding only. */
  payloadSize: number;
  /** The packet starts a keyframe (VP8 S=1, PID=0, P=0; H.264 IDR/SPS). */
  keyframe: boolean;
  vp8?: Vp8Fields | undefined;
}

export interface Forward {
  forward: true;
  seq: number;
  ts: number;
  marker: boolean;
  pictureId?: number | undefined;
  tl0PicIdx?: number | undefined;
  /** This packet switched (or started) the layer; `from` is the layer before (undefined at start). */
  switched: boolean;
  from?: number | undefined;
}

/**
 * A Forward for `decideInto` to fill packet after packet (the hot path makes no decision object per packet):
 * every field present, so its shape never changes.
 */
export function forwardScratch(): Forward {
  return {
    forward: true,
    seq: 0,
    ts: 0,
    marker: false,
    pictureId: undefined,
    tl0PicIdx: undefined,
    switched: false,
    from: undefined,
  };
}

export interface Drop {
  forward: false;
  reason: DropReason;
}

export type Decision = Forward | Drop;

export interface ForwarderOptions {
  clockRate: number;
  /** Video: start and switch only on keyframes. Audio: forward from the first packet. */
  keyframeGated: boolean;
}

/** Temporal layers above this are dropped (VP8 TID is 2 bits: 3 = everything). */
const ALL_TEMPORAL = 3;

/** One Drop per reason, made once (a dropped packet makes no object either). */
const drops = new Map<DropReason, Drop>();

function drop(reason: DropReason): Drop {
  let d = drops.get(reason);
  if (d === undefined) {
    d = Object.freeze({ forward: false, reason });
    drops.set(reason, d);
  }
  return d;
}

/** Extends a 7-bit picture id to 15 bits near `last` (the closest value with those low 7 bits). */
function expandPictureId7(id7: number, last: number): number {
  let d = (id7 - (last & 0x7f)) & 0x7f;
  if (d >= 64) {
    d -= 128;
  }
  return (last + d) & 0x7fff;
}

export class Forwarder {
  readonly #clockRate: number;
  readonly #gated: boolean;
  readonly #seq = new SeqManager(16);
  readonly #pid = new SeqManager(15);
  readonly #tl0 = new SeqManager(8);
  #current: number | undefined;
  #target: number | undefined;
  #maxTemporal = ALL_TEMPORAL;
  #started = false;
  /** Highest input seq of the current layer, and how far (saturating) it is past the switch point. */
  #highestIn = 0;
  #sinceSwitch = 0;
  #tsOffset = 0;
  #lastOutTs = 0;
  #lastOutAt = 0;
  /** Last input picture id of the current layer, in 15 bits. */
  #pidIn: number | undefined;
  #pidStarted = false;
  #tl0Started = false;

  constructor(opts: ForwarderOptions) {
    this.#clockRate = opts.clockRate;
    this.#gated = opts.keyframeGated;
    if (!opts.keyframeGated) {
      this.#target = 0;
    }
  }

  get clockRate(): number {
    return this.#clockRate;
  }

  /**
   * Starts over on another source, keeping the output stream: what was forwarded stops, nothing is selected
   * (audio: the one layer is, as at construction), and the next packet forwarded is a switch — its sequence
   * number, timestamp, picture id and TL0PICIDX go on from the last ones sent. For a subscriber's m-line that
   * is reused for another track (unsubscribe, then subscribe): its SSRC stays one stream, as its receiver (and
   * the SRTP rollover counter) expect.
   */
  restart(): void {
    this.#current = undefined;
    this.#target = this.#gated ? undefined : 0;
    this.#maxTemporal = ALL_TEMPORAL;
    this.#pidIn = undefined;
  }

  get current(): number | undefined {
    return this.#current;
  }

  get target(): number | undefined {
    return this.#target;
  }

  /** A keyframe of the target layer is needed (start or switch pending). */
  get waitingForKeyframe(): boolean {
    return this.#gated && this.#target !== undefined && this.#target !== this.#current;
  }

  get tsOffset(): number {
    return this.#tsOffset;
  }

  get lastOutTs(): number {
    return this.#lastOutTs;
  }

  get lastOutAt(): number {
    return this.#lastOutAt;
  }

  get started(): boolean {
    return this.#started;
  }

  /**
   * The layer to forward. The current layer keeps flowing until the target's keyframe; undefined stops
   * forwarding (the next start is a switch, so numbering stays continuous).
   */
  setTarget(layer: number | undefined): void {
    this.#target = layer;
    if (layer === undefined) {
      this.#current = undefined;
    }
  }

  /**
   * Reserves `n` output sequence numbers for padding-only packets the SFU sends itself (bandwidth probes),
   * right after the last packet sent: returns the first one and the timestamp to give them (the last
   * frame's). Undefined before the first forwarded packet.
   */
  padding(n: number): { seq: number; ts: number } | undefined {
    if (!this.#started || this.#current === undefined) {
      return undefined;
    }
    const seq = this.#seq.insert(n);
    return seq === undefined ? undefined : { seq, ts: this.#lastOutTs };
  }

  /** Temporal layers above `tid` are dropped (0–3; 3 = all). */
  setMaxTemporalLayer(tid: number): void {
    this.#maxTemporal = Math.max(0, Math.min(ALL_TEMPORAL, Math.floor(tid)));
  }

  /**
   * Decides for one packet. `alignedTs` (optional) is the packet's timestamp expressed on the CURRENT layer's
   * clock (from sender reports); when given, a switch keeps capture-time spacing exactly, else the timestamp
   * advances by the wall-clock time since the last forwarded packet.
   */
  decide(p: ForwarderPacket, now: number, alignedTs?: number): Decision {
    return this.decideInto(p, now, alignedTs, {
      forward: true,
      seq: 0,
      ts: 0,
      marker: false,
      switched: false,
    });
  }

  /**
   * `decide`, with a forwarded packet's decision written into `out` (`forwardScratch()`, reused: valid until
   * the next call) instead of a new object. An optional field is written only when it has a value or `out`
   * holds one, so a fresh `out` gets exactly the fields that apply.
   */
  decideInto(p: ForwarderPacket, now: number, alignedTs: number | undefined, out: Forward): Decision {
    if (p.payloadSize <= 0) {
      if (p.layer === this.#current) {
        this.#seq.drop(p.seq);
      }
      return drop('padding');
    }
    let switched = false;
    let from: number | undefined;
    if (p.layer !== this.#current) {
      if (this.#target === undefined) {
        return drop('no_layer');
      }
      if (p.layer !== this.#target) {
        return drop('layer_mismatch');
      }
      if (this.#gated && !p.keyframe) {
        return drop('waiting_keyframe');
      }
      from = this.#current;
      this.#switchTo(p, now, alignedTs);
      switched = true;
    } else if (this.#target === undefined) {
      return drop('no_layer');
    } else {
      const d = seqDiff(p.seq, this.#highestIn, 16);
      if (this.#sinceSwitch + d < 0) {
        return drop('before_switch');
      }
      if (d > 0) {
        this.#highestIn = p.seq;
        this.#sinceSwitch = Math.min(this.#sinceSwitch + d, 1 << 30);
      }
    }
    const vp8 = p.vp8;
    const pid15 =
      vp8?.pictureId === undefined
        ? undefined
        : vp8.pictureIdBits === 7 && this.#pidIn !== undefined
          ? expandPictureId7(vp8.pictureId, this.#pidIn)
          : vp8.pictureId & 0x7fff;
    if (vp8?.tid !== undefined && vp8.tid > this.#maxTemporal && !switched) {
      this.#seq.drop(p.seq);
      if (pid15 !== undefined) {
        this.#notePid(pid15);
        this.#pid.drop(pid15);
      }
      return drop('temporal_layer');
    }
    const seq = this.#seq.input(p.seq);
    if (seq === undefined) {
      return drop('padding'); // the same input was dropped before (a retransmitted padding packet)
    }
    const ts = (p.ts + this.#tsOffset) >>> 0;
    if (tsDiff(ts, this.#lastOutTs) > 0 || switched) {
      this.#lastOutTs = ts;
      this.#lastOutAt = now;
    }
    out.seq = seq;
    out.ts = ts;
    out.marker = p.marker;
    out.switched = switched;
    if (from !== undefined || out.from !== undefined) {
      out.from = from;
    }
    let pid: number | undefined;
    if (pid15 !== undefined) {
      this.#notePid(pid15);
      pid = this.#pid.input(pid15);
    }
    if (pid !== undefined || out.pictureId !== undefined) {
      out.pictureId = pid;
    }
    const tl0 = vp8?.tl0PicIdx === undefined ? undefined : this.#tl0.input(vp8.tl0PicIdx);
    if (tl0 !== undefined || out.tl0PicIdx !== undefined) {
      out.tl0PicIdx = tl0;
    }
    return out;
  }

  #notePid(pid15: number): void {
    if (this.#pidIn === undefined || seqDiff(pid15, this.#pidIn, 15) > 0) {
      this.#pidIn = pid15;
    }
  }

  #switchTo(p: ForwarderPacket, now: number, alignedTs: number | undefined): void {
    const vp8 = p.vp8;
    if (!this.#started) {
      this.#tsOffset = 0;
      this.#lastOutTs = p.ts >>> 0;
      this.#lastOutAt = now;
    } else {
      this.#seq.sync((p.seq - 1) & 0xffff);
      this.#tsOffset = (this.#switchTimestamp(now, alignedTs) - p.ts) >>> 0;
    }
    // Picture id and TL0PICIDX continue from the last values sent (the first ones pass through).
    this.#pidIn = undefined;
    if (vp8?.pictureId !== undefined) {
      const pid15 = vp8.pictureId & 0x7fff;
      if (this.#pidStarted) {
        this.#pid.sync((pid15 - 1) & 0x7fff);
      }
      this.#pidStarted = true;
      this.#pidIn = pid15;
    }
    if (vp8?.tl0PicIdx !== undefined) {
      if (this.#tl0Started) {
        this.#tl0.sync((vp8.tl0PicIdx - 1) & 0xff);
      }
      this.#tl0Started = true;
    }
    this.#current = p.layer;
    this.#highestIn = p.seq;
    this.#sinceSwitch = 0;
    this.#started = true;
  }

  /** The output timestamp of the switching packet: strictly after the last one sent. */
  #switchTimestamp(now: number, alignedTs: number | undefined): number {
    if (alignedTs !== undefined && this.#current !== undefined) {
      const candidate = (alignedTs + this.#tsOffset) >>> 0;
      const ahead = tsDiff(candidate, this.#lastOutTs);
      if (ahead > 0 && ahead < this.#clockRate * 5) {
        return candidate;
      }
    }
    const elapsed = Math.max(1, Math.round(((now - this.#lastOutAt) * this.#clockRate) / 1000));
    return (this.#lastOutTs + elapsed) >>> 0;
  }
}

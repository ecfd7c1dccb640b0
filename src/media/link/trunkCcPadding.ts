/**
 * The probe padding TrunkSendCc asks for (`paddingBps`, trunkCcSend.ts), as RTP packets for the link: padding
 * only (P bit, 255 bytes of padding, no payload), under an SSRC of its own that no metadata announces, with
 * the link's payload type and a fresh abs-send-time (so the remote estimator measures them like media).
 * A receiving focus recognises them by the empty payload (`isPaddingOnly`) and drops them after its
 * estimator counted them; they never reach a relayed source.
 *
 * Pacing: the link's tick calls `take(bps, now)`; it returns how many packets are due since the last call (at
 * most `maxPerTick`; a backlog beyond 2 × `maxPerTick` packets is forgotten: no catch-up bursts), then `packet(now)` writes
 * each (a header allocation per packet, only while probing).
 */
import { Buffer } from 'node:buffer';
import { absSendTime } from '../../rtp/headerExtensions.js';
import type { RtpPacketView } from '../../rtp/packetView.js';
import { WireRtpHeader } from '../../rtp/rtpHeader.js';

export const PADDING_BYTES = 255;
/** The padding: 254 zero bytes and the count. Shared by every packet (never written to). */
const PADDING = Buffer.alloc(PADDING_BYTES);
PADDING[PADDING_BYTES - 1] = PADDING_BYTES;

export class TrunkPadding {
  readonly ssrc: number;
  readonly #pt: number;
  #absId: number | undefined;
  #seq: number;
  #lastAt = Number.NaN;
  #credit = 0;
  readonly #maxPerTick: number;

  /** `ssrc` unique on the link direction (not a trunk SSRC); `pt` the video carrier's payload type. */
  constructor(ssrc: number, pt: number, absSendTimeId: number | undefined, maxPerTick = 100) {
    this.ssrc = ssrc >>> 0;
    this.#pt = pt & 0x7f;
    this.#absId = absSendTimeId;
    this.#seq = (ssrc * 7919) & 0xffff;
    this.#maxPerTick = maxPerTick;
  }

  /** The payload to send with every header from `packet` (the shared padding bytes). */
  get payload(): Buffer {
    return PADDING;
  }

  setAbsSendTimeId(id: number | undefined): void {
    this.#absId = id;
  }

  /** Packets due now at `bps` since the previous call (0 stops and forgets the backlog). */
  take(bps: number, now: number): number {
    const elapsed = Number.isNaN(this.#lastAt) ? 0 : Math.max(0, now - this.#lastAt);
    if (!Number.isFinite(bps) || bps <= 0) {
      this.#credit = 0;
      this.#lastAt = Number.NaN; // the next start counts from then, not from before the pause
      return 0;
    }
    this.#lastAt = now;
    const bytesPerPacket = PADDING_BYTES + 12 + 8;
    this.#credit += (bps / 8) * (elapsed / 1000);
    const n = Math.min(this.#maxPerTick, Math.floor(this.#credit / bytesPerPacket));
    this.#credit = Math.min(this.#credit - n * bytesPerPacket, 2 * this.#maxPerTick * bytesPerPacket);
    return n;
  }

  /** The header of the next padding packet (send it with `payload`). */
  packet(now: number): WireRtpHeader {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    return new WireRtpHeader({
      payloadType: this.#pt,
      sequenceNumber: seq,
      timestamp: 0,
      ssrc: this.ssrc,
      marker: false,
      padding: true,
      extensions: this.#absId === undefined ? [] : [{ id: this.#absId, payload: absSendTime(now) }],
    });
  }
}

/** A received packet that carries nothing but padding (a probe, or a sender's own padding). */
export function isPaddingOnly(view: RtpPacketView): boolean {
  return view.valid && view.payloadLength === 0 && view.paddingLength > 0;
}

/**
 * One trunk SSRC this focus sends on a link (one layer of a local track, protocol.md §8.2, §8.6): whether it is
 * sent now, what it sent (for its SRs), and a retransmission buffer of ≥ 1 s answering the receiving focus's
 * NACKs with the packets as first sent — byte for byte: same sequence number, timestamp, payload and the
 * abs-send-time it first left with (`stamped`), so the same SRTP packet index never encrypts two different
 * headers (under AEAD_AES_128_GCM that would be one nonce with two authenticated headers) — under
 * the downstream rules (forwarding/retransmitPolicy.ts: at most once per RTT per packet, within a budget of 90 %
 * of the stream's own rate, so a NACK flood can at most double what the layer sends).
 *
 * The packets are kept as a local subscription's are (media/sentStore.ts): in the slots of a ring that starts
 * at 64 packets and doubles, every packet kept, only while the layer sends more than it holds for 1.5 s (up to
 * TRUNK_RTX_PACKETS), each slot over its part of a chunk of memory handed out in order of first use. A slot
 * holds a small record (payload type, flags, timestamp, the audio level element) and a copy of the payload: the
 * publisher's datagram is not kept for the 1.5 s of the buffer (kept, each survived the young generation's
 * collections for the whole-heap GC to find), and nothing is allocated per packet once the ring has its size.
 * A ring of its full size from the start was 1.5 MB of packet memory per video trunk SSRC, most of it never
 * used by a 360p layer's ≈ 90 packets a second.
 */
import { Buffer } from 'node:buffer';
import {
  resendWindowMs,
  RttEstimator,
  type RetransmitRefusal,
  type RetransmitSizes,
} from '../../forwarding/retransmitPolicy.js';
import { SendRate } from '../../forwarding/sendRate.js';
import { UpstreamGaps } from '../../forwarding/upstreamGaps.js';
import type { SentPacket } from '../sentPackets.js';
import { SentStore } from '../sentStore.js';
import { absSendTimeValueInto } from './absSendTime.js';

/** The most packets kept — video: ≥ 1 s up to ≈ 1,000 packets/s (≈ 9 Mbit/s of full packets); audio: ≈ 2.5 s. */
export const TRUNK_RTX_PACKETS = { video: 1024, audio: 128 } as const;
export const TRUNK_RTX_MS = 1500;
/** Where a trunk SSRC's buffer starts (≈ 0.7 s of a 360p layer, 1.3 s of audio). */
export const TRUNK_RTX_INITIAL_PACKETS = 64;
/** RTP header bytes counted into the send rate per packet. */
const RTP_HEADER_BYTES = 12;

/** A packet as sent on the trunk (valid until the next `answer`: one object per TrunkOut, refilled). */
export interface SentRecord {
  readonly pt: number;
  readonly ts: number;
  readonly marker: boolean;
  readonly padding: boolean;
  /** What followed the publisher's header (its payload and padding), as sent: a view of the kept copy. */
  readonly payload: Buffer;
  readonly audioLevel: Uint8Array | undefined;
  /** The 24-bit abs-send-time it first left with; −1 if it never left. */
  readonly absSendTime: number;
}

/**
 * A slot's record, before the payload: payload type, flags, audio level length, timestamp (big-endian), the
 * abs-send-time it left with (3 bytes, valid with STAMPED), then the audio level element's bytes. The slot's
 * `headerLength` is the record's length, its payload the payload.
 */
const RECORD_BYTES = 10;
const ABS_AT = 7;
const MARKER = 1;
const PADDING = 2;
const LEVEL = 4;
const STAMPED = 8;

class Record implements SentRecord {
  pt = 0;
  ts = 0;
  marker = false;
  padding = false;
  payload: Buffer = Buffer.alloc(0);
  audioLevel: Uint8Array | undefined = undefined;
  absSendTime = -1;

  /** Reads a slot (views of its bytes: made on a resend only). */
  read(p: SentPacket): this {
    const b = p.buf;
    const o = p.off;
    const flags = b[o + 1] as number;
    this.pt = b[o] as number;
    this.marker = (flags & MARKER) !== 0;
    this.padding = (flags & PADDING) !== 0;
    this.ts = b.readUInt32BE(o + 3);
    this.absSendTime = (flags & STAMPED) === 0 ? -1 : b.readUIntBE(o + ABS_AT, 3);
    this.audioLevel =
      (flags & LEVEL) === 0
        ? undefined
        : b.subarray(o + RECORD_BYTES, o + RECORD_BYTES + (b[o + 2] as number));
    this.payload = b.subarray(o + p.headerLength, o + p.length);
    return this;
  }
}

export class TrunkOut {
  readonly layerId: number;
  readonly rid: string;
  readonly ssrc: number;
  /** Sent now (demanded and not paused). */
  on = false;
  packets = 0;
  bytes = 0;
  lastSrAt = Number.NEGATIVE_INFINITY;
  readonly rtt = new RttEstimator();
  /** Numbers skipped in what was sent: loss before the trunk, taken off the reports' fraction lost. */
  readonly upstream = new UpstreamGaps();
  /** The packets kept for retransmission. */
  readonly #store: SentStore;
  readonly #record = new Record();
  readonly #rate: SendRate;

  constructor(layerId: number, rid: string, ssrc: number, kind: 'audio' | 'video', now: number) {
    this.layerId = layerId;
    this.rid = rid;
    this.ssrc = ssrc >>> 0;
    const sizes: RetransmitSizes = {
      initialPackets: TRUNK_RTX_INITIAL_PACKETS,
      maxPackets: TRUNK_RTX_PACKETS[kind],
      maxAgeMs: TRUNK_RTX_MS,
    };
    this.#store = new SentStore(now, sizes);
    this.#rate = new SendRate(now);
  }

  /** What this trunk SSRC sends, bytes per second (last 0.5 s window; congestion control reads it). */
  get bytesPerS(): number {
    return this.#rate.bytesPerS;
  }

  /** Packets the retransmission buffer holds now (it grows with the layer's rate). */
  get capacity(): number {
    return this.#store.capacity;
  }

  /** Packet memory allocated for the buffer (bytes). */
  get allocatedBytes(): number {
    return this.#store.allocatedBytes;
  }

  /** A packet went out with sequence number `seq`: counted and kept for retransmission. */
  sent(
    seq: number,
    now: number,
    pt: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    payload: Buffer,
    audioLevel: Uint8Array | undefined,
  ): void {
    this.packets = (this.packets + 1) >>> 0;
    this.bytes = (this.bytes + payload.length) >>> 0;
    this.upstream.onSent(seq, now);
    this.#rate.add(payload.length + RTP_HEADER_BYTES);
    const levelLength = audioLevel === undefined ? 0 : Math.min(audioLevel.length, 255);
    const head = RECORD_BYTES + levelLength;
    const p = this.#store.slot(seq, head + payload.length, now);
    const b = p.buf;
    const o = p.off;
    b[o] = pt & 0x7f;
    b[o + 1] = (marker ? MARKER : 0) | (padding ? PADDING : 0) | (audioLevel === undefined ? 0 : LEVEL);
    b[o + 2] = levelLength;
    b.writeUInt32BE(ts >>> 0, o + 3);
    if (audioLevel !== undefined) {
      // The element whole (RFC 8285 elements are at most 255 bytes): no view per audio packet.
      b.set(
        levelLength === audioLevel.length ? audioLevel : audioLevel.subarray(0, levelLength),
        o + RECORD_BYTES,
      );
    }
    b.set(payload, o + head); // TypedArray#set: a builtin memcpy (Buffer#copy goes through JS argument checks)
    p.headerLength = head;
    p.length = head + payload.length;
    this.#store.remember(seq, now, p);
  }

  /**
   * Packet `seq` left with this 24-bit abs-send-time (the trunk's flush): kept with it, so a resend carries it
   * again. Nothing if its slot no longer holds it.
   */
  stamped(seq: number, absSendTime: number): void {
    const p = this.#store.peek(seq);
    if (p === undefined) {
      return;
    }
    absSendTimeValueInto(p.buf, p.off + ABS_AT, absSendTime);
    p.buf[p.off + 1] = (p.buf[p.off + 1] as number) | STAMPED;
  }

  /** Once per received NACK packet, before `answer`: refills the budget. */
  refill(now: number): void {
    this.#store.refill(now, this.#rate.bytesPerS);
  }

  /**
   * One NACKed sequence number: the record to resend now (charged and marked; valid until the next call), or
   * why not.
   */
  answer(seq: number, now: number): SentRecord | RetransmitRefusal {
    const p = this.#store.answer(seq, now, resendWindowMs(this.rtt.rttMs));
    return typeof p === 'string' ? p : this.#record.read(p);
  }

  tick(now: number): void {
    this.#rate.tick(now);
  }

  /** Forgets every packet and lets the memory go (the send ended). */
  clear(): void {
    this.#store.release();
  }
}

/**
 * The codec-specific parts of forwarding, one handler per codec (chosen once per payload type, see
 * chooser.ts): what one packet's payload says (keyframe start, VP8 descriptor, frame size of a keyframe),
 * which of a subscriber's codecs carries the stream, and the payload rewrite a subscriber's stream needs
 * (VP8 picture id / TL0PICIDX). Adding VP9 or AV1 is one new file implementing this interface.
 */
import type { Vp8Descriptor } from '../../rtp/vp8.js';
import type { Size } from '../../simulcast/layerOrder.js';

/** What a handler read from one packet's payload; one object per track, overwritten per packet. */
export interface PayloadFacts {
  /** The packet starts a keyframe (the forwarder switches layers only on one). */
  keyframe: boolean;
  /** VP8 only: the payload descriptor (absent for other codecs and padding-only packets). */
  vp8: Vp8Descriptor | undefined;
  /** The frame size a keyframe carries, when the codec carries one there (VP8). */
  size: Size | undefined;
  /** The VP8 handler's descriptor, parsed into packet after packet (`vp8` points at it when set). */
  vp8Scratch?: Vp8Descriptor | undefined;
}

/** A codec as negotiated on an m-line (werift's RTCRtpCodecParameters has these fields). */
export interface NegotiatedCodec {
  payloadType: number;
  mimeType: string;
  parameters?: string | undefined;
}

/** The rewritten fields the forwarder decided for one subscriber. */
export interface PayloadRewrite {
  pictureId?: number | undefined;
  tl0PicIdx?: number | undefined;
}

export interface CodecHandler {
  /** Lower-case name: `vp8`, `h264`, `opus`, or `null` (any other codec: forwarded as is). */
  readonly name: string;
  /**
   * Reads `buf[offset, offset + length)` (a non-empty payload) into `facts`. False = malformed: the packet
   * is dropped. Never throws, allocates nothing per packet (a keyframe's size excepted).
   */
  inspect(buf: Uint8Array, offset: number, length: number, facts: PayloadFacts): boolean;
  /** The subscriber codec that carries a stream of `publisher` (undefined: the subscriber cannot take it). */
  pick(publisher: NegotiatedCodec, subscriber: readonly NegotiatedCodec[]): NegotiatedCodec | undefined;
  /**
   * Rewrites, for one subscriber, the copy of a packet's payload at `buf[offset…]` (the subscriber's packet,
   * built in memory of its own — media/sentPackets.ts; the publisher's bytes are never written). `facts` are
   * the packet's, as `inspect` left them. Allocates nothing.
   */
  rewrite(buf: Buffer, offset: number, facts: PayloadFacts, r: PayloadRewrite): void;
}

/** A `key=value;…` fmtp parameter (undefined when absent). */
export function fmtpValue(params: string | undefined, key: string): string | undefined {
  if (params === undefined) {
    return undefined;
  }
  for (const p of params.split(';')) {
    const [k, v] = p.trim().split('=');
    if (k === key) {
      return v;
    }
  }
  return undefined;
}

/** The first subscriber codec of the same MIME type (case-insensitive). */
export function sameMime(
  publisher: NegotiatedCodec,
  subscriber: readonly NegotiatedCodec[],
): NegotiatedCodec[] {
  const mime = publisher.mimeType.toLowerCase();
  return subscriber.filter((c) => c.mimeType.toLowerCase() === mime);
}

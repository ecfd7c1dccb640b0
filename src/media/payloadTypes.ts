/**
 * The payload type a receiver's negotiated codec list gives each publisher codec (the codec's handler picks,
 * media/codec/handler.ts), remembered for that list: a down track (to a subscriber) and a trunk send (to a
 * remote focus) ask per packet, and the answer changes only when negotiation hands over another list. The
 * codec asked last is answered without a lookup (a track's packets almost always share one codec); another is
 * found in a map; only a codec not seen with this list makes the handler pick. Allocates only then.
 */
import type { NegotiatedCodec } from './codec/handler.js';
import type { TrackCodec } from './track.js';

export class PayloadTypes {
  #src: readonly NegotiatedCodec[] | undefined;
  /** Per codec: its payload type, -1 where the list has none that carries it. */
  #byCodec = new Map<TrackCodec, number>();
  #lastCodec: TrackCodec | undefined;
  #lastPt = -1;

  /** The payload type `src` gives `codec`, or undefined when it cannot carry it. */
  of(codec: TrackCodec, src: readonly NegotiatedCodec[]): number | undefined {
    if (src !== this.#src) {
      this.#src = src;
      this.#byCodec = new Map();
      this.#lastCodec = undefined;
    }
    let pt: number;
    if (codec === this.#lastCodec) {
      pt = this.#lastPt;
    } else {
      let found = this.#byCodec.get(codec);
      if (found === undefined) {
        found = codec.handler.pick(codec, src)?.payloadType ?? -1;
        this.#byCodec.set(codec, found);
      }
      pt = found;
      this.#lastCodec = codec;
      this.#lastPt = pt;
    }
    return pt < 0 ? undefined : pt;
  }
}

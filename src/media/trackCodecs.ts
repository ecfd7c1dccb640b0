/**
 * The negotiated codecs of a published track's m-line, by payload type, each with its codec handler chosen once
 * per codec list (re-read only when werift replaces the list on renegotiation); with them, whether the m-line
 * negotiated generic NACK (`a=rtcp-fb:<pt> nack`, or loss is always tracked: a link's trunk) and the
 * publisher's audio level extension id (-1: none). Read per packet; cheap when nothing changed.
 */
import { EXT_URI } from '../rtp/headerExtensions.js';
import { chooseCodecHandler } from './codec/chooser.js';
import type { PublisherCodec, TrackCodec } from './track.js';

type Extensions = readonly { uri: string; id: number }[];

export class TrackCodecs {
  readonly #codecs: () => readonly PublisherCodec[];
  readonly #extensions: () => Extensions;
  readonly #nackAlways: boolean;
  #codecSrc: readonly PublisherCodec[] | undefined;
  #byPt = new Map<number, TrackCodec>();
  #extSrc: Extensions | undefined;
  /** Whether losses are tracked (and NACKed) on this m-line. */
  nackOk = false;
  /** The RFC 6464 audio level extension id, -1 when not negotiated. */
  audioLevelId = -1;

  constructor(codecs: () => readonly PublisherCodec[], extensions: () => Extensions, nackAlways: boolean) {
    this.#codecs = codecs;
    this.#extensions = extensions;
    this.#nackAlways = nackAlways;
  }

  /** The codec of a payload type (and `nackOk`, `audioLevelId` brought up to date). */
  get(pt: number): TrackCodec | undefined {
    const src = this.#codecs();
    if (src !== this.#codecSrc) {
      this.#codecSrc = src;
      this.#byPt = new Map(
        src.map((c) => [c.payloadType, { ...c, handler: chooseCodecHandler(c.mimeType) }]),
      );
      const c = src[0] as
        (PublisherCodec & { rtcpFeedback?: readonly { type: string; parameter?: string }[] }) | undefined;
      this.nackOk =
        this.#nackAlways ||
        (c?.rtcpFeedback?.some((f) => f.type === 'nack' && (f.parameter ?? '') === '') ?? false);
    }
    const ext = this.#extensions();
    if (ext !== this.#extSrc) {
      this.#extSrc = ext;
      this.audioLevelId = ext.find((e) => e.uri === EXT_URI.audioLevel)?.id ?? -1;
    }
    return this.#byPt.get(pt);
  }
}

/**
 * The ingest demux of one RTP session (one DTLS transport): every decrypted RTP packet enters here as bytes,
 * is read through one re-pointed RtpPacketView, and goes to the target its SSRC is routed to. Routes come
 * from three places:
 * - announced: `announce(ssrc, target, rid)` (a link's trunk SSRCs, protocol.md §8.2), no SDP needed;
 * - signalled: the `a=ssrc` lines of a receiving m-line (`bind`);
 * - learned: the first packet of an unknown SSRC that carries the MID (RFC 8843) or RID (RFC 8852) header
 *   extension of a bound m-line; a later RID on a known SSRC re-learns it (a layer's encoder restarted).
 * A packet that is not RTP is counted `malformed`, one with no route `unknown_stream`. This is the one place
 * packets reach the published tracks, so a faster receive path feeds `receive` and nothing else changes.
 * No werift here; never throws.
 */
import type { Logger } from 'pino';
import { RtpPacketView } from '../rtp/packetView.js';
import { toError } from '../util/errors.js';
import type { MediaCounters } from './mediaMetrics.js';
import { turnEnd } from './turnEnd.js';

/** What the ingest tells after each packet's forwarding (turnEnd.ts: queued sends leave if held too long). */
export interface Settle {
  settle(): void;
}

/** What the ingest delivers one SSRC's packets to (a published track). The view is valid during the call. */
export interface IngestTarget {
  handle(view: RtpPacketView, rid: string | undefined): void;
  /** Whether a packet still encrypted may be dropped unread (counted by the target when so; layerSkip.ts). */
  skip?(view: RtpPacketView, overhead: number): boolean;
}

export interface IngestRoute {
  readonly target: IngestTarget;
  readonly rid: string | undefined;
  readonly origin: 'announced' | 'signalled' | 'learned';
}

interface Route extends IngestRoute {
  /** The RID as bytes, to compare with a packet's RID element without decoding it. */
  readonly ridBytes: Uint8Array | undefined;
}

/** Bound on the routes of one session (a layer's old SSRC is forgotten when it re-learns anyway). */
export const MAX_ROUTES = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class IngestDemux {
  readonly #counters: MediaCounters;
  readonly #log: Logger;
  readonly #view = new RtpPacketView();
  readonly #routes = new Map<number, Route>();
  readonly #byMid = new Map<string, IngestTarget>();
  readonly #byRid = new Map<string, IngestTarget>();
  #midId = -1;
  #ridId = -1;
  readonly #maxRoutes: number;
  #full = false;
  #targetErrors = 0;
  readonly #turn: Settle;

  /**
   * `maxRoutes`: a link's ingest takes more (every relayed track's layers, protocol.md §8.2); `turn`: told after
   * each forwarded packet (default the process's turn end).
   */
  constructor(counters: MediaCounters, log: Logger, maxRoutes: number = MAX_ROUTES, turn: Settle = turnEnd) {
    this.#counters = counters;
    this.#log = log;
    this.#maxRoutes = maxRoutes;
    this.#turn = turn;
  }

  /** The session's negotiated MID and RID extension ids (undefined: not negotiated, nothing learned by it). */
  setExtensionIds(midId: number | undefined, ridId: number | undefined): void {
    this.#midId = midId ?? -1;
    this.#ridId = ridId ?? -1;
  }

  /**
   * A receiving m-line: packets with its MID (or one of its RIDs) are learned for `target`, its signalled
   * SSRCs routed at once. Binding again (renegotiation) adds what is new.
   */
  bind(mid: string, target: IngestTarget, rids: readonly string[], ssrcs: readonly number[]): void {
    this.#byMid.set(mid, target);
    for (const rid of rids) {
      this.#byRid.set(rid, target);
    }
    for (const ssrc of ssrcs) {
      if (!this.#routes.has(ssrc)) {
        this.#add(ssrc, { target, rid: undefined, ridBytes: undefined, origin: 'signalled' });
      }
    }
  }

  /** Forgets a target (its m-line stopped sending): its MID, RIDs and routes. */
  unbind(target: IngestTarget): void {
    for (const [k, t] of this.#byMid) {
      if (t === target) {
        this.#byMid.delete(k);
      }
    }
    for (const [k, t] of this.#byRid) {
      if (t === target) {
        this.#byRid.delete(k);
      }
    }
    for (const [ssrc, r] of this.#routes) {
      if (r.target === target) {
        this.#routes.delete(ssrc);
      }
    }
  }

  /** Routes `ssrc` to `target` (as layer `rid`) without any SDP or header extension (e.g. a trunk SSRC). */
  announce(ssrc: number, target: IngestTarget, rid?: string): void {
    this.#routes.delete(ssrc >>> 0);
    this.#add(ssrc >>> 0, {
      target,
      rid,
      ridBytes: rid === undefined ? undefined : encoder.encode(rid),
      origin: 'announced',
    });
  }

  forget(ssrc: number): void {
    this.#routes.delete(ssrc >>> 0);
  }

  route(ssrc: number): IngestRoute | undefined {
    return this.#routes.get(ssrc >>> 0);
  }

  get routeCount(): number {
    return this.#routes.size;
  }

  /**
   * One decrypted RTP packet, `buf[offset, offset + length)`. Never throws. The bytes must not change until
   * the sends it queued have left at the turn's end (turnEnd.ts): a subscriber copies the payload into its
   * retransmission slot at once, but the trunk queue encrypts from it only then (and keeps its own copy for
   * resends). werift decrypts into a fresh buffer per packet; the batched receive path (udpReceive.ts) never
   * writes a slab twice.
   */
  receive(buf: Uint8Array, offset = 0, length: number = buf.length - offset): void {
    const v = this.#view;
    if (!v.reset(buf, offset, length)) {
      this.#counters.drop('malformed');
      return;
    }
    let r = this.#routes.get(v.ssrc);
    if (r === undefined || (r.origin !== 'announced' && this.#ridChanged(v, r))) {
      r = this.#learn(v);
    }
    if (r === undefined) {
      this.#counters.drop('unknown_stream');
      return;
    }
    try {
      r.target.handle(v, r.rid);
    } catch (e) {
      // Logged once per session: a target's bug must not flood the log per packet.
      if (this.#targetErrors++ === 0) {
        this.#log.error({ err: toError(e), ssrc: v.ssrc }, 'forwarding failed for a packet');
      }
    }
    this.#turn.settle();
  }

  /**
   * Before decryption: whether the SRTP packet `data` (its header in the clear, `overhead` bytes of tag at the
   * end) may be dropped unread — a known route whose target says so (an unwatched simulcast layer, layerSkip.ts).
   * Anything unusual (not RTP-shaped, no route, a RID change to learn) is decrypted as usual. Never throws.
   */
  skip(data: Uint8Array, overhead: number): boolean {
    const v = this.#view;
    if (!v.reset(data, 0, data.length)) {
      return false;
    }
    const r = this.#routes.get(v.ssrc);
    if (r?.target.skip === undefined || (r.origin !== 'announced' && this.#ridChanged(v, r))) {
      return false;
    }
    try {
      return r.target.skip(v, overhead);
    } catch {
      return false;
    }
  }

  /** The packet carries a RID other than its route's (one walk of the extensions, no allocation). */
  #ridChanged(v: RtpPacketView, r: Route): boolean {
    const at = this.#ridId > 0 ? v.extension(this.#ridId) : -1;
    if (at < 0) {
      return false;
    }
    const want = r.ridBytes;
    if (want === undefined || want.length !== v.foundLength) {
      return true;
    }
    const buf = v.buffer;
    for (let i = 0; i < want.length; i++) {
      if (buf[at + i] !== want[i]) {
        return true;
      }
    }
    return false;
  }

  /** A route from the packet's MID / RID elements (then the layer's previous SSRC is forgotten). */
  #learn(v: RtpPacketView): Route | undefined {
    const mid = this.#midId > 0 ? this.#text(v, this.#midId) : undefined;
    const rid = this.#ridId > 0 ? this.#text(v, this.#ridId) : undefined;
    const target =
      (mid === undefined ? undefined : this.#byMid.get(mid)) ??
      (rid === undefined ? undefined : this.#byRid.get(rid));
    if (target === undefined) {
      return this.#routes.get(v.ssrc); // no usable MID/RID: keep what routed it before, if anything
    }
    for (const [ssrc, r] of this.#routes) {
      if (r.origin === 'learned' && r.target === target && r.rid === rid) {
        this.#routes.delete(ssrc);
      }
    }
    const route: Route = {
      target,
      rid,
      ridBytes: rid === undefined ? undefined : encoder.encode(rid),
      origin: 'learned',
    };
    this.#routes.delete(v.ssrc);
    return this.#add(v.ssrc, route) ? route : undefined;
  }

  #text(v: RtpPacketView, id: number): string | undefined {
    const at = v.extension(id);
    if (at < 0 || v.foundLength === 0) {
      return undefined;
    }
    return decoder.decode(v.buffer.subarray(at, at + v.foundLength));
  }

  #add(ssrc: number, r: Route): boolean {
    if (this.#routes.size >= this.#maxRoutes) {
      if (!this.#full) {
        this.#full = true;
        this.#log.warn(
          { ssrc, max: this.#maxRoutes },
          'too many RTP streams on one connection; new ones dropped',
        );
      }
      return false;
    }
    this.#routes.set(ssrc, r);
    return true;
  }
}

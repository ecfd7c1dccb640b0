/**
 * The data-channel operations of one conference (protocol.md §5.2), both dialects: subscribe / unsubscribe /
 * track_subscription, publish / offer / B negotiate offer (client offers, with glare handling of §5.4),
 * unpublish, answer, metadata, alive and connect; replies `ack` / `error` with the errcodes of §5.3. Messages
 * arrive parsed (DcChannel) and run on the conference's queue, one at a time in arrival order.
 */
import { mergeMetadata } from '../protocol/dc/metadata.js';
import type { DcMessage, StreamMetadata } from '../protocol/dc/types.js';
import { toError } from '../util/errors.js';
import { FloodBound } from '../util/floodBound.js';
import { TokenBucket } from '../util/rateLimiter.js';
import type { ConferenceCore } from './core.js';
import type { SubscribeRequest, TrackRef } from './router.js';
import type { Session } from './session.js';
import { floodHangup } from './sessionWiring.js';

/**
 * Client renegotiations (offer, publish, unpublish with SDP) per session: `limits.renegotiations_per_second`
 * (default 1) in bursts of OFFER_BURST_SECONDS' worth, at least OFFER_BURST. Refused offers pile up in a
 * FloodBound: past FLOOD_FACTOR × the burst (half the rate forgiven each second) the session is hung up — a
 * client offering twice as fast as allowed spends its burst, then piles up half an offer a second: hung up after
 * ≈ 45 s at the default (dcOps.test.ts); a flood at once.
 */
export const OFFER_BURST = 5;
export const OFFERS_PER_SECOND = 1;
const OFFER_BURST_SECONDS = 5;
export const FLOOD_FACTOR = 4;

interface OfferBudget {
  bucket: TokenBucket;
  flood: FloodBound;
}

export class DcOps {
  readonly #c: ConferenceCore;
  /** Each session's renegotiation budget (protocol.md §5.4): an SDP offer is the costliest thing a client asks. */
  readonly #offers = new WeakMap<Session, OfferBudget>();

  constructor(core: ConferenceCore) {
    this.#c = core;
  }

  async handle(s: Session, msg: DcMessage): Promise<void> {
    const dc = s.dc;
    if (s.state === 'closed' || dc === undefined) {
      return;
    }
    switch (msg.kind) {
      case 'alive':
        dc.ack(msg.id);
        return;
      case 'metadata':
        s.metadata = mergeMetadata(s.metadata, msg.metadata, {
          user_id: s.ids.userId,
          device_id: s.ids.deviceId,
        });
        dc.ack(msg.id);
        this.#c.broadcastMetadata(s);
        return;
      case 'connect':
        await this.#connect(s, msg.id, msg.foci);
        return;
      case 'subscribe':
        await this.#subscribe(s, msg.id, [], msg.tracks);
        return;
      case 'unsubscribe':
        await this.#subscribe(s, msg.id, msg.tracks, []);
        return;
      case 'track_subscription':
        await this.#subscribe(s, undefined, msg.unsubscribe, msg.subscribe);
        return;
      case 'publish':
      case 'offer':
        await this.#clientOffer(s, msg.id, msg.sdp, msg.metadata);
        return;
      case 'unpublish':
        dropPublished(s, msg.tracks);
        this.#c.router.unpublish(s, msg.tracks);
        if (msg.sdp !== undefined) {
          await this.#clientOffer(s, msg.id, msg.sdp, undefined);
        } else {
          dc.ack(msg.id);
          this.#c.broadcastMetadata(s);
          await this.#c.router.prune();
        }
        return;
      case 'answer':
        await this.#answer(s, msg.id, msg.sdp);
        return;
      case 'ack':
      case 'ping':
      case 'error':
      case 'active_speaker':
        // Server-to-client kinds: the parser refuses them from clients.
        return;
    }
  }

  /**
   * §5.2 `connect`, §8.1: each focus must be named by a live member of the conference (else `M_FORBIDDEN`) and
   * fit within `cascade.max_links` (else `M_LIMIT_EXCEEDED`); the others are invited at once (an existing link,
   * or this focus itself, is a no-op). `ack` once the invites are sent, else `error` naming the refused foci.
   */
  async #connect(
    s: Session,
    id: string | undefined,
    foci: readonly { user_id: string; device_id: string }[],
  ): Promise<void> {
    const results = await this.#c.links.connect(foci);
    const refused = results.flatMap((r) => (r.outcome === 'refused' ? [r] : []));
    const failed = results.filter((r) => r.outcome === 'failed');
    const errcode = refused.some((r) => r.errcode === 'M_FORBIDDEN') ? 'M_FORBIDDEN' : 'M_LIMIT_EXCEEDED';
    const named = (code: string): string =>
      refused
        .filter((r) => r.errcode === code)
        .map((r) => `${r.focus.userId}/${r.focus.deviceId}`)
        .join(', ');
    if (refused.length === 0 && failed.length === 0) {
      s.dc?.ack(id);
    } else if (refused.length === 0) {
      const list = failed.map((r) => `${r.focus.userId}/${r.focus.deviceId}`).join(', ');
      s.dc?.error(id, 'M_UNKNOWN', `the link invite to ${list} could not be sent`);
    } else if (errcode === 'M_FORBIDDEN') {
      s.dc?.error(id, errcode, `no live member of this conference names ${named('M_FORBIDDEN')}`);
    } else {
      s.dc?.error(id, errcode, `no link left within cascade.max_links for ${named('M_LIMIT_EXCEEDED')}`);
    }
  }

  /** Applies unsubscribes, then subscribes (§5.2); acks or reports the failed entries; offers if m-lines changed. */
  async #subscribe(
    s: Session,
    id: string | undefined,
    stop: readonly TrackRef[],
    start: readonly SubscribeRequest[],
  ): Promise<void> {
    const dc = s.dc;
    if (dc === undefined) {
      return;
    }
    const r = this.#c.router.subscribe(s, stop, start);
    if (r.own.length > 0) {
      dc.error(id, 'M_INVALID_PARAM', 'cannot subscribe to your own tracks', r.own);
    } else if (r.notFound.length > 0) {
      dc.error(
        id,
        'M_NOT_FOUND',
        `unknown track ${r.notFound.map((f) => f.track_id).join(', ')}`,
        r.notFound,
      );
    } else {
      dc.ack(id);
    }
    if (r.changed) {
      await s.negotiator?.request();
    }
  }

  /** A client offer (publish, renegotiation, B negotiate): glare rollback, metadata first, answer, re-offer. */
  async #clientOffer(
    s: Session,
    id: string | undefined,
    sdp: string,
    metadata: StreamMetadata | undefined,
  ): Promise<void> {
    const dc = s.dc;
    const negotiator = s.negotiator;
    if (dc === undefined || negotiator === undefined) {
      return;
    }
    const { metrics, clock, limits } = this.#c.services;
    const now = clock.now();
    const rate = limits.renegotiations_per_second ?? OFFERS_PER_SECOND;
    const burst = Math.max(OFFER_BURST, rate * OFFER_BURST_SECONDS);
    let budget = this.#offers.get(s);
    if (budget === undefined) {
      budget = {
        bucket: new TokenBucket(rate, burst, now),
        flood: new FloodBound(FLOOD_FACTOR * burst, rate / 2, now),
      };
      this.#offers.set(s, budget);
    }
    if (!budget.bucket.take(now)) {
      metrics.renegotiation('client', 'rate_limited');
      if (budget.flood.refuse(now)) {
        floodHangup(this.#c, s, 'renegotiation');
        return;
      }
      if (!budget.flood.over) {
        dc.error(id, 'M_LIMIT_EXCEEDED', `too many renegotiations: ${burst} at once, then ${rate} a second`);
      }
      return;
    }
    const taken = this.#c.router.takenTrack(s, sdp);
    if (taken !== undefined) {
      dc.error(
        id,
        'M_INVALID_PARAM',
        `track ${taken.trackId} of stream ${taken.streamId} is already published by someone else`,
        [{ stream_id: taken.streamId, track_id: taken.trackId }],
      );
      return;
    }
    if (await negotiator.beforeClientOffer()) {
      metrics.renegotiation('sfu', 'rolled_back');
    }
    if (metadata !== undefined) {
      s.metadata = mergeMetadata(s.metadata, metadata, { user_id: s.ids.userId, device_id: s.ids.deviceId });
    }
    let answer: string;
    try {
      answer = await s.peer.answer(sdp);
    } catch (e) {
      this.#c.router.sync(s);
      metrics.renegotiation('client', 'failed');
      dc.error(id, 'M_INVALID_PARAM', `the offer could not be applied: ${toError(e).message}`);
      await negotiator.afterClientOffer();
      return;
    }
    this.#c.router.sync(s);
    metrics.renegotiation('client', 'answered');
    dc.send({
      kind: 'answer',
      ...(id !== undefined ? { id } : {}),
      sdp: answer,
      metadata: this.#c.metadataFor(s),
    });
    this.#c.broadcastMetadata(s);
    await this.#c.router.prune();
    await negotiator.afterClientOffer();
  }

  /** The client's answer to an SFU offer (§5.4: a late or stale one is refused in A, logged in B). */
  async #answer(s: Session, id: string | undefined, sdp: string): Promise<void> {
    const dc = s.dc;
    const negotiator = s.negotiator;
    if (dc === undefined || negotiator === undefined) {
      return;
    }
    const { metrics } = this.#c.services;
    let result;
    try {
      result = await negotiator.answer(id, sdp);
    } catch (e) {
      metrics.renegotiation('sfu', 'failed');
      dc.error(id, 'M_INVALID_PARAM', `the answer could not be applied: ${toError(e).message}`);
      return;
    }
    if (result === 'applied') {
      metrics.renegotiation('sfu', 'answered');
    } else if (dc.dialect === 'A') {
      dc.error(
        id,
        'M_INVALID_PARAM',
        result === 'no_offer' ? 'no SFU offer is pending' : 'answer to a stale offer',
      );
    } else {
      this.#c.log.debug({ ...s.logFields, result }, 'late answer discarded');
    }
  }
}

/** Removes stopped tracks from a publisher's metadata (unpublish). */
function dropPublished(s: Session, tracks: readonly TrackRef[]): void {
  const next: StreamMetadata = structuredClone(s.metadata);
  for (const t of tracks) {
    const stream = next[t.streamId];
    if (stream?.tracks !== undefined) {
      Reflect.deleteProperty(stream.tracks, t.trackId);
      if (Object.keys(stream.tracks).length === 0) {
        Reflect.deleteProperty(next, t.streamId);
      }
    }
  }
  s.metadata = next;
}

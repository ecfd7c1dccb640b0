/**
 * The media routing of one link (protocol.md §8.2–§8.5, §8.8): one LinkRelay per remote focus, created and
 * driven by links.ts through {@link LinkRelayPort}, outliving the calls that carry it.
 *
 * - Out: link metadata of this focus's LOCAL publishers only (linkMetadataOut.ts, stable trunk SSRCs from
 *   trunkSsrcs.ts), sent when the channel opens and whenever it changes (checked on `localChanged` and every
 *   tick, since layer sizes become known as keyframes arrive); the remote's `subscribe`/`unsubscribe` become
 *   trunk sends (linkSends.ts); the peer's `layers` event is announced at once (§8.5).
 * - In: the remote's metadata becomes relayed publications after the membership and collision checks
 *   (linkInbound.ts), re-checked every tick; `layers` from the remote reach the peer (`setRemoteSending`).
 * - Demand: every tick, the peer's demand diffed against what was sent (linkDemand.ts).
 * Nothing received on a link is ever announced or sent on a link (§8.4): the metadata and the sends come from
 * the router's local publications only.
 */
import type { LinkMessage } from '../protocol/dc/linkTypes.js';
import { linkMetadataOut, type LinkMetadataOut } from './linkMetadataOut.js';
import { LinkDemand } from './linkDemand.js';
import { LinkInbound, type InboundRouter } from './linkInbound.js';
import type { LinkPeerPort } from './linkPorts.js';
import type { LinkRelayDeps, LinkRelayPort } from './linkRelayTypes.js';
import { LinkSends } from './linkSends.js';
import type { LocalPublisher } from './router.js';
import { TrunkSsrcs } from './trunkSsrcs.js';

/** What a relay needs of the conference's router (Router implements it). */
export interface LinkRelayRouter extends InboundRouter {
  localPublishers(): LocalPublisher[];
}

export interface LinkRelayOptions {
  /** Draws trunk SSRCs (tests); default crypto-random. */
  random?: () => number;
}

/** A relay's counters (for the link's metrics and logs). */
export interface LinkRelayCounts {
  /** Relayed streams refused: no live membership names the remote focus for their member (§8.1). */
  forbidden: number;
  /** Relayed tracks refused: already published here (§8.8). */
  collisions: number;
  /** Remote `subscribe` entries refused (unknown track or layers). */
  refusedSubscribes: number;
}

export class LinkRelay implements LinkRelayPort {
  readonly #d: LinkRelayDeps;
  readonly #router: LinkRelayRouter;
  readonly #ssrcs: TrunkSsrcs;
  readonly #inbound: LinkInbound;
  readonly #sends: LinkSends;
  readonly #demand: LinkDemand;
  #peer: LinkPeerPort | undefined;
  #open = false;
  #closed = false;
  #out: LinkMetadataOut | undefined;
  /** The metadata text last sent on the current channel. */
  #sentMetadata: string | undefined;
  #droppedLogged = false;
  /** A relink adopted relayed sources: keyframes are requested once the new call's channel opens (§8.7). */
  #rebound = false;
  /** Remote errcodes already logged at warn level (a flood of errors is logged once per errcode). */
  readonly #loggedErrors = new Set<string>();

  constructor(deps: LinkRelayDeps, router: LinkRelayRouter, opts: LinkRelayOptions = {}) {
    this.#d = deps;
    this.#router = router;
    this.#ssrcs = new TrunkSsrcs(opts.random);
    this.#inbound = new LinkInbound({ ...deps, router });
    this.#sends = new LinkSends({
      log: deps.log,
      send: (m) => {
        this.#send(m);
      },
    });
    this.#demand = new LinkDemand(deps.keepLowestLayer, deps.maxListEntries);
  }

  get expecting(): boolean {
    return !this.#closed && (this.#demand.demanded > 0 || this.#sends.size > 0);
  }

  get counts(): LinkRelayCounts {
    return {
      forbidden: this.#inbound.forbiddenCount,
      collisions: this.#inbound.collisionCount,
      refusedSubscribes: this.#sends.refused,
    };
  }

  #send(msg: LinkMessage): void {
    if (!this.#closed) {
      this.#d.send(msg);
    }
  }

  attach(peer: LinkPeerPort): void {
    if (this.#closed || peer === this.#peer) {
      return;
    }
    const old = this.#peer;
    this.#peer = peer;
    this.#open = false;
    this.#sentMetadata = undefined;
    this.#demand.reset();
    this.#sends.forget();
    if (old !== undefined) {
      peer.adoptRelayed(old);
      this.#rebound = true;
    }
    peer.on('layers', (e) => {
      if (this.#peer === peer && !this.#closed) {
        this.#send({
          kind: 'layers',
          tracks: [{ streamId: e.streamId, trackId: e.trackId, sending: [...e.sending] }],
        });
      }
    });
    if (this.#inbound.tracks().length > 0) {
      this.#inbound.apply(peer); // re-announce: the adopted sources rebind on this peer
    }
  }

  opened(): void {
    if (this.#closed || this.#peer === undefined) {
      return;
    }
    this.#open = true;
    this.#sentMetadata = undefined;
    this.#demand.reset();
    this.#publishLocal();
    this.#stepDemand(this.#d.clock.now());
    if (this.#rebound) {
      this.#rebound = false;
      if (this.#inbound.tracks().length > 0) {
        this.#peer.requestKeyframes();
      }
    }
  }

  handle(msg: LinkMessage): void {
    if (this.#closed) {
      return;
    }
    const peer = this.#peer;
    switch (msg.kind) {
      case 'metadata':
        this.#inbound.metadata(peer, msg.metadata, this.#d.clock.now());
        return;
      case 'subscribe':
        if (peer !== undefined) {
          this.#sends.subscribe(peer, this.#local().plans, msg.id, msg.tracks);
        }
        return;
      case 'unsubscribe':
        this.#sends.unsubscribe(msg.id, msg.tracks);
        return;
      case 'layers':
        for (const t of msg.tracks) {
          if (this.#inbound.accepts(t.streamId, t.trackId)) {
            peer?.setRemoteSending(t.streamId, t.trackId, t.sending);
          }
        }
        return;
      case 'error':
        if (this.#loggedErrors.has(msg.errcode)) {
          return;
        }
        this.#loggedErrors.add(msg.errcode);
        this.#d.log.warn(
          { remote: this.#d.linkKey, errcode: msg.errcode, error: msg.error, failed: msg.failed },
          'the remote focus refused a link request (logged once per errcode)',
        );
        return;
      case 'ack':
      case 'alive':
      case 'offer':
      case 'answer':
        return; // acks need no action; alive and negotiation belong to the link call (links.ts)
    }
  }

  localChanged(): void {
    if (!this.#closed) {
      this.#out = undefined;
      this.#publishLocal();
    }
  }

  tick(now: number): void {
    if (this.#closed) {
      return;
    }
    this.#out = undefined;
    this.#publishLocal();
    this.#inbound.evaluate(this.#peer, now);
    this.#stepDemand(now);
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#sends.closeAll();
    this.#inbound.clear();
    this.#closed = true;
    this.#open = false;
  }

  /** The current local metadata and trunk plans (computed once per change round). */
  #local(): LinkMetadataOut {
    this.#out ??= linkMetadataOut(this.#router.localPublishers(), this.#ssrcs, this.#d.maxListEntries);
    if (this.#out.dropped > 0 && !this.#droppedLogged) {
      this.#droppedLogged = true;
      this.#d.log.warn(
        { remote: this.#d.linkKey, dropped: this.#out.dropped, max: this.#d.maxListEntries },
        'link metadata is full: some local tracks are not offered on the link',
      );
    }
    return this.#out;
  }

  /** Sends the local metadata when it changed; closes or restarts trunk sends of changed local tracks. */
  #publishLocal(): void {
    const out = this.#local();
    this.#sends.refresh(this.#peer, out.plans);
    if (!this.#open) {
      return;
    }
    const text = JSON.stringify(out.metadata);
    if (text !== this.#sentMetadata) {
      this.#sentMetadata = text;
      this.#send({ kind: 'metadata', metadata: out.metadata });
    }
  }

  #stepDemand(now: number): void {
    const peer = this.#peer;
    if (peer === undefined) {
      return;
    }
    for (const m of this.#demand.step(peer.demand(now), this.#inbound, this.#open)) {
      this.#d.log.debug({ demand: m }, 'link demand sent');
      this.#send(m);
    }
  }
}

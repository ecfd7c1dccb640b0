/**
 * The RemoteLinks of one conference (linkRemote.ts), by focus: created with their relay (built from the relay
 * factory with the conference's identity, oracle and limits), forgotten once idle (the conference may then
 * close), and ticked every 200 ms while any exists (relay tick, media and demand sampling, liveness deadlines).
 * Runs on the conference's queue.
 */
import type { TimerHandle } from '../util/clock.js';
import type { SessionRef } from './conferencePorts.js';
import { focusKey, type FocusId } from './focusId.js';
import type { LinkCall } from './linkCall.js';
import { linkLivenessConfig } from './linkLiveness.js';
import type { LinkState, LinkView } from './linkPolicyTypes.js';
import type { LinkStats, RelayedDemand, TrunkSendStatus } from './linkPorts.js';
import type { LinkRelayDeps } from './linkRelayTypes.js';
import { RemoteLink, type RemoteLinkOwner } from './linkRemote.js';
import type { LinkConference } from './links.js';

/** Period of the relay tick, media and demand sampling while links exist. */
export const LINK_TICK_MS = 200;

export interface LinkSnapshot {
  readonly remote: FocusId;
  readonly state: LinkState;
  readonly stats: LinkStats;
  readonly bitrate: { in: number; out: number };
  /** This focus's tracks sent on the trunk: demanded and sent layers. */
  readonly sends: readonly TrunkSendStatus[];
  /** What this focus demands of the remote's relayed tracks (the §8.3 union with its hold). */
  readonly demand: readonly RelayedDemand[];
}

export class RemoteLinks {
  readonly #c: LinkConference;
  readonly #owner: Pick<RemoteLinkOwner, 'iceRestart' | 'relink'>;
  readonly #map = new Map<string, RemoteLink>();
  #ticker: TimerHandle | undefined;
  #closed = false;

  constructor(c: LinkConference, owner: Pick<RemoteLinkOwner, 'iceRestart' | 'relink'>) {
    this.#c = c;
    this.#owner = owner;
  }

  get size(): number {
    return this.#map.size;
  }

  get(remote: FocusId): RemoteLink | undefined {
    return this.#map.get(focusKey(remote));
  }

  values(): RemoteLink[] {
    return [...this.#map.values()];
  }

  getOrCreate(remote: FocusId): RemoteLink {
    const key = focusKey(remote);
    let r = this.#map.get(key);
    if (r === undefined) {
      const { cascade, relays, metrics } = this.#c.services;
      r = new RemoteLink(
        remote,
        linkLivenessConfig(cascade),
        {
          newRelay: (f) => relays.create(this.#relayDeps(f), this.#c.router),
          iceRestart: (call) => {
            this.#owner.iceRestart(call);
          },
          relink: (call, cause) => {
            this.#owner.relink(call, cause);
          },
          publicationsChanged: () => {
            this.#c.later('relayed publications removed', () => this.#c.publicationsChanged());
          },
          peerClosed: (stats) => {
            metrics.linkPeerClosed(stats.rtpIn, stats.rtpOut);
          },
        },
        this.#c.log,
      );
      this.#map.set(key, r);
    }
    return r;
  }

  /** The current call `ref` addresses (§4.2 addressing, sender_session_id "sfu"). */
  callOf(ref: SessionRef): LinkCall | undefined {
    const call = this.#map.get(focusKey({ userId: ref.userId, deviceId: ref.deviceId }))?.call;
    return call !== undefined && !call.closed && call.matches(ref) ? call : undefined;
  }

  /** The current calls, as the policy sees them. */
  views(): LinkView[] {
    return this.values().flatMap((r) => (r.call !== undefined && !r.call.closed ? [r.call.view] : []));
  }

  snapshot(): LinkSnapshot[] {
    const now = this.#c.services.clock.now();
    return this.values().flatMap((r) => {
      const call = r.call;
      if (call === undefined || call.closed) {
        return [];
      }
      const peer = call.peer;
      return [
        {
          remote: r.remote,
          state: call.phase,
          stats: peer.stats(),
          bitrate: r.bitrate,
          sends: peer.trunkSends(),
          demand: peer.demand(now),
        },
      ];
    });
  }

  /** Local publications changed: each relay re-sends its metadata if it changed. */
  localChanged(): void {
    for (const r of this.#map.values()) {
      r.relay.localChanged();
    }
  }

  /** Remote links with no call and nothing kept go; the last one stops the tick. */
  forgetIdle(): void {
    for (const [key, r] of this.#map) {
      if (r.idle) {
        r.close();
        this.#map.delete(key);
      }
    }
    if (this.#map.size === 0) {
      this.#ticker?.cancel();
      this.#ticker = undefined;
      this.#c.linksGone();
    }
  }

  startTicker(): void {
    if (this.#ticker !== undefined || this.#closed) {
      return;
    }
    const { clock } = this.#c.services;
    this.#ticker = clock.setTimeout(() => {
      this.#c.later('links tick', () => {
        if (this.#ticker === undefined) {
          return;
        }
        this.#ticker = undefined;
        const now = clock.now();
        for (const r of this.values()) {
          r.tick(now);
        }
        this.forgetIdle();
        if (this.#map.size > 0) {
          this.startTicker();
        }
      });
    }, LINK_TICK_MS);
  }

  /** Every remote link closed (relays and peers), the tick stopped; nothing is created afterwards. */
  close(): void {
    this.#closed = true;
    this.#ticker?.cancel();
    this.#ticker = undefined;
    for (const r of this.#map.values()) {
      r.close();
    }
    this.#map.clear();
  }

  #relayDeps(f: FocusId): LinkRelayDeps {
    const { cascade, oracle, clock, focus, limits } = this.#c.services;
    return {
      remote: f,
      linkKey: focusKey(f),
      roomId: this.#c.roomId,
      confId: this.#c.confId,
      self: { userId: focus.user_id, deviceId: focus.device_id },
      oracle,
      clock,
      log: this.#c.log.child({ link: focusKey(f) }),
      keepLowestLayer: cascade.keep_lowest_layer,
      maxListEntries: limits.max_tracks_per_subscribe,
      send: (msg) => {
        const current = this.#map.get(focusKey(f))?.call;
        if (current !== undefined && !current.closed) {
          current.send(msg);
        }
      },
      publicationsChanged: () => {
        this.#c.later('relayed publications changed', () => this.#c.publicationsChanged());
      },
    };
  }
}

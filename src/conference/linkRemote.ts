/**
 * Everything a conference keeps about ONE remote focus across the calls that carry its link (protocol.md §8.7):
 * the LinkLiveness fed with the call's events and the media it sees, the LinkRelay (relayed publications outlive
 * a call, so a relink rebinds them), the current call, and the peer of an ended call whose relayed sources wait
 * for the next call to adopt them. Carries out the liveness actions that concern the relay and the data channel;
 * the call-level ones (ICE restart, relink) go back to links.ts. Runs on the conference's queue.
 */
import type { Logger } from 'pino';
import { toError } from '../util/errors.js';
import type { FocusId } from './focusId.js';
import type { LinkCall } from './linkCall.js';
import {
  LinkLiveness,
  type LinkLivenessConfig,
  type LivenessAction,
  type LivenessEvent,
  type SuspendCause,
} from './linkLiveness.js';
import type { LinkPeerPort, LinkStats } from './linkPorts.js';
import type { LinkRelayPort } from './linkRelayTypes.js';

/** What a remote link hands back to links.ts. */
export interface RemoteLinkOwner {
  /** A new relay for this remote focus (the first one, or after the remote tracks were removed). */
  newRelay(remote: FocusId): LinkRelayPort;
  /** Liveness asks for an ICE-restart offer on `call` (initiator, §8.7). */
  iceRestart(call: LinkCall): void;
  /** Liveness gave up on `call`: hang up `ice_failed`, re-invite (§8.7). */
  relink(call: LinkCall, cause: SuspendCause): void;
  /** The relay's publications changed outside a relay callback (it was closed). */
  publicationsChanged(): void;
  /** A peer is closed for good: its final counters go into the totals. */
  peerClosed(stats: LinkStats): void;
}

export class RemoteLink {
  readonly remote: FocusId;
  readonly liveness: LinkLiveness;
  relay: LinkRelayPort;
  call: LinkCall | undefined;
  /** When liveness wants its next tick (ms); undefined: none. */
  deadline: number | undefined;
  /** The peer of an ended call, kept open while its relayed sources wait for the next call. */
  #retired: LinkPeerPort | undefined;
  #lastMediaSeen: number | undefined;
  #expecting = false;
  #rateAt: number | undefined;
  #rateBytes = { in: 0, out: 0 };
  /** Bit/s over the last second or so, in and out. */
  bitrate = { in: 0, out: 0 };
  readonly #owner: RemoteLinkOwner;
  readonly #log: Logger;

  constructor(remote: FocusId, cfg: LinkLivenessConfig, owner: RemoteLinkOwner, log: Logger) {
    this.remote = remote;
    this.liveness = new LinkLiveness(cfg);
    this.#owner = owner;
    this.#log = log;
    this.relay = owner.newRelay(remote);
  }

  /** No call, no kept tracks: the remote link can go. */
  get idle(): boolean {
    return this.call === undefined && this.liveness.state === 'idle';
  }

  /** A new call (ours or theirs) takes over the link: the relay's publications move to its peer. */
  begin(call: LinkCall, event: 'call' | 'replaced', now: number): void {
    this.call = call;
    this.#lastMediaSeen = undefined;
    this.#rateAt = undefined;
    this.relay.attach(call.peer);
    this.#closeRetired();
    this.feed(
      event === 'call'
        ? { kind: 'call', callId: call.callId, initiator: call.initiator === 'self' }
        : { kind: 'replaced', callId: call.callId },
      now,
    );
  }

  /** `call` is over: its peer is kept while its relayed sources may still be adopted, else closed. */
  detach(call: LinkCall): void {
    if (this.call === call) {
      this.call = undefined;
      this.#closeRetired();
      this.#retired = call.peer;
    } else {
      this.#closePeer(call.peer);
    }
  }

  /** One liveness event; its actions carried out. */
  feed(event: LivenessEvent, now: number): void {
    const r = this.liveness.handle(event, now);
    this.deadline = r.deadline;
    for (const a of r.actions) {
      this.#act(a);
    }
  }

  /** Every 200 ms: media seen, demand, the relay's own tick, liveness deadline, bitrate. */
  tick(now: number): void {
    const call = this.call;
    if (call !== undefined && !call.closed) {
      const stats = call.peer.stats();
      if (stats.lastMediaAt !== undefined && stats.lastMediaAt !== this.#lastMediaSeen) {
        this.#lastMediaSeen = stats.lastMediaAt;
        this.feed({ kind: 'media' }, now);
      }
      this.#rate(stats, now);
    } else {
      this.bitrate = { in: 0, out: 0 };
    }
    this.relay.tick(now);
    const expecting = this.relay.expecting;
    if (expecting !== this.#expecting) {
      this.#expecting = expecting;
      this.feed({ kind: 'demand', expecting }, now);
    }
    if (this.deadline !== undefined && now >= this.deadline) {
      this.feed({ kind: 'tick' }, now);
    }
  }

  /** Everything goes: relay closed, peers closed (teardown or shutdown). */
  close(): void {
    this.relay.close();
    this.#closeRetired();
    if (this.call !== undefined) {
      this.#closePeer(this.call.peer);
      this.call = undefined;
    }
  }

  #act(a: LivenessAction): void {
    const call = this.call;
    const current =
      call !== undefined && !call.closed && 'callId' in a && call.callId === a.callId ? call : undefined;
    switch (a.kind) {
      case 'send_alive':
        current?.send({ kind: 'alive' });
        return;
      case 'suspend':
        if (current !== undefined) {
          current.phase = 'suspended';
        }
        this.#log.warn({ remote: this.remote, callId: a.callId, cause: a.cause }, 'link suspended');
        return;
      case 'resume':
        if (current !== undefined) {
          current.phase = 'connected';
          current.peer.requestKeyframes();
        }
        this.#log.info({ remote: this.remote, callId: a.callId }, 'link resumed');
        return;
      case 'ice_restart':
        if (current !== undefined) {
          this.#owner.iceRestart(current);
        }
        return;
      case 'relink':
        if (current !== undefined) {
          this.#owner.relink(current, a.cause);
        }
        return;
      case 'rebind_tracks':
        current?.peer.requestKeyframes();
        return;
      case 'send_demand':
        this.relay.opened();
        return;
      case 'remove_remote_tracks':
        this.relay.close();
        this.#closeRetired();
        this.relay = this.#owner.newRelay(this.remote);
        if (call !== undefined && !call.closed) {
          this.relay.attach(call.peer);
        }
        this.#owner.publicationsChanged();
        return;
    }
  }

  #rate(stats: LinkStats, now: number): void {
    if (this.#rateAt === undefined) {
      this.#rateAt = now;
      this.#rateBytes = { in: stats.bytesIn, out: stats.bytesOut };
      return;
    }
    const dt = now - this.#rateAt;
    if (dt < 1000) {
      return;
    }
    this.bitrate = {
      in: Math.max(0, ((stats.bytesIn - this.#rateBytes.in) * 8000) / dt),
      out: Math.max(0, ((stats.bytesOut - this.#rateBytes.out) * 8000) / dt),
    };
    this.#rateAt = now;
    this.#rateBytes = { in: stats.bytesIn, out: stats.bytesOut };
  }

  #closeRetired(): void {
    const old = this.#retired;
    this.#retired = undefined;
    if (old !== undefined) {
      this.#closePeer(old);
    }
  }

  #closePeer(peer: LinkPeerPort): void {
    try {
      this.#owner.peerClosed(peer.stats());
    } catch (e) {
      this.#log.debug({ err: toError(e).message }, 'link stats unavailable at close');
    }
    peer.close().catch((e: unknown) => {
      this.#log.warn({ err: toError(e).message }, 'link peer close failed');
    });
  }
}

/**
 * The receiving side of a link (protocol.md §8.1, §8.2, §8.8): the remote focus's link metadata becomes relayed
 * publications. Each stream's `(user_id, device_id)` must have a live membership of this conference naming the
 * REMOTE focus, else the stream is dropped, counted and refused once with `error` `M_FORBIDDEN`; a track some
 * local session publishes or another link relays is dropped, counted and refused once with `M_INVALID_PARAM`.
 * The accepted set goes to the link peer (`setRemoteTracks`) and to the router (`setRelayed`). The last
 * metadata is re-evaluated on every tick, so a stream whose membership stops naming the remote focus goes within
 * one tick, and one whose membership arrives later (or whose collision ends) comes in. Runs on the queue.
 */
import type { Logger } from 'pino';
import type { LinkMessage } from '../protocol/dc/linkTypes.js';
import { collisionError } from '../protocol/dc/linkChecks.js';
import type { FailedTrack, StreamInfo, StreamMetadata } from '../protocol/dc/types.js';
import type { FocusId } from './focusId.js';
import type { LinkPeerPort, RemoteTrunkTrack } from './linkPorts.js';
import type { MembershipOracle } from './ports.js';
import type { RelayedPublisher, RelayedTrack } from './relayedPublications.js';
import type { TrackRef } from './router.js';
import { trackKey } from './session.js';

/** What the receiving side needs of the router. */
export interface InboundRouter {
  relayable(link: string, streamId: string, trackId: string): boolean;
  setRelayed(link: string, publishers: readonly RelayedPublisher[]): TrackRef[];
  clearRelayed(link: string): void;
}

export interface LinkInboundDeps {
  readonly remote: FocusId;
  readonly linkKey: string;
  readonly roomId: string;
  readonly confId: string;
  readonly oracle: MembershipOracle;
  readonly log: Logger;
  readonly router: InboundRouter;
  send(msg: LinkMessage): void;
  publicationsChanged(): void;
}

interface Accepted {
  readonly streamId: string;
  readonly stream: StreamInfo;
  readonly tracks: readonly RemoteTrunkTrack[];
}

function memberKey(s: StreamInfo): string {
  return JSON.stringify([s.user_id ?? '', s.device_id ?? '']);
}

export class LinkInbound {
  readonly #d: LinkInboundDeps;
  /** The remote's last link metadata. */
  #remote: StreamMetadata = {};
  #accepted: readonly Accepted[] = [];
  /** What the peer and the router were last given (a JSON signature of the accepted set). */
  #applied = '[]';
  /** Streams refused for their membership, tracks refused as collisions (each refused once until it clears). */
  #forbidden = new Set<string>();
  #colliding = new Set<string>();
  forbiddenCount = 0;
  collisionCount = 0;

  constructor(deps: LinkInboundDeps) {
    this.#d = deps;
  }

  /** The accepted relayed tracks (what the link peer was told). */
  tracks(): RemoteTrunkTrack[] {
    return this.#accepted.flatMap((a) => a.tracks);
  }

  /** Whether `(streamId, trackId)` is an accepted relayed track. */
  accepts(streamId: string, trackId: string): boolean {
    return this.#accepted.some((a) => a.streamId === streamId && a.tracks.some((t) => t.trackId === trackId));
  }

  /** The lowest rid of an accepted relayed video track. */
  lowestRid(streamId: string, trackId: string): string | undefined {
    const a = this.#accepted.find((x) => x.streamId === streamId);
    return a?.tracks.find((t) => t.trackId === trackId)?.layers?.[0]?.rid;
  }

  metadata(peer: LinkPeerPort | undefined, m: StreamMetadata, now: number): void {
    this.#remote = m;
    this.evaluate(peer, now);
  }

  /** Re-authorizes and re-checks the last metadata; applies the accepted set when it changed. */
  evaluate(peer: LinkPeerPort | undefined, now: number): void {
    const { oracle, remote, roomId, confId, router, linkKey } = this.#d;
    const focus = { user_id: remote.userId, device_id: remote.deviceId };
    const allowed = new Map<string, boolean>();
    const forbidden = new Set<string>();
    const colliding = new Set<string>();
    const newlyForbidden: FailedTrack[] = [];
    const newlyColliding: FailedTrack[] = [];
    const accepted: Accepted[] = [];
    for (const [streamId, stream] of Object.entries(this.#remote)) {
      const mk = memberKey(stream);
      let ok = allowed.get(mk);
      if (ok === undefined) {
        ok =
          stream.user_id !== undefined &&
          stream.device_id !== undefined &&
          oracle.authorize({ roomId, confId, userId: stream.user_id, deviceId: stream.device_id, focus }, now)
            .allowed;
        allowed.set(mk, ok);
      }
      const trackIds = Object.keys(stream.tracks ?? {});
      if (!ok) {
        const sk = JSON.stringify([streamId, mk]);
        forbidden.add(sk);
        if (!this.#forbidden.has(sk)) {
          this.forbiddenCount++;
          newlyForbidden.push(...trackIds.map((t) => ({ stream_id: streamId, track_id: t })));
        }
        continue;
      }
      const tracks: RemoteTrunkTrack[] = [];
      for (const [trackId, t] of Object.entries(stream.tracks ?? {})) {
        if (!router.relayable(linkKey, streamId, trackId)) {
          const tk = trackKey(streamId, trackId);
          colliding.add(tk);
          if (!this.#colliding.has(tk)) {
            this.collisionCount++;
            newlyColliding.push({ stream_id: streamId, track_id: trackId });
          }
          continue;
        }
        const kind = t.kind ?? (t.ssrc !== undefined ? 'audio' : 'video');
        tracks.push(
          kind === 'audio'
            ? { streamId, trackId, kind, ...(t.ssrc !== undefined ? { ssrc: t.ssrc } : {}) }
            : { streamId, trackId, kind, layers: t.layers ?? [] },
        );
      }
      if (tracks.length > 0) {
        accepted.push({ streamId, stream, tracks });
      }
    }
    this.#forbidden = forbidden;
    this.#colliding = colliding;
    this.#refuse(newlyForbidden, newlyColliding);
    this.#accepted = accepted;
    const signature = JSON.stringify(accepted);
    if (signature !== this.#applied) {
      this.#applied = signature;
      this.apply(peer);
    }
  }

  #refuse(forbidden: FailedTrack[], colliding: FailedTrack[]): void {
    if (forbidden.length > 0) {
      const streams = [...new Set(forbidden.map((f) => f.stream_id))];
      this.#d.log.warn(
        { streams, remote: this.#d.linkKey },
        'relayed streams refused: no membership names the link',
      );
      this.#d.send({
        kind: 'error',
        errcode: 'M_FORBIDDEN',
        error: `no live membership of this conference names the sending focus for stream ${streams.join(', ')}`,
        failed: forbidden,
      });
    }
    if (colliding.length > 0) {
      this.#d.log.warn(
        { failed: colliding, remote: this.#d.linkKey },
        'relayed tracks refused: already published',
      );
      const e = collisionError(colliding);
      if (e.kind === 'error') {
        this.#d.send(e);
      }
    }
  }

  /** Gives the accepted set to the peer (relayed sources) and to the router; tells the conference. */
  apply(peer: LinkPeerPort | undefined): void {
    if (peer === undefined) {
      return;
    }
    peer.setRemoteTracks(this.tracks());
    const publishers = new Map<
      string,
      { userId: string; deviceId: string; metadata: StreamMetadata; tracks: RelayedTrack[] }
    >();
    for (const a of this.#accepted) {
      const mk = memberKey(a.stream);
      let p = publishers.get(mk);
      if (p === undefined) {
        p = { userId: a.stream.user_id ?? '', deviceId: a.stream.device_id ?? '', metadata: {}, tracks: [] };
        publishers.set(mk, p);
      }
      p.metadata[a.streamId] = a.stream;
      for (const t of a.tracks) {
        const source = peer.relayedSource(t.streamId, t.trackId);
        if (source !== undefined) {
          p.tracks.push({ streamId: t.streamId, trackId: t.trackId, kind: t.kind, source });
        }
      }
    }
    const refused = this.#d.router.setRelayed(this.#d.linkKey, [...publishers.values()]);
    if (refused.length > 0) {
      this.#d.log.warn({ refused, remote: this.#d.linkKey }, 'relayed tracks refused by the router');
    }
    this.#d.publicationsChanged();
  }

  /** The link is gone: its relayed publications go. */
  clear(): void {
    const had = this.#accepted.length > 0;
    this.#remote = {};
    this.#accepted = [];
    this.#applied = '[]';
    this.#d.router.clearRelayed(this.#d.linkKey);
    if (had) {
      this.#d.publicationsChanged();
    }
  }
}

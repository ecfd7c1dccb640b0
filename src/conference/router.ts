/**
 * The conference's routing of tracks (protocol.md §6, §7): a registry of publications — each
 * `(stream_id, track_id)` a publisher's applied description carries, with its owner, its origin (a session
 * today; a link's trunk once cascading lands, §8) and its source (the published track) — and of every
 * session's subscriptions. Publications are registered when a remote description is applied (`sync`) and
 * dropped when the publisher leaves (`remove`), so lookups (forwarding, the 100 ms speaker tick, metadata
 * snapshots) never parse SDP. Publications a link relays (origin `link`, §8.2) are set per link
 * (`setRelayed`, relayedPublications.ts) and take part in snapshots, forwarding and speaker detection like local
 * ones; a relayed `(stream_id, track_id)` taken locally or by another link is refused (§8.8), and a local
 * publisher keeps its own track. Runs inside the conference's queue like everything else in it.
 */
import type { Logger } from 'pino';
import type { StreamMetadata } from '../protocol/dc/types.js';
import { remoteMediaTracks, type RemoteMediaTrack } from '../protocol/sdp.js';
import type { Clock } from '../util/clock.js';
import type { SpeakerSource } from './activeSpeaker.js';
import type { PeerPort, TrackSourcePort } from './conferencePorts.js';
import { snapshotFor, type Publisher } from './metadataView.js';
import { RelayedPublications, type RelayedPublisher } from './relayedPublications.js';
import { trackKey, type SessionState, type Subscription } from './session.js';

/** Where a publication's media comes from: a client's session, or (cascading, §8) a link's trunk. */
export type PublicationOrigin =
  { readonly kind: 'session' } | { readonly kind: 'link'; readonly link: string };

export interface Publication {
  /** trackKey(streamId, trackId). */
  readonly key: string;
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly mid: string | undefined;
  /** The m-line sends (a stopped or recvonly one still names its ids, and keeps them taken). */
  readonly sending: boolean;
  /** The owner's participant key. */
  readonly owner: string;
  readonly origin: PublicationOrigin;
  /** The published track of the m-line (undefined for a non-sending one). */
  readonly source: TrackSourcePort | undefined;
}

/** What the router needs of a session (Session implements it). */
export interface RouterMember {
  readonly participant: string;
  readonly ids: { readonly userId: string; readonly deviceId: string };
  readonly createdAt: number;
  readonly metadata: StreamMetadata;
  readonly state: SessionState;
  readonly peer: PeerPort;
  readonly subscriptions: Map<string, Subscription>;
  readonly negotiator: { request(): Promise<void> } | undefined;
  readonly logFields: Record<string, string>;
}

export interface RouterDeps<M extends RouterMember> {
  clock: Clock;
  log: Logger;
  /** The conference's live sessions, in the order they started. */
  sessions(): readonly M[];
  /** A forwarded track ended on its own (the conference queues a prune). */
  forwardEnded(): void;
}

export type TrackRef = { readonly streamId: string; readonly trackId: string };
export type SubscribeRequest = TrackRef & { readonly width?: number; readonly height?: number };
export type TrackId = { stream_id: string; track_id: string };

export interface SubscribeOutcome {
  /** m-lines were added or released: the subscriber needs an SFU offer. */
  changed: boolean;
  /** Requested tracks that are not available to this subscriber (§5.2: M_NOT_FOUND). */
  notFound: TrackId[];
  /** Requested tracks the subscriber publishes itself (§5.3: M_INVALID_PARAM). */
  own: TrackId[];
}

/** A local session's sending publications with a source: what a link may relay (§8.4 loop rule). */
export interface LocalPublisher {
  readonly userId: string;
  readonly deviceId: string;
  readonly metadata: StreamMetadata;
  /** Each `(stream_id, track_id)` only at its first publisher. */
  readonly publications: readonly (Publication & { readonly source: TrackSourcePort })[];
}

interface OwnerEntry<M> {
  readonly member: M;
  readonly tracks: readonly RemoteMediaTrack[];
  readonly publications: readonly Publication[];
  /** Track keys unpublished without a new description (§5.2): not sending until the metadata names them again. */
  readonly unpublished: ReadonlyMap<string, TrackRef>;
}

const SESSION_ORIGIN: PublicationOrigin = { kind: 'session' };

export class Router<M extends RouterMember> {
  readonly #d: RouterDeps<M>;
  /** By owner participant key, in registration order. */
  readonly #owners = new Map<string, OwnerEntry<M>>();
  readonly #relayed = new RelayedPublications();

  constructor(deps: RouterDeps<M>) {
    this.#d = deps;
  }

  // --- publications -----------------------------------------------------------------------------

  /** Registers what `m`'s current remote description publishes (call after every applied description). */
  sync(m: M): void {
    if (m.state === 'closed') {
      return;
    }
    const prev = this.#owners.get(m.participant);
    const held = prev?.member === m ? prev.unpublished : undefined;
    this.#register(m, m.peer.remoteTracks(), held);
  }

  /**
   * `unpublish` without a description (§5.2): the tracks stop being published at once (their m-lines still
   * send); they stay stopped across later descriptions until the publisher's metadata names them again.
   */
  unpublish(m: M, refs: readonly TrackRef[]): void {
    const e = this.#owners.get(m.participant);
    if (e?.member !== m || m.state === 'closed') {
      return;
    }
    const unpublished = new Map(e.unpublished);
    for (const r of refs) {
      unpublished.set(trackKey(r.streamId, r.trackId), r);
    }
    this.#register(m, m.peer.remoteTracks(), unpublished);
  }

  #register(
    m: M,
    remote: readonly RemoteMediaTrack[],
    held: ReadonlyMap<string, TrackRef> | undefined,
  ): void {
    const peer = m.peer;
    const unpublished = new Map<string, TrackRef>();
    for (const [key, r] of held ?? []) {
      if (m.metadata[r.streamId]?.tracks?.[r.trackId] === undefined) {
        unpublished.set(key, r);
      }
    }
    const tracks =
      unpublished.size === 0
        ? remote
        : remote.map((t) =>
            unpublished.has(trackKey(t.streamId, t.trackId)) ? { ...t, sending: false } : t,
          );
    const publications = tracks.map((t): Publication => {
      const mid = t.mid;
      return {
        key: trackKey(t.streamId, t.trackId),
        streamId: t.streamId,
        trackId: t.trackId,
        kind: t.kind,
        mid,
        sending: t.sending,
        owner: m.participant,
        origin: SESSION_ORIGIN,
        // The media layer's track of the m-line, read by mid (a map lookup, no SDP) when asked.
        get source() {
          return mid === undefined ? undefined : peer.publishedTrack(mid);
        },
      };
    });
    this.#owners.set(m.participant, { member: m, tracks, publications, unpublished });
  }

  /** Drops the publications of `m` (it left). */
  remove(m: M): void {
    if (this.#owners.get(m.participant)?.member === m) {
      this.#owners.delete(m.participant);
    }
  }

  /** The publications of `m` (empty once it closed). */
  publicationsOf(m: M): readonly Publication[] {
    const e = this.#owners.get(m.participant);
    return e?.member !== m || m.state === 'closed' ? [] : e.publications;
  }

  /** Every session, then every relayed member, as a publisher for metadata snapshots (protocol.md §6). */
  publishers(): Publisher[] {
    const local = this.#d.sessions().map((x): Publisher => {
      const e = this.#owners.get(x.participant);
      return {
        key: x.participant,
        owner: { user_id: x.ids.userId, device_id: x.ids.deviceId },
        since: x.createdAt,
        metadata: x.metadata,
        tracks: x.state === 'closed' || e?.member !== x ? [] : e.tracks,
      };
    });
    const relayed = this.#relayed.publishers(this.#localKeys());
    return relayed.length === 0 ? local : [...local, ...relayed];
  }

  /** The stream metadata of the other participants available to `m`. */
  availableTo(m: M): StreamMetadata {
    return snapshotFor(m.participant, this.publishers());
  }

  /** The sending publication of `(streamId, trackId)` with a source, owned by a live session other than `except`. */
  find(streamId: string, trackId: string, except?: M): Publication | undefined {
    const key = trackKey(streamId, trackId);
    for (const x of this.#d.sessions()) {
      if (x === except || x.state === 'closed') {
        continue;
      }
      const p = this.publicationsOf(x).find((q) => q.key === key && q.sending);
      if (p?.source !== undefined) {
        return p;
      }
    }
    const link = this.#relayed.linkOf(key);
    if (link === undefined || this.#localKeys().has(key)) {
      return undefined;
    }
    return this.#relayed.publications(link).find((p) => p.key === key && p.source !== undefined);
  }

  /** A `(stream_id, track_id)` that `sdp` sends and another session already publishes (§6: the first keeps it). */
  takenTrack(m: M, sdp: string): TrackRef | undefined {
    const others = this.#d.sessions().filter((x) => x !== m);
    for (const t of remoteMediaTracks(sdp)) {
      const key = trackKey(t.streamId, t.trackId);
      if (t.sending && others.some((x) => this.publicationsOf(x).some((p) => p.key === key))) {
        return { streamId: t.streamId, trackId: t.trackId };
      }
    }
    return undefined;
  }

  /** Mute flags and declared sizes from a publisher's metadata reach its published tracks (layer choice). */
  applyPublisherState(m: M): void {
    for (const p of this.publicationsOf(m)) {
      if (p.source === undefined) {
        continue;
      }
      const stream = m.metadata[p.streamId];
      p.source.setMuted(p.kind === 'video' ? stream?.video_muted === true : stream?.audio_muted === true);
      const info = stream?.tracks?.[p.trackId];
      const w = info?.width ?? 0;
      const h = info?.height ?? 0;
      p.source.setDeclaredSize(w > 0 && h > 0 ? { width: w, height: h } : undefined);
    }
  }

  /** Every published audio track, for the active-speaker detector. */
  speakerSources(): SpeakerSource[] {
    const out: SpeakerSource[] = [];
    for (const x of this.#d.sessions()) {
      for (const p of this.publicationsOf(x)) {
        const source = p.kind === 'audio' && p.sending ? p.source : undefined;
        if (source === undefined) {
          continue;
        }
        out.push({
          key: `${x.participant}|${p.streamId}`,
          speaker: { user_id: x.ids.userId, device_id: x.ids.deviceId, stream_id: p.streamId },
          muted: x.metadata[p.streamId]?.audio_muted === true,
          take: () => source.takeLoudness(),
        });
      }
    }
    if (this.#relayed.any) {
      out.push(...this.#relayed.speakerSources(this.#localKeys())); // a set of every local key: only when needed
    }
    return out;
  }

  // --- links (protocol.md §8) -------------------------------------------------------------------

  /**
   * Replaces the publications `link` relays (origin `{kind: 'link', link}`). A `(stream_id, track_id)` already
   * published by a live session or relayed by another link (or named twice) is refused (§8.8) and returned; the
   * rest are published. Call `prune` afterwards (relayed tracks that went away end for their subscribers).
   */
  setRelayed(link: string, publishers: readonly RelayedPublisher[]): TrackRef[] {
    const taken = this.takenFor(link);
    return this.#relayed.set(link, publishers, (key) => taken.has(key), this.#d.clock.now());
  }

  /** Drops every publication `link` relays. */
  clearRelayed(link: string): void {
    this.#relayed.clear(link);
  }

  /** The publications `link` relays now (a relayed track a local session also publishes included). */
  relayedOf(link: string): Publication[] {
    return this.#relayed.publications(link);
  }

  /** Track keys `link` may not relay (§8.8): published by a live session or relayed by another link. */
  takenFor(link: string): Set<string> {
    const taken = this.#localKeys();
    for (const key of this.#relayed.keysOfOthers(link)) {
      taken.add(key);
    }
    return taken;
  }

  /**
   * The LOCAL publications (session origin, sending, with a source), per live session in start order, each
   * `(stream_id, track_id)` at its first publisher: what a link may relay (§8.4: nothing received on a link goes
   * onto another link).
   */
  localPublishers(): LocalPublisher[] {
    const seen = new Set<string>();
    const out: LocalPublisher[] = [];
    for (const x of this.#d.sessions()) {
      const publications: (Publication & { readonly source: TrackSourcePort })[] = [];
      for (const p of this.publicationsOf(x)) {
        if (seen.has(p.key)) {
          continue;
        }
        seen.add(p.key);
        const source = p.sending && p.origin.kind === 'session' ? p.source : undefined;
        if (source !== undefined) {
          publications.push({ ...p, source });
        }
      }
      out.push({ userId: x.ids.userId, deviceId: x.ids.deviceId, metadata: x.metadata, publications });
    }
    return out;
  }

  /** Keys of every publication of a live session (sending or not: a local publisher keeps its ids). */
  #localKeys(): Set<string> {
    const keys = new Set<string>();
    for (const x of this.#d.sessions()) {
      for (const p of this.publicationsOf(x)) {
        keys.add(p.key);
      }
    }
    return keys;
  }

  // --- subscriptions ----------------------------------------------------------------------------

  /** Applies unsubscribes, then subscribes (§5.2); a resize only re-picks the layer. */
  subscribe(s: M, stop: readonly TrackRef[], start: readonly SubscribeRequest[]): SubscribeOutcome {
    const out: SubscribeOutcome = { changed: false, notFound: [], own: [] };
    for (const t of stop) {
      const key = trackKey(t.streamId, t.trackId);
      const sub = s.subscriptions.get(key);
      if (sub !== undefined) {
        this.release(s, key, sub);
        out.changed = true;
      }
    }
    const available = this.availableTo(s);
    const own = this.publicationsOf(s);
    for (const t of start) {
      const key = trackKey(t.streamId, t.trackId);
      const existing = s.subscriptions.get(key);
      if (existing !== undefined) {
        existing.width = t.width ?? 0;
        existing.height = t.height ?? 0; // no renegotiation
        existing.downTrack?.setRequested(existing.width, existing.height, this.#d.clock.now());
        continue;
      }
      if (own.some((o) => o.key === key)) {
        out.own.push({ stream_id: t.streamId, track_id: t.trackId });
        continue;
      }
      const kind = available[t.streamId]?.tracks?.[t.trackId]?.kind;
      if (kind === undefined) {
        out.notFound.push({ stream_id: t.streamId, track_id: t.trackId });
        continue;
      }
      const sub: Subscription = {
        streamId: t.streamId,
        trackId: t.trackId,
        kind,
        transceiver: s.peer.addForwardingTransceiver(kind, t.streamId, t.trackId),
        width: t.width ?? 0,
        height: t.height ?? 0,
        downTrack: undefined,
      };
      s.subscriptions.set(key, sub);
      this.#forward(s, sub);
      out.changed = true;
    }
    return out;
  }

  /** Stops one subscription: its forwarding ends and its m-line goes inactive (kept for reuse). */
  release(s: M, key: string, sub: Subscription): void {
    if (sub.downTrack !== undefined) {
      s.peer.stopForwarding(sub.downTrack);
      sub.downTrack = undefined;
    }
    s.peer.releaseForwardingTransceiver(sub.transceiver);
    s.subscriptions.delete(key);
  }

  /** Forwarded tracks that are no longer available end; each subscriber that lost one gets an SFU offer. */
  async prune(): Promise<void> {
    const publishers = this.publishers();
    for (const x of this.#d.sessions()) {
      const available = snapshotFor(x.participant, publishers);
      let changed = false;
      for (const [key, sub] of x.subscriptions) {
        if (available[sub.streamId]?.tracks?.[sub.trackId] === undefined || sub.downTrack?.closed === true) {
          this.release(x, key, sub);
          changed = true;
        }
      }
      if (changed) {
        await x.negotiator?.request();
      }
    }
  }

  /** Connects a new subscription to the publisher's track (the media path of protocol.md §7). */
  #forward(s: M, sub: Subscription): void {
    const source = this.find(sub.streamId, sub.trackId, s)?.source;
    if (source === undefined) {
      this.#d.log.warn(
        { ...s.logFields, streamId: sub.streamId, trackId: sub.trackId },
        'no published track to forward',
      );
      return;
    }
    const dt = s.peer.forward(sub.transceiver, source, sub.width, sub.height);
    dt.onEnded = () => {
      this.#d.forwardEnded();
    };
    sub.downTrack = dt;
  }
}

/**
 * The publications a conference receives over its links (protocol.md §8.2, §8.8): per link (`origin.link`, the
 * remote focus's key), the remote members whose streams it relays, each with its real `user_id`/`device_id`, its
 * stream metadata and its relayed tracks (the link peer's relayed sources). The router asks this registry for
 * snapshot publishers, forwarding lookups and speaker sources; a `(stream_id, track_id)` belongs to at most one
 * link here, and the router hides a relayed track a local session also publishes (a local publisher keeps its
 * own track). Runs inside the conference's queue.
 */
import type { StreamMetadata } from '../protocol/dc/types.js';
import type { SpeakerSource } from './activeSpeaker.js';
import type { RemoteMediaTrack } from '../protocol/sdp.js';
import type { TrackSourcePort } from './conferencePorts.js';
import type { Publisher } from './metadataView.js';
import type { Publication, TrackRef } from './router.js';
import { trackKey } from './session.js';

/** One track a link relays, with the relayed source its link peer made for it. */
export interface RelayedTrack {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly source: TrackSourcePort;
}

/** A remote member whose streams a link relays (§8.2: under its real ids). */
export interface RelayedPublisher {
  readonly userId: string;
  readonly deviceId: string;
  /** Its streams' metadata as the link announced them (only the §6 fields reach clients). */
  readonly metadata: StreamMetadata;
  readonly tracks: readonly RelayedTrack[];
}

interface Entry {
  /** The publisher key in snapshots (never a session's participant key). */
  readonly key: string;
  readonly link: string;
  readonly publisher: RelayedPublisher;
  readonly since: number;
  readonly tracks: readonly RemoteMediaTrack[];
  readonly publications: readonly Publication[];
}

/** The snapshot key of a relayed publisher. */
export function relayedPublisherKey(link: string, userId: string, deviceId: string): string {
  return JSON.stringify(['link', link, userId, deviceId]);
}

export class RelayedPublications {
  /** By link, each link's entries in announcement order. */
  readonly #links = new Map<string, readonly Entry[]>();
  /** Track key → the link relaying it. */
  readonly #linkOf = new Map<string, string>();

  /** Whether any link relays a track (`#linkOf` indexes them all). */
  get any(): boolean {
    return this.#linkOf.size > 0;
  }

  /** The link relaying `key`, if any. */
  linkOf(key: string): string | undefined {
    return this.#linkOf.get(key);
  }

  /** Track keys relayed by links other than `link`. */
  *keysOfOthers(link: string): Iterable<string> {
    for (const [key, l] of this.#linkOf) {
      if (l !== link) {
        yield key;
      }
    }
  }

  #index(): void {
    this.#linkOf.clear();
    for (const [link, entries] of this.#links) {
      for (const e of entries) {
        for (const p of e.publications) {
          this.#linkOf.set(p.key, link);
        }
      }
    }
  }

  /**
   * Replaces what `link` relays. `refuse(key)` says whether a track is taken (locally or by another link); those
   * tracks, and a track named twice, are left out and returned. `now` dates new publishers (snapshot order).
   */
  set(
    link: string,
    publishers: readonly RelayedPublisher[],
    refuse: (key: string) => boolean,
    now: number,
  ): TrackRef[] {
    const before = new Map((this.#links.get(link) ?? []).map((e) => [e.key, e]));
    const seen = new Set<string>();
    const refused: TrackRef[] = [];
    const entries: Entry[] = [];
    for (const p of publishers) {
      const key = relayedPublisherKey(link, p.userId, p.deviceId);
      if (entries.some((e) => e.key === key)) {
        continue; // the same member twice: the first announcement holds
      }
      const tracks: RelayedTrack[] = [];
      for (const t of p.tracks) {
        const k = trackKey(t.streamId, t.trackId);
        if (seen.has(k) || refuse(k)) {
          refused.push({ streamId: t.streamId, trackId: t.trackId });
          continue;
        }
        seen.add(k);
        tracks.push(t);
      }
      entries.push(this.#entry(link, key, { ...p, tracks }, before.get(key)?.since ?? now));
    }
    if (entries.length === 0) {
      this.#links.delete(link);
    } else {
      this.#links.set(link, entries);
    }
    this.#index();
    return refused;
  }

  clear(link: string): void {
    this.#links.delete(link);
    this.#index();
  }

  #entry(link: string, key: string, p: RelayedPublisher, since: number): Entry {
    const origin = { kind: 'link', link } as const;
    const tracks = p.tracks.map((t): RemoteMediaTrack => ({
      mid: undefined,
      kind: t.kind,
      streamId: t.streamId,
      trackId: t.trackId,
      sending: true,
      rids: [],
      ridSizes: {},
    }));
    const publications = p.tracks.map((t): Publication => ({
      key: trackKey(t.streamId, t.trackId),
      streamId: t.streamId,
      trackId: t.trackId,
      kind: t.kind,
      mid: undefined,
      sending: true,
      owner: key,
      origin,
      source: t.source,
    }));
    for (const t of p.tracks) {
      // Mute flags and declared sizes reach the relayed source as a local publisher's do (layer choice).
      const stream = p.metadata[t.streamId];
      t.source.setMuted(t.kind === 'video' ? stream?.video_muted === true : stream?.audio_muted === true);
      const info = stream?.tracks?.[t.trackId];
      const w = info?.width ?? 0;
      const h = info?.height ?? 0;
      t.source.setDeclaredSize(w > 0 && h > 0 ? { width: w, height: h } : undefined);
    }
    return { key, link, publisher: p, since, tracks, publications };
  }

  /** Every relayed publication of `link` (all links when undefined). */
  publications(link?: string): Publication[] {
    const out: Publication[] = [];
    for (const [l, entries] of this.#links) {
      if (link === undefined || l === link) {
        for (const e of entries) {
          out.push(...e.publications);
        }
      }
    }
    return out;
  }

  /** Snapshot publishers (§6), leaving out tracks `hidden` (published locally too). */
  publishers(hidden: ReadonlySet<string>): Publisher[] {
    const out: Publisher[] = [];
    for (const entries of this.#links.values()) {
      for (const e of entries) {
        out.push({
          key: e.key,
          owner: { user_id: e.publisher.userId, device_id: e.publisher.deviceId },
          since: e.since,
          metadata: e.publisher.metadata,
          tracks:
            hidden.size === 0
              ? e.tracks
              : e.tracks.filter((t) => !hidden.has(trackKey(t.streamId, t.trackId))),
        });
      }
    }
    return out;
  }

  /** Each relayed audio track not in `hidden`, for the active-speaker detector (remote speakers, §8.6). */
  speakerSources(hidden: ReadonlySet<string>): SpeakerSource[] {
    const out: SpeakerSource[] = [];
    for (const entries of this.#links.values()) {
      for (const e of entries) {
        for (const p of e.publications) {
          const source = p.kind === 'audio' && !hidden.has(p.key) ? p.source : undefined;
          if (source === undefined) {
            continue;
          }
          const { userId, deviceId, metadata } = e.publisher;
          out.push({
            key: `${e.key}|${p.streamId}`,
            speaker: { user_id: userId, device_id: deviceId, stream_id: p.streamId },
            muted: metadata[p.streamId]?.audio_muted === true,
            take: () => source.takeLoudness(),
          });
        }
      }
    }
    return out;
  }
}

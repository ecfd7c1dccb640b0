/**
 * What this client receives (protocol.md §5.2): the page says which streams it shows and at what tile size;
 * changes made within `coalesceMs` (a window being resized, tiles being laid out) go to the focus as one
 * `unsubscribe` and one `subscribe` frame (dialect A, with ids) carrying only what changed. A stream's audio is
 * subscribed unconstrained, its video at the tile's size (the focus picks the smallest simulcast layer covering
 * it). Tracks the focus could not find (`M_NOT_FOUND`) are retried after the next metadata change.
 */
import type { TrackWant } from './dc/types.js';
import { subscribeFrame, unsubscribeFrame } from './dc/write.js';
import type { StreamMetadata } from './metadata.js';

/** §5.2: sizes are integers 1–16384 (0 or absent = unconstrained); at most 200 entries per list. */
export const MAX_DIMENSION = 16384;
export const MAX_LIST = 200;
export const DEFAULT_COALESCE_MS = 200;

export interface TileSize {
  width: number;
  height: number;
}

/** Cancels a scheduled call. */
export type Cancel = () => void;
export type Schedule = (fn: () => void, ms: number) => Cancel;

export const timerSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  return () => {
    clearTimeout(t);
  };
};

export interface SubscriptionsOptions {
  /** Sends one dialect-A frame on the data channel (throws when the channel is closed). */
  send: (frame: string) => void;
  /** The focus's latest metadata. */
  metadata: () => StreamMetadata;
  coalesceMs?: number;
  schedule?: Schedule;
  /** A frame could not be sent (the channel closed); its tracks stay unapplied and are retried later. */
  onError?: (err: unknown) => void;
}

const key = (streamId: string, trackId: string): string => `${streamId}\u0000${trackId}`;

/** A size as §5.2 wants it: integer 1–16384, or undefined (unconstrained) for 0, negatives and non-numbers. */
export function dimension(v: number): number | undefined {
  if (!Number.isFinite(v) || v <= 0) {
    return undefined;
  }
  return Math.min(MAX_DIMENSION, Math.max(1, Math.round(v)));
}

export class Subscriptions {
  /** Frames sent, in order (for tests and logs). */
  readonly sent: string[] = [];
  readonly #o: SubscriptionsOptions;
  readonly #schedule: Schedule;
  /** streamId → tile size the page asked for. */
  readonly #wanted = new Map<string, TileSize>();
  /** What the focus was last asked for: track key → the want sent. */
  readonly #applied = new Map<string, TrackWant>();
  /** Request id → the tracks it asked for (to forget the ones the focus reports failed). */
  readonly #inFlight = new Map<string, TrackWant[]>();
  #cancel: Cancel | undefined;
  #nextId = 0;
  #closed = false;

  constructor(o: SubscriptionsOptions) {
    this.#o = o;
    this.#schedule = o.schedule ?? timerSchedule;
  }

  /** Show `streamId` in a tile of this size (a new size for the same stream replaces the old one). */
  subscribe(streamId: string, size: TileSize): void {
    this.#wanted.set(streamId, { width: size.width, height: size.height });
    this.#later();
  }

  /** Stop receiving `streamId`. */
  unsubscribe(streamId: string): void {
    if (this.#wanted.delete(streamId)) {
      this.#later();
    }
  }

  /** Stream ids the page currently wants. */
  get wanted(): ReadonlyMap<string, TileSize> {
    return this.#wanted;
  }

  /** The metadata changed: streams that left are forgotten, new tracks of wanted streams get subscribed. */
  metadataChanged(): void {
    const metadata = this.#o.metadata();
    for (const [k, want] of this.#applied) {
      if (metadata[want.stream_id]?.tracks?.[want.track_id] === undefined) {
        this.#applied.delete(k);
      }
    }
    this.#later();
  }

  /** The focus answered request `id` with an error naming `failed` tracks: they count as not subscribed. */
  failed(
    id: string | undefined,
    failed: readonly { stream_id: string; track_id: string }[] | undefined,
  ): void {
    const tracks = failed ?? (id === undefined ? [] : (this.#inFlight.get(id) ?? []));
    for (const t of tracks) {
      this.#applied.delete(key(t.stream_id, t.track_id));
    }
    if (id !== undefined) {
      this.#inFlight.delete(id);
    }
  }

  /** The focus acknowledged request `id`. */
  acked(id: string): void {
    this.#inFlight.delete(id);
  }

  /** Sends what changed now (the coalescing timer's job; also for tests). */
  flush(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    if (this.#closed) {
      return;
    }
    const desired = this.#desired();
    const stop: TrackWant[] = [];
    const start: TrackWant[] = [];
    for (const [k, want] of this.#applied) {
      if (!desired.has(k)) {
        stop.push({ stream_id: want.stream_id, track_id: want.track_id });
      }
    }
    for (const [k, want] of desired) {
      const before = this.#applied.get(k);
      if (before === undefined || before.width !== want.width || before.height !== want.height) {
        start.push(want);
      }
    }
    for (let i = 0; i < stop.length; i += MAX_LIST) {
      this.#send(stop.slice(i, i + MAX_LIST), 'unsubscribe');
    }
    for (let i = 0; i < start.length; i += MAX_LIST) {
      this.#send(start.slice(i, i + MAX_LIST), 'subscribe');
    }
  }

  close(): void {
    this.#closed = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #later(): void {
    if (this.#cancel === undefined && !this.#closed) {
      this.#cancel = this.#schedule(() => {
        this.#cancel = undefined;
        this.flush();
      }, this.#o.coalesceMs ?? DEFAULT_COALESCE_MS);
    }
  }

  /** Every track of every wanted stream the metadata knows: audio unconstrained, video at the tile size. */
  #desired(): Map<string, TrackWant> {
    const metadata = this.#o.metadata();
    const out = new Map<string, TrackWant>();
    for (const [streamId, size] of this.#wanted) {
      for (const [trackId, info] of Object.entries(metadata[streamId]?.tracks ?? {})) {
        const want: TrackWant = { stream_id: streamId, track_id: trackId };
        if (info.kind === 'video') {
          const width = dimension(size.width);
          const height = dimension(size.height);
          if (width !== undefined && height !== undefined) {
            want.width = width;
            want.height = height;
          }
        }
        out.set(key(streamId, trackId), want);
      }
    }
    return out;
  }

  #send(tracks: TrackWant[], what: 'subscribe' | 'unsubscribe'): void {
    const id = `${what === 'subscribe' ? 'sub' : 'unsub'}-${++this.#nextId}`;
    const frame = what === 'subscribe' ? subscribeFrame('A', tracks, id) : unsubscribeFrame('A', tracks, id);
    try {
      this.#o.send(frame);
    } catch (err) {
      this.#o.onError?.(err);
      return;
    }
    this.sent.push(frame);
    for (const t of tracks) {
      const k = key(t.stream_id, t.track_id);
      if (what === 'subscribe') {
        this.#applied.set(k, t);
      } else {
        this.#applied.delete(k);
      }
    }
    if (what === 'subscribe') {
      this.#inFlight.set(id, tracks);
    }
  }
}

/**
 * The demand this focus sends on a link (protocol.md §8.3): what its subscribers use of each relayed track
 * (the link peer's union with its 2 s hold), plus the lowest layer when `cascade.keep_lowest_layer` is set,
 * diffed against what was last sent: `subscribe` entries with `layers` for new or changed tracks (audio without
 * `layers`), `unsubscribe` for tracks no local subscriber uses any more. `reset` forgets what was sent, so the
 * next step re-sends the demand in full (a new call's data channel). Lists are split at `maxListEntries`.
 */
import type { LinkMessage } from '../protocol/dc/linkTypes.js';
import type { TrackRef } from '../protocol/dc/types.js';
import type { RelayedDemand } from './linkPorts.js';
import { trackKey } from './session.js';

export interface DemandView {
  /** Whether the track is a relayed track this focus accepted. */
  accepts(streamId: string, trackId: string): boolean;
  /** The lowest rid of a relayed video track. */
  lowestRid(streamId: string, trackId: string): string | undefined;
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += Math.max(1, size)) {
    out.push(list.slice(i, i + Math.max(1, size)));
  }
  return out;
}

export class LinkDemand {
  /** What was last sent, by trackKey. */
  readonly #sent = new Map<string, TrackRef>();
  #demanded = 0;

  constructor(
    readonly keepLowestLayer: boolean,
    readonly maxListEntries: number,
  ) {}

  /** Tracks demanded now (before the channel opens too). */
  get demanded(): number {
    return this.#demanded;
  }

  get sent(): number {
    return this.#sent.size;
  }

  reset(): void {
    this.#sent.clear();
  }

  /** The entries demanded now, by trackKey. */
  #want(demand: readonly RelayedDemand[], view: DemandView): Map<string, TrackRef> {
    const want = new Map<string, TrackRef>();
    for (const d of demand) {
      if (!view.accepts(d.streamId, d.trackId)) {
        continue;
      }
      const entry: TrackRef = { streamId: d.streamId, trackId: d.trackId };
      const lowest = view.lowestRid(d.streamId, d.trackId);
      if (lowest !== undefined) {
        const rids = [...d.rids];
        if (this.keepLowestLayer && !rids.includes(lowest)) {
          rids.unshift(lowest);
        }
        if (rids.length > 0) {
          entry.layers = rids;
        }
      }
      want.set(trackKey(d.streamId, d.trackId), entry);
    }
    return want;
  }

  /** The messages that bring the remote to `demand`; `send` false only computes (channel not open). */
  step(demand: readonly RelayedDemand[], view: DemandView, send: boolean): LinkMessage[] {
    const want = this.#want(demand, view);
    this.#demanded = want.size;
    if (!send) {
      return [];
    }
    const start: TrackRef[] = [];
    const stop: TrackRef[] = [];
    for (const [key, e] of want) {
      const was = this.#sent.get(key);
      if (was === undefined || (was.layers ?? []).join(',') !== (e.layers ?? []).join(',')) {
        start.push(e);
        this.#sent.set(key, e);
      }
    }
    for (const [key, e] of [...this.#sent]) {
      if (!want.has(key)) {
        stop.push({ streamId: e.streamId, trackId: e.trackId });
        this.#sent.delete(key);
      }
    }
    const out: LinkMessage[] = [];
    for (const tracks of chunks(stop, this.maxListEntries)) {
      out.push({ kind: 'unsubscribe', tracks });
    }
    for (const tracks of chunks(start, this.maxListEntries)) {
      out.push({ kind: 'subscribe', tracks });
    }
    return out;
  }
}

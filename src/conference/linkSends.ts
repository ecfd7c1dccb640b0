/**
 * The sending side of a link (protocol.md §8.3, §8.4): the remote focus's `subscribe` and `unsubscribe` for this
 * focus's LOCAL tracks become trunk sends on the link peer. A subscribed track gets one `sendTrack` (its trunk
 * SSRCs from the announced plan), then `setLayers` with the rids asked for — an entry without `layers` asks for
 * audio or the top layer. A track this focus does not announce (unknown, or relayed here from another link: the
 * loop rule) is `M_NOT_FOUND`; an entry naming none of the track's rids is `M_INVALID_PARAM`. `unsubscribe`
 * closes the send; a local track that ends closes its send, and one whose source or layers changed is sent
 * anew with the same rids. Runs on the conference's queue.
 */
import type { Logger } from 'pino';
import type { LinkMessage } from '../protocol/dc/linkTypes.js';
import type { FailedTrack, TrackRef } from '../protocol/dc/types.js';
import type { TrunkPlan } from './linkMetadataOut.js';
import type { LinkPeerPort, TrunkSendPort } from './linkPorts.js';
import { trackKey } from './session.js';

interface Send {
  readonly plan: TrunkPlan;
  readonly port: TrunkSendPort;
  rids: readonly string[];
}

/** The rids of a plan, lowest first (empty for audio). */
function planRids(plan: TrunkPlan): string[] {
  return (plan.layers ?? []).map((l) => l.rid);
}

function sameLayers(a: TrunkPlan, b: TrunkPlan): boolean {
  const sig = (p: TrunkPlan): string =>
    JSON.stringify([p.audioSsrc, (p.layers ?? []).map((l) => [l.rid, l.ssrc, l.layerId])]);
  return sig(a) === sig(b);
}

export interface LinkSendsDeps {
  readonly log: Logger;
  send(msg: LinkMessage): void;
}

export class LinkSends {
  readonly #d: LinkSendsDeps;
  readonly #sends = new Map<string, Send>();
  /** Requests refused (unknown track or layers), for the link's counters. */
  refused = 0;

  constructor(deps: LinkSendsDeps) {
    this.#d = deps;
  }

  get size(): number {
    return this.#sends.size;
  }

  /** The rids asked for of one track, lowest first, or undefined when none of them exists. */
  #rids(plan: TrunkPlan, t: TrackRef): readonly string[] | undefined {
    const all = planRids(plan);
    if (plan.kind === 'audio') {
      return [];
    }
    if (t.layers === undefined) {
      return all.slice(-1);
    }
    const asked = new Set(t.layers);
    const rids = all.filter((r) => asked.has(r));
    return rids.length === 0 ? undefined : rids;
  }

  subscribe(
    peer: LinkPeerPort,
    plans: ReadonlyMap<string, TrunkPlan>,
    id: string | undefined,
    tracks: readonly TrackRef[],
  ): void {
    const notFound: FailedTrack[] = [];
    const invalid: FailedTrack[] = [];
    for (const t of tracks) {
      const key = trackKey(t.streamId, t.trackId);
      const plan = plans.get(key);
      if (plan === undefined || plan.source.closed) {
        notFound.push({ stream_id: t.streamId, track_id: t.trackId });
        continue;
      }
      const rids = this.#rids(plan, t);
      if (rids === undefined) {
        invalid.push({ stream_id: t.streamId, track_id: t.trackId });
        continue;
      }
      let s = this.#sends.get(key);
      if (s === undefined || s.port.closed) {
        s = { plan, port: this.#open(peer, plan), rids };
        this.#sends.set(key, s);
      }
      s.rids = rids;
      s.port.setLayers(rids);
      this.#d.log.debug({ streamId: t.streamId, trackId: t.trackId, rids }, 'trunk send layers');
    }
    this.#reply(id, notFound, invalid);
  }

  #open(peer: LinkPeerPort, plan: TrunkPlan): TrunkSendPort {
    const trunk =
      plan.kind === 'audio'
        ? plan.audioSsrc !== undefined
          ? { audioSsrc: plan.audioSsrc }
          : {}
        : plan.layers !== undefined
          ? { layers: plan.layers }
          : {};
    return peer.sendTrack(plan.source, plan.streamId, plan.trackId, trunk);
  }

  #reply(id: string | undefined, notFound: FailedTrack[], invalid: FailedTrack[]): void {
    const failed = [...notFound, ...invalid];
    if (failed.length === 0) {
      if (id !== undefined) {
        this.#d.send({ kind: 'ack', id });
      }
      return;
    }
    this.refused += failed.length;
    const names = failed.map((f) => `${f.stream_id}/${f.track_id}`).join(', ');
    this.#d.send({
      kind: 'error',
      ...(id !== undefined ? { id } : {}),
      errcode: notFound.length > 0 ? 'M_NOT_FOUND' : 'M_INVALID_PARAM',
      error:
        notFound.length > 0
          ? `not a local track of this focus: ${names}`
          : `none of the requested layers exists: ${names}`,
      failed,
    });
  }

  unsubscribe(id: string | undefined, tracks: readonly TrackRef[]): void {
    for (const t of tracks) {
      const key = trackKey(t.streamId, t.trackId);
      this.#sends.get(key)?.port.close();
      this.#sends.delete(key);
    }
    if (id !== undefined) {
      this.#d.send({ kind: 'ack', id });
    }
  }

  /** Local tracks changed: sends of ended tracks close, sends whose source or trunk layers changed restart. */
  refresh(peer: LinkPeerPort | undefined, plans: ReadonlyMap<string, TrunkPlan>): void {
    for (const [key, s] of [...this.#sends]) {
      const plan = plans.get(key);
      if (plan === undefined || plan.source.closed || s.port.closed) {
        s.port.close();
        this.#sends.delete(key);
        continue;
      }
      if (peer === undefined || (plan.source === s.plan.source && sameLayers(plan, s.plan))) {
        continue;
      }
      s.port.close();
      const known = new Set(planRids(plan));
      const kept = s.rids.filter((r) => known.has(r));
      const rids = plan.kind === 'audio' ? [] : kept.length > 0 ? kept : planRids(plan).slice(-1);
      const port = this.#open(peer, plan);
      port.setLayers(rids);
      this.#sends.set(key, { plan, port, rids });
      this.#d.log.debug({ streamId: plan.streamId, trackId: plan.trackId, rids }, 'trunk send restarted');
    }
  }

  /** A new call: the old peer's sends are gone with it (the remote asks again after `opened`). */
  forget(): void {
    this.#sends.clear();
  }

  closeAll(): void {
    for (const s of this.#sends.values()) {
      s.port.close();
    }
    this.#sends.clear();
  }
}

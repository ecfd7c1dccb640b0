/**
 * The tracks a remote focus relays to this one over a link (protocol.md §8.2, §8.3, §8.6): each is a
 * PublishedTrack — to this focus's subscribers a simulcast publisher, so layer choice, keyframe-gated
 * switching, NACK generation and munging are those of client tracks — whose layers are the announced trunk
 * layers (restrictions = announced sizes) and whose codecs and extensions are the link's carrier m-line of its
 * kind. Every trunk SSRC is routed to its track on the link's ingest (media/ingest.ts `announce`); changed
 * SSRCs are re-announced (the old route forgotten), tracks missing from the announcement close. A layer is
 * selectable iff announced and in the sender's current sending set (`layers`, §8.5), not by RTP flow. Per hop:
 * losses are NACKed on the link (every kind), keyframe requests go out as PLI for the trunk SSRC, SRs received
 * for a trunk SSRC feed the track's sender clock. A relink moves the tracks, sinks attached, to the new link
 * (`adoptFrom`). Bad announcements are skipped and logged once; nothing here throws on remote input.
 */
import type { Logger } from 'pino';
import type { RTCRtpTransceiver } from 'werift';
import { LayerDemand, relayedDemand, type LayerUse } from '../../forwarding/layerDemand.js';
import { pliPacket } from '../../rtp/rtcpFeedback.js';
import { nackPacket } from '../../rtp/rtcpNack.js';
import type { RtpPacketView } from '../../rtp/packetView.js';
import type { Size } from '../../simulcast/layerOrder.js';
import type { IngestDemux, IngestTarget } from '../ingest.js';
import type { MediaContext } from '../peerMedia.js';
import { PublishedTrack } from '../publishedTrack.js';
import { checkRemoteTracks, trackKey } from './remoteTrackCheck.js';
import type { RelayedDemand, RemoteTrunkTrack } from './types.js';

/** A trunk SSRC silent this long and then heard again was paused by its sender: the gap is not loss. */
export const RESUME_GAP_MS = 500;

/** Every source relayed over a link (the loop rule, §8.4: never sent onto another link). */
export const relayedSources = new WeakSet<object>();

/** What the relayed tracks need of the link they currently arrive on. */
export interface RelayHost {
  readonly ctx: MediaContext;
  carrier(kind: 'audio' | 'video'): RTCRtpTransceiver | undefined;
  /** The link's ingest demux (undefined before its transport exists). */
  ingest(): IngestDemux | undefined;
  /** One RTCP packet on the link (dropped when not connected). */
  sendRtcp(bytes: Uint8Array): void;
  readonly rtcpSsrc: number;
  /** `cascade.keep_lowest_layer`: the lowest layer is always part of a demand. */
  readonly keepLowestLayer: boolean;
  /** A relayed track lost a packet: schedule `flushNacks`. */
  lossSeen(now: number): void;
}

const NO_CODECS: readonly never[] = [];

/**
 * One trunk SSRC's route: resyncs loss tracking on its first packet (a new route: a new link, or a re-announced
 * SSRC) and after a pause, then hands the packet to the track.
 */
class SsrcRoute implements IngestTarget {
  readonly #track: RelayedTrack;
  #lastAt: number | undefined;
  /** Packets received on this route. */
  packets = 0;

  constructor(track: RelayedTrack) {
    this.#track = track;
  }

  handle(view: RtpPacketView, rid: string | undefined): void {
    const source = this.#track.source;
    const now = this.#track.host.ctx.clock.now();
    if (this.#lastAt === undefined || now - this.#lastAt > RESUME_GAP_MS) {
      source.resyncLoss(view.ssrc);
    }
    this.#lastAt = now;
    this.packets++;
    source.handle(view, rid);
  }
}

class RelayedTrack {
  host: RelayHost;
  readonly source: PublishedTrack;
  desc: RemoteTrunkTrack;
  /** Trunk SSRC → its route on the current host's ingest, and the rid it carries. */
  readonly routes = new Map<number, { route: SsrcRoute; rid: string | undefined }>();
  /** The sender's `layers` (undefined: everything announced). */
  sending: ReadonlySet<string> | undefined;
  readonly demand: LayerDemand;

  constructor(host: RelayHost, desc: RemoteTrunkTrack) {
    this.host = host;
    this.desc = desc;
    const { kind } = desc;
    const { clock, counters, log, pliMinIntervalMs } = host.ctx;
    this.source = new PublishedTrack({
      kind,
      mid: `link:${desc.streamId}/${desc.trackId}`,
      rids: rids(desc),
      restrictions: restrictions(desc),
      clock,
      counters,
      log,
      pliMinIntervalMs,
      codecs: () => this.host.carrier(kind)?.codecs ?? NO_CODECS,
      extensions: () => this.host.carrier(kind)?.headerExtensions ?? NO_CODECS,
      requestKeyframe: (ssrc) => {
        this.host.sendRtcp(pliPacket(this.host.rtcpSsrc, ssrc));
      },
      onLoss: () => {
        this.host.lossSeen(clock.now());
      },
      layerActivity: 'announced',
      nack: 'always',
    });
    relayedSources.add(this.source);
    this.demand = new LayerDemand(rids(desc), { keepLowestLayer: host.keepLowestLayer });
  }

  /** Announced ∩ sending. */
  available(): string[] {
    const s = this.sending;
    return rids(this.desc).filter((r) => s === undefined || s.has(r));
  }
}

function rids(t: RemoteTrunkTrack): string[] {
  return t.kind === 'video' ? (t.layers ?? []).map((l) => l.rid) : [];
}

function restrictions(t: RemoteTrunkTrack): Map<string, Size> {
  const m = new Map<string, Size>();
  for (const l of t.layers ?? []) {
    if ((l.width ?? 0) > 0 && (l.height ?? 0) > 0) {
      m.set(l.rid, { width: l.width ?? 0, height: l.height ?? 0 });
    }
  }
  return m;
}

/** Trunk SSRC → rid (undefined for audio) of an announced track. */
function ssrcsOf(t: RemoteTrunkTrack): Map<number, string | undefined> {
  const m = new Map<number, string | undefined>();
  if (t.kind === 'audio') {
    if (t.ssrc !== undefined) {
      m.set(t.ssrc >>> 0, undefined);
    }
  } else {
    for (const l of t.layers ?? []) {
      m.set(l.ssrc >>> 0, l.rid);
    }
  }
  return m;
}

/** How long a link stays constrained after its sender last paused a demanded layer (no flapping at the edge). */
export const CONSTRAINED_HOLD_MS = 5000;

export class RelayedTracks {
  readonly #host: RelayHost;
  readonly #log: Logger;
  readonly #tracks = new Map<string, RelayedTrack>();
  readonly #bySsrc = new Map<number, RelayedTrack>();
  #badLogged = false;
  /** Until when the link counts as constrained (the sender paused a layer demanded here; see `demand`). */
  #constrainedUntil = Number.NEGATIVE_INFINITY;

  constructor(host: RelayHost) {
    this.#host = host;
    this.#log = host.ctx.log;
  }

  get size(): number {
    return this.#tracks.size;
  }

  /** The whole announced set: new tracks get a source, changed SSRCs are re-routed, missing ones close. */
  set(list: readonly RemoteTrunkTrack[]): void {
    const { ok, problems } = checkRemoteTracks(list);
    if (problems.length > 0 && !this.#badLogged) {
      this.#badLogged = true;
      this.#log.warn({ problems: problems.slice(0, 5) }, 'link: relayed tracks refused (bad announcement)');
    }
    if (this.#log.isLevelEnabled('debug')) {
      this.#log.debug(
        {
          tracks: ok.map((d) => ({
            trackId: d.trackId,
            layers: (d.layers ?? []).map((l) => `${l.rid}:${l.width ?? '?'}x${l.height ?? '?'}`),
          })),
        },
        'link: relayed tracks announced',
      );
    }
    const keep = new Set<string>();
    for (const desc of ok) {
      const key = trackKey(desc.streamId, desc.trackId);
      keep.add(key);
      let t = this.#tracks.get(key);
      if (t !== undefined && t.desc.kind !== desc.kind) {
        this.#close(key, t);
        t = undefined;
      }
      if (t === undefined) {
        t = new RelayedTrack(this.#host, desc);
        this.#tracks.set(key, t);
      } else {
        t.desc = desc;
        t.source.updateRids(rids(desc), restrictions(desc));
        t.demand.setRids(rids(desc));
      }
      this.#route(t);
      t.source.setAvailableRids(t.available());
    }
    for (const [key, t] of this.#tracks) {
      if (!keep.has(key)) {
        this.#close(key, t);
      }
    }
  }

  get(streamId: string, trackId: string): PublishedTrack | undefined {
    return this.#tracks.get(trackKey(streamId, trackId))?.source;
  }

  /** The sender's `layers` announcement for a track (unknown rids are ignored). */
  setSending(streamId: string, trackId: string, sending: readonly string[]): void {
    const t = this.#tracks.get(trackKey(streamId, trackId));
    if (t !== undefined) {
      t.sending = new Set(sending);
      t.source.setAvailableRids(t.available());
      this.#log.debug({ trackId, sending }, 'link: relayed track sending');
    }
  }

  /** Per relayed track with a subscriber: the rids its subscribers use (the §8.3 union, 2 s hold). */
  demand(now: number): RelayedDemand[] {
    const out: RelayedDemand[] = [];
    if (this.#pausing()) {
      this.#constrainedUntil = now + CONSTRAINED_HOLD_MS;
    }
    const constrained = now < this.#constrainedUntil;
    for (const t of this.#tracks.values()) {
      const { streamId, trackId } = t.desc;
      if (t.source.sinkCount === 0 || t.source.closed) {
        continue;
      }
      if (t.desc.kind === 'audio') {
        out.push({ streamId, trackId, rids: [] });
        continue;
      }
      const ridOf = new Map(t.source.selectable().layers.map((l) => [l.id, l.rid]));
      const rid = (id: number | undefined): string | undefined =>
        id === undefined ? undefined : ridOf.get(id);
      const uses: LayerUse[] = [];
      for (const sink of t.source.sinks()) {
        const used = sink.usedLayers?.();
        uses.push({
          current: rid(used?.current),
          target: rid(used?.target),
          wanted: rid(sink.wantedLayer?.()),
        });
      }
      const layers = relayedDemand(t.demand, uses, rids(t.desc), t.sending, t.available(), now, constrained);
      out.push({ streamId, trackId, rids: layers });
    }
    return out;
  }

  /**
   * Whether the sender pauses a layer demanded here now (§8.5: a watched video track whose last demand has a
   * rid outside the sender's `layers`). While it does, and CONSTRAINED_HOLD_MS after, every demanded video
   * track also asks for its lowest layer (forwarding/layerDemand.ts `relayedDemand`), so each subscriber has
   * something before anyone gets an upgrade.
   */
  #pausing(): boolean {
    for (const t of this.#tracks.values()) {
      const sending = t.sending;
      if (sending === undefined || t.desc.kind !== 'video' || t.source.sinkCount === 0 || t.source.closed) {
        continue;
      }
      for (const rid of t.demand.layers) {
        if (!sending.has(rid)) {
          return true;
        }
      }
    }
    return false;
  }

  /** A keyframe request for the demanded (else available) layers of every relayed video track. */
  requestKeyframes(): void {
    for (const t of this.#tracks.values()) {
      if (t.desc.kind !== 'video') {
        continue;
      }
      const want = t.demand.layers.length > 0 ? t.demand.layers : t.available();
      for (const row of t.source.selectable().layers) {
        if (row.rid !== undefined && want.includes(row.rid)) {
          t.source.requestKeyframe(row.id, 'start');
        }
      }
    }
  }

  /** Sends the NACKs due now on the link; returns when the next ones are due. */
  flushNacks(now: number): number | undefined {
    let next: number | undefined;
    const send = (ssrc: number, seqs: number[]): void => {
      this.#host.sendRtcp(nackPacket(this.#host.rtcpSsrc, ssrc, seqs));
    };
    for (const t of this.#tracks.values()) {
      const at = t.source.flushNacks(now, send);
      if (at !== undefined && (next === undefined || at < next)) {
        next = at;
      }
    }
    return next;
  }

  /** An SR from the remote focus: feeds the sender clock of the track the trunk SSRC belongs to. */
  onSenderReport(ssrc: number, ntpMs: number, rtpTs: number, now: number): boolean {
    return this.#bySsrc.get(ssrc >>> 0)?.source.onSenderReport(ssrc >>> 0, ntpMs, rtpTs, now) ?? false;
  }

  /** The kind of the track a trunk SSRC is announced for. */
  kindOf(ssrc: number): 'audio' | 'video' | undefined {
    return this.#bySsrc.get(ssrc)?.desc.kind;
  }

  /** Packets received per trunk SSRC routed now (for tests and diagnostics). */
  receivedBySsrc(): Map<number, number> {
    const out = new Map<number, number>();
    for (const t of this.#tracks.values()) {
      for (const [ssrc, r] of t.routes) {
        out.set(ssrc, r.route.packets);
      }
    }
    return out;
  }

  /** The trunk SSRCs routed now. */
  ssrcs(): number[] {
    return [...this.#bySsrc.keys()];
  }

  tick(now: number): void {
    for (const t of this.#tracks.values()) {
      t.source.tick(now);
    }
  }

  /**
   * A relink: takes every track of `old` with its sinks; their routes are forgotten there and made here at
   * the next `set` (the new link's SSRCs may differ). A track of the same key here is replaced.
   */
  adoptFrom(old: RelayedTracks): void {
    if (old === this) {
      return;
    }
    for (const [key, t] of old.#tracks) {
      old.#forgetRoutes(t);
      const mine = this.#tracks.get(key);
      if (mine !== undefined) {
        this.#close(key, mine);
      }
      t.host = this.#host;
      this.#tracks.set(key, t);
      this.#route(t);
    }
    old.#tracks.clear();
  }

  /** Closes every track still here (their subscribers see the tracks end). */
  close(): void {
    for (const [key, t] of [...this.#tracks]) {
      this.#close(key, t);
    }
  }

  /** Routes every track again (the link's ingest now exists). */
  reroute(): void {
    for (const t of this.#tracks.values()) {
      t.routes.clear();
      this.#route(t);
    }
  }

  /**
   * Binds the track's announced SSRCs (SRs, keyframe requests) and routes them on the host's ingest when it
   * exists; forgets the ones no longer announced (or now carrying another rid).
   */
  #route(t: RelayedTrack): void {
    const want = ssrcsOf(t.desc);
    const ingest = this.#host.ingest();
    for (const [ssrc, r] of [...t.routes]) {
      if (!want.has(ssrc) || want.get(ssrc) !== r.rid) {
        ingest?.forget(ssrc);
        t.routes.delete(ssrc);
      }
    }
    for (const [ssrc, owner] of [...this.#bySsrc]) {
      if (owner === t && !want.has(ssrc)) {
        this.#bySsrc.delete(ssrc);
      }
    }
    for (const [ssrc, rid] of want) {
      const other = this.#bySsrc.get(ssrc);
      if (other !== undefined && other !== t) {
        other.routes.delete(ssrc); // announced by another track before: the newest announcement wins
      }
      this.#bySsrc.set(ssrc, t);
      t.source.bindSsrc(ssrc, rid);
      if (ingest !== undefined && !t.routes.has(ssrc)) {
        const route = new SsrcRoute(t);
        t.routes.set(ssrc, { route, rid });
        ingest.announce(ssrc, route, rid);
      }
    }
  }

  #forgetRoutes(t: RelayedTrack): void {
    const ingest = this.#host.ingest();
    for (const ssrc of t.routes.keys()) {
      ingest?.forget(ssrc);
    }
    t.routes.clear();
    for (const [ssrc, owner] of [...this.#bySsrc]) {
      if (owner === t) {
        this.#bySsrc.delete(ssrc);
      }
    }
  }

  #close(key: string, t: RelayedTrack): void {
    this.#forgetRoutes(t);
    this.#tracks.delete(key);
    t.source.close();
  }
}

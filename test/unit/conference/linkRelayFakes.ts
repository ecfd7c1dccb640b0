/**
 * A fake link peer (LinkPeerPort) for the link relay's unit tests: relayed sources are fake published tracks
 * (fakes.ts FakeSource, so the fake client peers can forward them), trunk sends are recorded, demand is set by
 * the test. Plus an oracle that knows which focus each member's membership names, and a relay wired to a fake
 * conference (fakes.ts rig) the way links.ts wires it.
 */
import { focusKey, type FocusId } from '../../../src/conference/focusId.js';
import { LinkRelay } from '../../../src/conference/linkRelay.js';
import type {
  LinkPeerEvents,
  LinkPeerPort,
  LinkStats,
  RelayedDemand,
  TrunkSendStatus,
  RemoteTrunkTrack,
  TrunkSendLayer,
  TrunkSendPort,
} from '../../../src/conference/linkPorts.js';
import type { TrackSourcePort } from '../../../src/conference/conferencePorts.js';
import type {
  AuthDecision,
  AuthQuery,
  FocusRef,
  MembershipOracle,
  RoomResolution,
} from '../../../src/conference/ports.js';
import { parseLinkFrame } from '../../../src/protocol/dc/linkParse.js';
import { serializeLinkFrame } from '../../../src/protocol/dc/linkSerialize.js';
import type { LinkMessage } from '../../../src/protocol/dc/linkTypes.js';
import type { IceCandidateInit } from '../../../src/protocol/sdp.js';
import { CONF, FakeSource, FOCUS, ROOM, rig, type Rig } from './fakes.js';

export const REMOTE: FocusId = { userId: '@sfu:b.example', deviceId: 'FB' };
export const SELF: FocusId = { userId: FOCUS.user_id, deviceId: FOCUS.device_id };

export class FakeTrunkSend implements TrunkSendPort {
  closed = false;
  readonly layerCalls: string[][] = [];
  constructor(
    readonly source: TrackSourcePort,
    readonly streamId: string,
    readonly trackId: string,
    readonly trunk: { audioSsrc?: number; layers?: readonly TrunkSendLayer[] },
  ) {}
  get sending(): readonly string[] {
    return this.layerCalls.at(-1) ?? [];
  }
  setLayers(rids: readonly string[]): void {
    this.layerCalls.push([...rids]);
  }
  close(): void {
    this.closed = true;
  }
}

type Listener = (...args: never[]) => void;

const key = (s: string, t: string): string => `${s}/${t}`;

export class FakeLinkPeer implements LinkPeerPort {
  /** The last `setRemoteTracks` and how many times it was called. */
  remoteTracks: readonly RemoteTrunkTrack[] = [];
  setRemoteTracksCalls = 0;
  /** Relayed sources by `stream/track`. */
  sources = new Map<string, FakeSource>();
  readonly remoteSending: { streamId: string; trackId: string; rids: string[] }[] = [];
  readonly sends: FakeTrunkSend[] = [];
  /** What `demand` returns (the test sets it). */
  demandList: RelayedDemand[] = [];
  keyframeRequests = 0;
  adoptedFrom: FakeLinkPeer | undefined;
  closed = false;
  readonly #listeners = new Map<string, Listener[]>();

  offer(): Promise<string> {
    return Promise.resolve('link-offer');
  }
  answer(): Promise<string> {
    return Promise.resolve('link-answer');
  }
  acceptAnswer(): Promise<void> {
    return Promise.resolve();
  }
  restartIce(): Promise<string> {
    return Promise.resolve('link-restart');
  }
  localCandidates(): IceCandidateInit[] {
    return [];
  }
  addRemoteCandidate(): Promise<void> {
    return Promise.resolve();
  }
  send(): boolean {
    return false;
  }

  setRemoteTracks(tracks: readonly RemoteTrunkTrack[]): void {
    this.setRemoteTracksCalls++;
    this.remoteTracks = tracks.map((t) => ({ ...t }));
    const keep = new Set<string>();
    for (const t of tracks) {
      const k = key(t.streamId, t.trackId);
      keep.add(k);
      if (!this.sources.has(k)) {
        this.sources.set(k, new FakeSource(`relayed:${k}`, t.kind));
      }
    }
    for (const [k, s] of this.sources) {
      if (!keep.has(k)) {
        s.closed = true;
        this.sources.delete(k);
      }
    }
  }
  relayedSource(streamId: string, trackId: string): FakeSource | undefined {
    return this.sources.get(key(streamId, trackId));
  }
  setRemoteSending(streamId: string, trackId: string, rids: readonly string[]): void {
    this.remoteSending.push({ streamId, trackId, rids: [...rids] });
  }
  demand(): RelayedDemand[] {
    return this.demandList;
  }
  trunkSends(): TrunkSendStatus[] {
    return this.sends
      .filter((s) => !s.closed)
      .map((s) => ({
        streamId: s.streamId,
        trackId: s.trackId,
        kind: s.source.kind,
        demanded: s.sending,
        sending: s.sending,
      }));
  }
  requestKeyframes(): void {
    this.keyframeRequests++;
  }
  adoptRelayed(old: LinkPeerPort): void {
    if (!(old instanceof FakeLinkPeer)) {
      throw new Error('not a fake link peer');
    }
    this.adoptedFrom = old;
    this.sources = old.sources;
    old.sources = new Map();
  }
  sendTrack(
    source: TrackSourcePort,
    streamId: string,
    trackId: string,
    trunk: { audioSsrc?: number; layers?: readonly TrunkSendLayer[] },
  ): FakeTrunkSend {
    const s = new FakeTrunkSend(source, streamId, trackId, trunk);
    this.sends.push(s);
    return s;
  }
  stats(): LinkStats {
    return {
      rtpIn: 0,
      rtpOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      estimateBps: undefined,
      budgetBps: 0,
      lastMediaAt: undefined,
    };
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  on<K extends keyof LinkPeerEvents>(event: K, listener: (...args: LinkPeerEvents[K]) => void): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as Listener);
    this.#listeners.set(event, list);
    return this;
  }
  emit<K extends keyof LinkPeerEvents>(event: K, ...args: LinkPeerEvents[K]): void {
    for (const l of this.#listeners.get(event) ?? []) {
      (l as (...a: LinkPeerEvents[K]) => void)(...args);
    }
  }
}

/** Each member's membership names one focus (default: the remote one, or none when strict); authorize checks it. */
export class FocusOracle implements MembershipOracle {
  readonly named = new Map<string, FocusRef>();
  /** Members not in `named` have no membership (instead of one naming the remote focus). */
  strict = false;
  authorize(q: AuthQuery): AuthDecision {
    const known = this.named.get(`${q.userId}|${q.deviceId}`);
    if (known === undefined && this.strict) {
      return { allowed: false, reason: 'no_membership' };
    }
    const f = known ?? { user_id: REMOTE.userId, device_id: REMOTE.deviceId };
    return f.user_id === q.focus.user_id && f.device_id === q.focus.device_id
      ? { allowed: true, expiresAt: Number.MAX_SAFE_INTEGER }
      : { allowed: false, reason: 'other_focus' };
  }
  resolveRoom(): RoomResolution {
    return { kind: 'room', roomId: ROOM };
  }
  fociInUse(): FocusRef[] {
    return [];
  }
  fociPresence(): [] {
    return [];
  }
  nextExpiry(): undefined {
    return undefined;
  }
}

export interface RelayRig {
  r: Rig;
  relay: LinkRelay;
  peer: FakeLinkPeer;
  oracle: FocusOracle;
  /** Link messages the relay sent, each checked to survive the link serializer and parser. */
  out: LinkMessage[];
  changed: number;
  /** The relay's messages since the last take. */
  take(): LinkMessage[];
}

export interface RelayRigOptions {
  keepLowestLayer?: boolean;
  maxListEntries?: number;
  remote?: FocusId;
  /** An existing conference rig (a second link on the same conference). */
  r?: Rig;
  random?: () => number;
}

/** A relay to REMOTE on a fake conference, attached to a fake link peer (not opened yet). */
export function relayRig(o: RelayRigOptions = {}): RelayRig {
  const r = o.r ?? rig();
  const oracle = new FocusOracle();
  const remote = o.remote ?? REMOTE;
  const maxListEntries = o.maxListEntries ?? 200;
  const rr: RelayRig = {
    r,
    oracle,
    peer: new FakeLinkPeer(),
    out: [],
    changed: 0,
    take: () => rr.out.splice(0),
    relay: undefined as unknown as LinkRelay,
  };
  rr.relay = new LinkRelay(
    {
      remote,
      linkKey: focusKey(remote),
      roomId: ROOM,
      confId: CONF,
      self: SELF,
      oracle,
      clock: r.clock,
      log: r.log,
      keepLowestLayer: o.keepLowestLayer ?? false,
      maxListEntries,
      send: (msg) => {
        const parsed = parseLinkFrame(serializeLinkFrame(msg), { maxBytes: 1 << 20, maxListEntries });
        if (!parsed.ok) {
          throw new Error(`the relay sent a frame the link parser refuses: ${JSON.stringify(parsed)}`);
        }
        rr.out.push(parsed.message);
      },
      publicationsChanged: () => {
        rr.changed++;
        r.conf.later('relayed publications changed', async () => {
          r.conf.broadcastMetadata();
          await r.conf.router.prune();
        });
      },
    },
    r.conf.router,
    o.random !== undefined ? { random: o.random } : {},
  );
  rr.relay.attach(rr.peer);
  return rr;
}

/** Link metadata of one remote member's stream: audio + a 3-layer simulcast video (q/h/f). */
export function remoteStream(
  name: string,
  over: { stream?: string; audio?: string; video?: string; ssrcBase?: number; muted?: boolean } = {},
): Record<string, unknown> {
  const base = over.ssrcBase ?? 5000;
  return {
    [over.stream ?? `${name}-s`]: {
      user_id: `@${name}:b.example`,
      device_id: `${name.toUpperCase()}DEV`,
      purpose: 'm.usermedia',
      audio_muted: over.muted ?? false,
      video_muted: false,
      tracks: {
        [over.audio ?? `${name}-a`]: { kind: 'audio', ssrc: base },
        [over.video ?? `${name}-v`]: {
          kind: 'video',
          width: 1280,
          height: 720,
          layers: [
            { rid: 'q', ssrc: base + 1, width: 320, height: 180 },
            { rid: 'h', ssrc: base + 2, width: 640, height: 360 },
            { rid: 'f', ssrc: base + 3, width: 1280, height: 720 },
          ],
        },
      },
    },
  };
}

/** A link frame from the remote, parsed as links.ts would. */
export function fromRemote(frame: unknown): LinkMessage {
  const parsed = parseLinkFrame(JSON.stringify(frame), { maxBytes: 1 << 20, maxListEntries: 200 });
  if (!parsed.ok) {
    throw new Error(`bad test frame: ${JSON.stringify(parsed)}`);
  }
  return parsed.message;
}

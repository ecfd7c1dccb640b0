/**
 * Fake ports for conference unit tests (no real peers): a peer that applies SDP by reading its m-lines, a media
 * layer that makes such peers, recording signalling, membership, metrics and host ports, a logger that keeps its
 * lines, and a conference wired to all of them on a FakeClock.
 */
import { pino, type Logger } from 'pino';
import { Conference } from '../../../src/conference/conference.js';
import type { LayerTable } from '../../../src/simulcast/layerTable.js';
import type { InviteCommand } from '../../../src/conference/commands.js';
import type { ConferenceHost } from '../../../src/conference/host.js';
import type {
  ConferenceMetricsPort,
  ConferenceRef,
  ForwardedTrackPort,
  ForwardingSlot,
  MediaPort,
  PeerPort,
  PeerPortEvents,
  SessionRef,
  TrackSourcePort,
} from '../../../src/conference/conferencePorts.js';
import type {
  AuthDecision,
  AuthQuery,
  Dest,
  FocusPresenceRef,
  FocusRef,
  MembershipOracle,
  RoomResolution,
  SignallingPort,
} from '../../../src/conference/ports.js';
import type { SessionIds } from '../../../src/conference/session.js';
import type { CascadeConfig, LimitsConfig } from '../../../src/config/types.js';
import type { ConferenceServices } from '../../../src/conference/core.js';
import { LinkRelay } from '../../../src/conference/linkRelay.js';
import {
  remoteMediaTracks,
  type IceCandidateInit,
  type RemoteMediaTrack,
} from '../../../src/protocol/sdp.js';
import { FakeClock } from '../../helpers/fakeClock.js';

export const ROOM = '!room:example.org';
export const CONF = 'conf1';
export const FOCUS: FocusRef = { user_id: '@sfu:example.org', device_id: 'SFUDEV' };

/** One published m-line for `sdpOf`. */
export interface MLine {
  kind: 'audio' | 'video';
  stream: string;
  track: string;
  /** Default sendrecv. */
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

/** A client offer whose m-lines carry `a=msid:<stream> <track>`, plus a data-channel m-line. */
export function sdpOf(lines: readonly MLine[], version = 1): string {
  const out = ['v=0', `o=- 1 ${version} IN IP4 127.0.0.1`, 's=-', 't=0 0'];
  lines.forEach((l, i) => {
    out.push(`m=${l.kind} 9 UDP/TLS/RTP/SAVPF 96`, `a=mid:${i}`, `a=${l.direction ?? 'sendrecv'}`);
    out.push(`a=msid:${l.stream} ${l.track}`);
  });
  out.push('m=application 9 UDP/DTLS/SCTP webrtc-datachannel', `a=mid:${lines.length}`);
  return out.map((l) => `${l}\r\n`).join('');
}

/** An offer the fake peer refuses to apply. */
export const BAD_SDP = 'v=0\r\nBAD\r\n';

export class FakeSource implements TrackSourcePort {
  closed = false;
  muted: boolean | undefined;
  declared: { width: number; height: number } | undefined;
  loudness = { sum: 0, count: 0 };
  /** One layer (no simulcast); a test may replace the table. */
  table: LayerTable = {
    ids: [0],
    layers: [
      {
        id: 0,
        rank: 0,
        rid: undefined,
        ssrc: undefined,
        restricted: undefined,
        measured: undefined,
        declared: undefined,
        size: undefined,
        active: true,
      },
    ],
  };
  constructor(
    readonly mid: string,
    readonly kind: 'audio' | 'video' = 'video',
  ) {}
  selectable(): LayerTable {
    return this.table;
  }
  setMuted(muted: boolean): void {
    this.muted = muted;
  }
  setDeclaredSize(size: { width: number; height: number } | undefined): void {
    this.declared = size;
  }
  takeLoudness(): { sum: number; count: number } {
    const l = this.loudness;
    this.loudness = { sum: 0, count: 0 };
    return l;
  }
}

export class FakeSlot {
  active = true;
  constructor(
    readonly kind: string,
    readonly streamId: string,
    readonly trackId: string,
  ) {}
}

export class FakeForwarded implements ForwardedTrackPort {
  closed = false;
  onEnded: (() => void) | undefined;
  requested: [number, number][] = [];
  constructor(
    readonly slot: FakeSlot,
    readonly source: FakeSource,
  ) {}
  setRequested(width: number, height: number): void {
    this.requested.push([width, height]);
  }
  /** What /status reads: a test sets them. */
  used: { current: number | undefined; target: number | undefined } = {
    current: undefined,
    target: undefined,
  };
  rateBytesPerS = 0;
  usedLayers(): { current: number | undefined; target: number | undefined } {
    return this.used;
  }
  /** The media layer ended it on its own (e.g. the publisher's track stopped). */
  end(): void {
    this.closed = true;
    this.onEnded?.();
  }
}

type Listener = (...args: never[]) => void;

export class FakePeer implements PeerPort {
  remoteSdp: string | undefined;
  /** How many times the conference asked for the SDP-parsed remote tracks. */
  remoteTracksCalls = 0;
  readonly sources = new Map<string, FakeSource>();
  readonly slots: FakeSlot[] = [];
  readonly forwarded: FakeForwarded[] = [];
  readonly remoteCandidates: { candidate: string }[] = [];
  readonly frames: string[] = [];
  readonly acceptedAnswers: string[] = [];
  /** What the conference did to this peer, in order (answer, candidate:<c>, close). */
  readonly events: string[] = [];
  /** When set, answer() waits for it (a slow peer). */
  gate: Promise<void> | undefined;
  /** When set, adding a remote candidate fails with it (a failing task). */
  candidateError: Error | undefined;
  rollbacks = 0;
  offers = 0;
  dcOpen = false;
  closed = false;
  candidates: IceCandidateInit[] = [
    { candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
  ];
  readonly #listeners = new Map<string, Listener[]>();

  constructor(readonly createdFor: string) {}

  async answer(offerSdp: string): Promise<string> {
    await this.gate;
    if (offerSdp.includes('BAD')) {
      throw new Error('unparsable offer');
    }
    this.remoteSdp = offerSdp;
    this.#syncSources();
    this.events.push('answer');
    return `answer-to:${offerSdp.length}`;
  }

  offer(): Promise<string> {
    this.offers++;
    return Promise.resolve(`sfu-offer-${this.offers}`);
  }

  acceptAnswer(sdp: string): Promise<void> {
    if (sdp.includes('BAD')) {
      return Promise.reject(new Error('unparsable answer'));
    }
    this.acceptedAnswers.push(sdp);
    return Promise.resolve();
  }

  rollback(): Promise<void> {
    this.rollbacks++;
    return Promise.resolve();
  }

  remoteTracks(): RemoteMediaTrack[] {
    this.remoteTracksCalls++;
    return this.remoteSdp === undefined ? [] : remoteMediaTracks(this.remoteSdp);
  }

  publishedTrack(mid: string): FakeSource | undefined {
    return this.sources.get(mid);
  }

  addForwardingTransceiver(kind: 'audio' | 'video', streamId: string, trackId: string): FakeSlot {
    const slot = new FakeSlot(kind, streamId, trackId);
    this.slots.push(slot);
    return slot;
  }

  forward(slot: ForwardingSlot, source: TrackSourcePort): FakeForwarded {
    if (!(slot instanceof FakeSlot) || !(source instanceof FakeSource)) {
      throw new Error('not a fake slot or source');
    }
    const f = new FakeForwarded(slot, source);
    this.forwarded.push(f);
    return f;
  }

  stopForwarding(track: ForwardedTrackPort): void {
    if (track instanceof FakeForwarded) {
      track.closed = true;
    }
  }

  releaseForwardingTransceiver(slot: ForwardingSlot): void {
    if (slot instanceof FakeSlot) {
      slot.active = false;
    }
  }

  localCandidates(): IceCandidateInit[] {
    return this.candidates;
  }

  addRemoteCandidate(c: { candidate: string }): Promise<void> {
    if (this.candidateError !== undefined) {
      return Promise.reject(this.candidateError);
    }
    this.remoteCandidates.push(c);
    this.events.push(`candidate:${c.candidate}`);
    return Promise.resolve();
  }

  send(text: string): boolean {
    if (!this.dcOpen) {
      return false;
    }
    this.frames.push(text);
    return true;
  }

  close(): Promise<void> {
    this.closed = true;
    this.events.push('close');
    return Promise.resolve();
  }

  on<K extends keyof PeerPortEvents>(event: K, listener: (...args: PeerPortEvents[K]) => void): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as Listener);
    this.#listeners.set(event, list);
    return this;
  }

  emit<K extends keyof PeerPortEvents>(event: K, ...args: PeerPortEvents[K]): void {
    for (const l of this.#listeners.get(event) ?? []) {
      (l as (...a: PeerPortEvents[K]) => void)(...args);
    }
  }

  /** Opens the data channel (frames are kept from now on). */
  open(): void {
    this.dcOpen = true;
    this.emit('dcopen');
  }

  /** A frame from the client. */
  client(msg: unknown): void {
    this.emit('dcmessage', typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Frames sent to the client, parsed; `drain` forgets them. */
  sent(drain = true): Record<string, unknown>[] {
    const out = this.frames.map((f) => JSON.parse(f) as Record<string, unknown>);
    if (drain) {
      this.frames.length = 0;
    }
    return out;
  }

  #syncSources(): void {
    const sending = new Set<string>();
    for (const t of remoteMediaTracks(this.remoteSdp ?? '')) {
      if (t.sending && t.mid !== undefined) {
        sending.add(t.mid);
        if (!this.sources.has(t.mid)) {
          this.sources.set(t.mid, new FakeSource(t.mid, t.kind));
        }
      }
    }
    for (const [mid, src] of this.sources) {
      if (!sending.has(mid)) {
        src.closed = true;
        this.sources.delete(mid);
      }
    }
  }
}

export class FakeMedia implements MediaPort {
  readonly peers: FakePeer[] = [];
  failNext = false;
  /** Handed to every new peer (see FakePeer.gate). */
  gate: Promise<void> | undefined;
  createPeer(offerSdp: string): FakePeer {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('no port left');
    }
    const p = new FakePeer(offerSdp);
    p.gate = this.gate;
    this.peers.push(p);
    return p;
  }
}

export interface Sent {
  dest: Dest;
  type: string;
  content: Record<string, unknown>;
}

export class FakeSignal implements SignallingPort {
  readonly sent: Sent[] = [];
  result: 'sent' | 'dropped' = 'sent';
  send(dest: Dest, type: string, content: Record<string, unknown>): Promise<'sent' | 'dropped'> {
    this.sent.push({ dest, type, content });
    return Promise.resolve(this.result);
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

/** Allows everyone unless a decision is set for `user|device`. */
export class FakeOracle implements MembershipOracle {
  readonly decisions = new Map<string, AuthDecision>();
  foci: FocusRef[] = [];
  readonly queries: AuthQuery[] = [];
  authorize(q: AuthQuery): AuthDecision {
    this.queries.push(q);
    return (
      this.decisions.get(`${q.userId}|${q.deviceId}`) ?? { allowed: true, expiresAt: Number.MAX_SAFE_INTEGER }
    );
  }
  resolveRoom(): RoomResolution {
    return { kind: 'room', roomId: ROOM };
  }
  fociInUse(): FocusRef[] {
    return this.foci;
  }
  presence: FocusPresenceRef[] = [];
  fociPresence(): FocusPresenceRef[] {
    return this.presence;
  }
  nextExpiry(): number | undefined {
    return undefined;
  }
}

export class FakeMetrics implements ConferenceMetricsPort {
  readonly calls: string[] = [];
  invite(result: string): void {
    this.calls.push(`invite:${result}`);
  }
  sessionEnded(reason: string): void {
    this.calls.push(`ended:${reason}`);
  }
  iceConnected(): void {
    this.calls.push('ice');
  }
  dcMessage(dialect: string, kind: string, result: string): void {
    this.calls.push(`dc:${dialect}:${kind}:${result}`);
  }
  renegotiation(initiator: string, result: string): void {
    this.calls.push(`reneg:${initiator}:${result}`);
  }
  linkRelink(reason: string): void {
    this.calls.push(`relink:${reason}`);
  }
  linkPeerClosed(): void {
    this.calls.push('link_peer_closed');
  }
}

export class FakeHost implements ConferenceHost {
  readonly events: string[] = [];
  sessionStarted(_c: ConferenceRef, s: SessionRef): void {
    this.events.push(`start:${s.userId}|${s.deviceId}|${s.callId}`);
  }
  sessionEnded(_c: ConferenceRef, s: SessionRef): void {
    this.events.push(`end:${s.userId}|${s.deviceId}|${s.callId}`);
  }
  empty(): void {
    this.events.push('empty');
  }
  async reroute(cmd: InviteCommand): Promise<void> {
    this.events.push(`reroute:${cmd.ids.userId}|${cmd.ids.deviceId}|${cmd.ids.callId}`);
  }
}

export const LIMITS: LimitsConfig = {
  max_participants: 100,
  max_invite_sdp_bytes: 65536,
  max_tracks_per_subscribe: 200,
  max_dc_message_bytes: 65536,
  max_transaction_bytes: 1048576,
  dc_messages_per_second: 1000,
  device_invites_per_second: 1,
  max_joined_rooms: 10000,
  max_room_state_bytes: 16777216,
};

export interface Rig {
  conf: Conference;
  clock: FakeClock;
  media: FakeMedia;
  signal: FakeSignal;
  oracle: FakeOracle;
  metrics: FakeMetrics;
  host: FakeHost;
  logs: Record<string, unknown>[];
  log: Logger;
}

export const CASCADE: CascadeConfig = {
  auto: true,
  initiate_grace_s: 3,
  link_alive_s: 1,
  max_links: 8,
  max_link_bps: 20_000_000,
  relink_grace_s: 20,
  linger_s: 30,
  keep_lowest_layer: false,
};

/** `links`: the link parts (linkCallFakes.ts); by default no link peer can be created. */
export function rig(
  limits: Partial<LimitsConfig> = {},
  links: Partial<Pick<ConferenceServices, 'linkMedia' | 'relays' | 'cascade' | 'random'>> = {},
): Rig {
  const clock = new FakeClock();
  const media = new FakeMedia();
  const signal = new FakeSignal();
  const oracle = new FakeOracle();
  const metrics = new FakeMetrics();
  const host = new FakeHost();
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  const conf = new Conference(ROOM, CONF, {
    oracle,
    signal,
    media,
    clock,
    log,
    metrics,
    focus: FOCUS,
    limits: { ...LIMITS, ...limits },
    keepalive: { intervalMs: 5000, timeoutMs: 30000 },
    answerTimeoutMs: 10000,
    linkMedia: {
      createLinkPeer() {
        throw new Error('this rig has no link media (linkCallFakes.ts has)');
      },
    },
    relays: { create: (d, router) => new LinkRelay(d, router) },
    cascade: CASCADE,
    random: { random: () => 0.5 },
    ...links,
    host,
    instance: 1,
  });
  return { conf, clock, media, signal, oracle, metrics, host, logs, log };
}

/** Session ids of user `name` (device `NAMEDEV`, call `call-name`, session `s-name`). */
export function idsOf(name: string, over: Partial<SessionIds> = {}): SessionIds {
  return {
    userId: `@${name}:example.org`,
    deviceId: `${name.toUpperCase()}DEV`,
    callId: `call-${name}`,
    senderSessionId: `s-${name}`,
    partyId: `${name.toUpperCase()}DEV`,
    roomId: ROOM,
    confId: CONF,
    ...over,
  };
}

export function refOf(ids: SessionIds): SessionRef {
  return {
    userId: ids.userId,
    deviceId: ids.deviceId,
    callId: ids.callId,
    senderSessionId: ids.senderSessionId,
  };
}

/** Metadata of one stream with the given tracks. */
export function meta(stream: string, tracks: Record<string, 'audio' | 'video'>, extra: object = {}): object {
  return {
    [stream]: {
      purpose: 'm.usermedia',
      audio_muted: false,
      video_muted: false,
      tracks: Object.fromEntries(Object.entries(tracks).map(([id, kind]) => [id, { kind }])),
      ...extra,
    },
  };
}

/** Invites `name` publishing audio+video as stream `<name>-s` (tracks `<name>-a`, `<name>-v`); returns its peer. */
export async function join(r: Rig, name: string, ids: SessionIds = idsOf(name)): Promise<FakePeer> {
  const before = r.media.peers.length;
  const result = await r.conf.dispatch({
    kind: 'invite',
    ids,
    sdp: sdpOf([
      { kind: 'audio', stream: `${name}-s`, track: `${name}-a` },
      { kind: 'video', stream: `${name}-s`, track: `${name}-v` },
    ]),
    metadata: meta(`${name}-s`, { [`${name}-a`]: 'audio', [`${name}-v`]: 'video' }) as Record<
      string,
      unknown
    >,
  });
  if (!result.ok) {
    throw result.error;
  }
  const peer = r.media.peers[before];
  if (peer === undefined) {
    throw new Error(`no peer created for ${name}`);
  }
  return peer;
}

/** The fake peer of a session. */
export function peerOf(s: { peer: PeerPort }): FakePeer {
  if (!(s.peer instanceof FakePeer)) {
    throw new Error('not a fake peer');
  }
  return s.peer;
}

// Fakes for link calls (protocol.md §8): a link peer and its media port, a relay that records what the links
// ask of it, and a rig (fakes.ts `rig`) with them, a foci-presence setter and helpers for the to-device events.
import type { IceCandidateInit } from '../../../src/protocol/sdp.js';
import type { TrackSourcePort } from '../../../src/conference/conferencePorts.js';
import type {
  LinkMediaPort,
  LinkPeerEvents,
  LinkPeerPort,
  LinkStats,
  RemoteTrunkTrack,
  RelayedDemand,
  TrunkSendStatus,
  TrunkSendPort,
} from '../../../src/conference/linkPorts.js';
import type { LinkRelayDeps, LinkRelayPort } from '../../../src/conference/linkRelayTypes.js';
import type { LinkMessage } from '../../../src/protocol/dc/linkTypes.js';
import type { CascadeConfig, LimitsConfig } from '../../../src/config/types.js';
import type { SessionIds } from '../../../src/conference/session.js';
import { CASCADE, CONF, ROOM, rig, type Rig } from './fakes.js';

type Listener = (...args: never[]) => void;

export const REMOTE = { user_id: '@sfu:other.example', device_id: 'OTHERDEV' };
export const THIRD = { user_id: '@sfu:third.example', device_id: 'THIRDDEV' };
/** Sorts below FOCUS (`@sfu:example.org|SFUDEV`): it invites first and wins crossings. */
export const LOWER = { user_id: '@sfu:a.example', device_id: 'ADEV' };

export class FakeLinkPeer implements LinkPeerPort {
  readonly events: string[] = [];
  readonly frames: string[] = [];
  readonly remoteCandidates: string[] = [];
  dcOpen = false;
  closed = false;
  /** Answers and offers fail with this (a bad SDP). */
  fail: Error | undefined;
  stats_: LinkStats = {
    rtpIn: 0,
    rtpOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    estimateBps: undefined,
    budgetBps: 0,
    lastMediaAt: undefined,
  };
  candidates: IceCandidateInit[] = [
    { candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 41000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
  ];
  readonly #listeners = new Map<string, Listener[]>();

  constructor(readonly maxLinkBps: number) {}

  offer(): Promise<string> {
    this.events.push('offer');
    return this.fail ? Promise.reject(this.fail) : Promise.resolve('v=0\r\nLINK-OFFER\r\n');
  }
  answer(offerSdp: string): Promise<string> {
    this.events.push(`answer:${offerSdp}`);
    return this.fail ? Promise.reject(this.fail) : Promise.resolve('v=0\r\nLINK-ANSWER\r\n');
  }
  acceptAnswer(sdp: string): Promise<void> {
    this.events.push(`acceptAnswer:${sdp}`);
    return this.fail ? Promise.reject(this.fail) : Promise.resolve();
  }
  restartIce(): Promise<string> {
    this.events.push('restartIce');
    return Promise.resolve('v=0\r\nRESTART\r\n');
  }
  localCandidates(): IceCandidateInit[] {
    return this.candidates;
  }
  addRemoteCandidate(c: { candidate: string }): Promise<void> {
    this.remoteCandidates.push(c.candidate);
    return Promise.resolve();
  }
  send(text: string): boolean {
    if (!this.dcOpen) {
      return false;
    }
    this.frames.push(text);
    return true;
  }
  setRemoteTracks(_tracks: readonly RemoteTrunkTrack[]): void {}
  relayedSource(): TrackSourcePort | undefined {
    return undefined;
  }
  setRemoteSending(): void {}
  demand(): RelayedDemand[] {
    return [];
  }
  trunkSends(): TrunkSendStatus[] {
    return [];
  }
  requestKeyframes(): void {
    this.events.push('requestKeyframes');
  }
  adoptRelayed(_old: LinkPeerPort): void {
    this.events.push('adoptRelayed');
  }
  sendTrack(): TrunkSendPort {
    throw new Error('not used by link calls');
  }
  stats(): LinkStats {
    return this.stats_;
  }
  close(): Promise<void> {
    this.closed = true;
    this.events.push('close');
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
  /** The link's data channel opens. */
  open(): void {
    this.dcOpen = true;
    this.emit('dcopen');
  }
  /** Frames sent on the link, parsed; `drain` forgets them. */
  sent(drain = true): Record<string, unknown>[] {
    const out = this.frames.map((f) => JSON.parse(f) as Record<string, unknown>);
    if (drain) {
      this.frames.length = 0;
    }
    return out;
  }
}

export class FakeLinkMedia implements LinkMediaPort {
  readonly peers: FakeLinkPeer[] = [];
  createLinkPeer(opts: { maxLinkBps: number }): FakeLinkPeer {
    const p = new FakeLinkPeer(opts.maxLinkBps);
    this.peers.push(p);
    return p;
  }
  last(): FakeLinkPeer {
    const p = this.peers.at(-1);
    if (p === undefined) {
      throw new Error('no link peer created');
    }
    return p;
  }
}

export class FakeRelay implements LinkRelayPort {
  readonly calls: string[] = [];
  readonly handled: LinkMessage[] = [];
  expecting = false;
  constructor(readonly deps: LinkRelayDeps) {}
  attach(peer: LinkPeerPort): void {
    this.calls.push(`attach:${peer instanceof FakeLinkPeer ? peer.maxLinkBps : 'other'}`);
  }
  opened(): void {
    this.calls.push('opened');
  }
  handle(msg: LinkMessage): void {
    this.handled.push(msg);
  }
  localChanged(): void {
    this.calls.push('localChanged');
  }
  tick(): void {}
  close(): void {
    this.calls.push('close');
  }
}

export interface LinkRig extends Rig {
  linkMedia: FakeLinkMedia;
  relays: FakeRelay[];
  /** Live members per focus: `[FOCUS, n], [REMOTE, m]`. */
  presence(...rows: [{ user_id: string; device_id: string }, number][]): void;
}

export function linkRig(cascade: Partial<CascadeConfig> = {}, limits: Partial<LimitsConfig> = {}): LinkRig {
  const linkMedia = new FakeLinkMedia();
  const relays: FakeRelay[] = [];
  const r = rig(limits, {
    linkMedia,
    relays: {
      create: (deps) => {
        const relay = new FakeRelay(deps);
        relays.push(relay);
        return relay;
      },
    },
    cascade: { ...CASCADE, ...cascade },
  });
  return {
    ...r,
    linkMedia,
    relays,
    presence(...rows) {
      r.oracle.presence = rows.map(([focus, liveMembers]) => ({ focus, liveMembers }));
    },
  };
}

/** The ids of a link invite from `focus` (sender_session_id "sfu"). */
export function linkIds(focus: { user_id: string; device_id: string }, callId: string): SessionIds {
  return {
    userId: focus.user_id,
    deviceId: focus.device_id,
    callId,
    senderSessionId: 'sfu',
    partyId: focus.device_id,
    roomId: ROOM,
    confId: CONF,
  };
}

export function linkRef(focus: { user_id: string; device_id: string }, callId: string) {
  return { userId: focus.user_id, deviceId: focus.device_id, callId, senderSessionId: 'sfu' };
}

/** Lets queued conference work (timers re-enter through `later`) run. */
export async function settle(r: Rig): Promise<void> {
  await r.conf.idle();
}

/** Advances the fake clock in `step` ms steps, letting the conference's queue run after each. */
export async function advance(r: Rig, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    r.clock.advance(Math.min(step, ms - t));
    await r.conf.idle();
  }
}

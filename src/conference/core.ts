/**
 * What the conference's parts (the call exchange, the data-channel ops) share with it: its services, the
 * router, its sessions and the few operations that span them. Conference implements it; everything here runs
 * on the conference's queue. Types only.
 */
import type { Logger } from 'pino';
import type { CascadeConfig, LimitsConfig } from '../config/types.js';
import type { StreamMetadata } from '../protocol/dc/types.js';
import type { HangupReason } from '../protocol/toDevice.js';
import type { Clock } from '../util/clock.js';
import type { ConferenceMetricsPort, MediaPort } from './conferencePorts.js';
import type { LinkMediaPort } from './linkPorts.js';
import type { Links } from './links.js';
import type { LinkRelayRouter } from './linkRelay.js';
import type { LinkRelayDeps, LinkRelayPort } from './linkRelayTypes.js';
import type { Dest, FocusRef, MembershipOracle, SignallingPort } from './ports.js';
import type { CallAddress } from './refusal.js';
import type { Router } from './router.js';
import type { Session } from './session.js';

/** What a conference needs from the rest of the SFU: ports and plain data, no closures. */
export interface ConferenceServices {
  oracle: MembershipOracle;
  signal: SignallingPort;
  media: MediaPort;
  clock: Clock;
  log: Logger;
  metrics: ConferenceMetricsPort;
  focus: FocusRef;
  limits: LimitsConfig;
  keepalive: { intervalMs: number; timeoutMs: number };
  answerTimeoutMs: number;
  /** The media side of links to other foci (protocol.md §8). */
  linkMedia: LinkMediaPort;
  /** The media routing of links: one relay per remote focus (linkRelay.ts). */
  relays: LinkRelayFactory;
  cascade: CascadeConfig;
  /** Values in [0, 1): link call ids and the policy's grace jitter. */
  random: RandomSource;
}

export interface LinkRelayFactory {
  /** The relay of one remote focus in a conference, routing through that conference's router. */
  create(deps: LinkRelayDeps, router: LinkRelayRouter): LinkRelayPort;
}

export interface RandomSource {
  random(): number;
}

export interface EndOptions {
  /** Hangup sent to the client; null = none (the client hung up, or cannot be reached). */
  notify: HangupReason | null;
  error?: { errcode: string; error: string };
  /**
   * The session is being replaced by a new invite of the same device: the conference stays open even if this
   * was its last session (the invite closes it if the new session does not start).
   */
  replacing?: boolean;
}

export interface ConferenceCore {
  readonly roomId: string;
  readonly confId: string;
  readonly services: ConferenceServices;
  readonly log: Logger;
  readonly router: Router<Session>;
  /** The conference's links to other foci (§8). */
  readonly links: Links;
  readonly size: number;
  session(participant: string): Session | undefined;
  /** Registers a new session and wires its peer, data channel and negotiator. */
  adopt(s: Session): void;
  end(s: Session, reason: string, opts: EndOptions): Promise<void>;
  /** Queues follow-up work (timers, media events) behind what is queued now. */
  later(what: string, task: () => void | Promise<void>): void;
  /** Stream metadata of the other participants available to `s` (answers, SFU offers, DC snapshots). */
  metadataFor(s: Session): StreamMetadata;
  /** Sends every session (except `except`) its full snapshot over the data channel. */
  broadcastMetadata(except?: Session): void;
  dest(s: Session): Dest;
  refuse(a: CallAddress, errcode: string, error: string): void;
}

/**
 * A participant's current call in one conference: its identifiers (protocol.md §4.3 key and the fields
 * every reply must echo) and its peer connection. The Conference owns it and drives its lifecycle.
 */
import type { StreamMetadata } from '../protocol/dc/types.js';
import type { ForwardedTrackPort, ForwardingSlot, PeerPort } from './conferencePorts.js';
import type { DcChannel } from './dcChannel.js';
import type { Negotiator } from './negotiator.js';

/** One forwarded track towards this session's client. */
export interface Subscription {
  readonly streamId: string;
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  readonly transceiver: ForwardingSlot;
  width: number;
  height: number;
  /** The media forwarding into the transceiver (undefined if the published track could not be found). */
  downTrack: ForwardedTrackPort | undefined;
}

export function trackKey(streamId: string, trackId: string): string {
  return JSON.stringify([streamId, trackId]);
}

export interface SessionIds {
  readonly userId: string;
  readonly deviceId: string;
  readonly callId: string;
  readonly senderSessionId: string;
  readonly partyId: string;
  readonly roomId: string;
  readonly confId: string;
}

export type SessionState = 'answering' | 'active' | 'closed';

export function participantKey(userId: string, deviceId: string): string {
  return JSON.stringify([userId, deviceId]);
}

export function sessionIndexKey(
  userId: string,
  deviceId: string,
  callId: string,
  senderSessionId: string,
): string {
  return JSON.stringify([userId, deviceId, callId, senderSessionId]);
}

export class Session {
  readonly ids: SessionIds;
  readonly peer: PeerPort;
  readonly createdAt: number;
  state: SessionState = 'answering';
  answeredAt: number | undefined;
  /** The last offer applied (an identical invite delivered twice is not renegotiated again). */
  lastOfferSdp: string | undefined;
  /** The session's own published streams (MSC3077), merged from invites and metadata messages. */
  metadata: StreamMetadata = {};
  /** The signalling data channel handler (set when the session starts). */
  dc: DcChannel | undefined;
  /** SFU-initiated renegotiation state (set when the session starts). */
  negotiator: Negotiator | undefined;
  /** Tracks forwarded to this client, by trackKey(stream, track). */
  readonly subscriptions = new Map<string, Subscription>();
  /** Local candidates already trickled (a renegotiation on the same transport sends none again). */
  readonly sentCandidates = new Set<string>();
  connectedAt: number | undefined;

  /** participantKey of its user and device (made once: routing reads it for every session every tick). */
  readonly participant: string;

  constructor(ids: SessionIds, peer: PeerPort, now: number) {
    this.ids = ids;
    this.peer = peer;
    this.createdAt = now;
    this.participant = participantKey(ids.userId, ids.deviceId);
  }

  /** Log bindings (the conference's logger already carries roomId and confId). */
  get logFields(): Record<string, string> {
    return {
      userId: this.ids.userId,
      deviceId: this.ids.deviceId,
      callId: this.ids.callId,
    };
  }
}

/**
 * The conferences as the operator's `/status` document shows them (README "Operations endpoints"): per
 * conference its participants (user and device id, session state), each published track's layers (rid, size,
 * bitrate over the last second), each subscription's forwarded layer and send rate, and each link to another
 * focus (state, RTP and bit rate in and out, trunk estimate, relayed tracks, the local tracks sent on its trunk
 * with their demanded and sent layers, and the layers demanded of the remote). Computed per request from what
 * the router, the sessions and the links already keep (nothing on the packet path), every list capped by
 * `StatusLimits` with the number left out. No call ids, session ids, SDP or ICE credentials.
 */
import type { ForwardedTrackPort, TrackSourcePort } from './conferencePorts.js';
import { focusKey } from './focusId.js';
import type { LinkSnapshot } from './linkRemotes.js';
import type { Publisher } from './metadataView.js';
import type { Publication } from './router.js';
import type { Session, SessionState } from './session.js';

/** Caps on what one `/status` document lists. */
export interface StatusLimits {
  /** Conferences listed (oldest first). */
  readonly conferences: number;
  /** Participants listed per conference. */
  readonly participants: number;
  /** Participants listed over all conferences. */
  readonly participantsTotal: number;
  /** Published tracks listed per participant. */
  readonly tracks: number;
  /** Subscriptions listed per participant. */
  readonly subscriptions: number;
  /** Links listed per conference. */
  readonly links: number;
  /** Relayed tracks listed per link. */
  readonly relayedTracks: number;
}

export const STATUS_LIMITS: StatusLimits = {
  conferences: 20,
  participants: 50,
  participantsTotal: 200,
  tracks: 8,
  subscriptions: 16,
  links: 16,
  relayedTracks: 32,
};

export interface LayerStatus {
  rid: string | null;
  /** Position in quality order, 0 = lowest. */
  rank: number;
  width: number | null;
  height: number | null;
  /** Bit rate over the last second; null before any packet. */
  bitrate_bps: number | null;
  /** Selectable now (RTP flowing, or announced for a relayed track). */
  active: boolean;
}

export interface TrackStatus {
  stream_id: string;
  track_id: string;
  kind: 'audio' | 'video';
  /** Sum of the layers' bit rates. */
  bitrate_bps: number;
  layers: LayerStatus[];
}

export interface SubscriptionStatus {
  stream_id: string;
  track_id: string;
  kind: 'audio' | 'video';
  /** The publisher's user id; null when the track is gone. */
  from_user_id: string | null;
  requested: { width: number; height: number };
  /** The layer being forwarded; null while none is. */
  layer: LayerStatus | null;
  /** The layer a pending switch waits for (a keyframe); null when none. */
  target_layer: LayerStatus | null;
  /** What the SFU sends on this subscription. */
  bitrate_bps: number;
}

export interface ParticipantStatus {
  user_id: string;
  device_id: string;
  state: SessionState;
  /** ICE/DTLS connected at least once. */
  connected: boolean;
  since_s: number;
  published: TrackStatus[];
  published_omitted: number;
  subscriptions: SubscriptionStatus[];
  subscriptions_omitted: number;
}

export interface RelayedTrackStatus extends TrackStatus {
  user_id: string | null;
}

export interface LinkStatus {
  remote: { user_id: string; device_id: string };
  state: string;
  rtp_in: number;
  rtp_out: number;
  bitrate_in_bps: number;
  bitrate_out_bps: number;
  /** Receive-side trunk capacity estimate (§8.5); null before one. */
  estimate_bps: number | null;
  /** Send budget: min(remote estimate, cap). */
  budget_bps: number;
  relayed: RelayedTrackStatus[];
  relayed_omitted: number;
  /** This focus's tracks sent on the trunk: the layers the remote demands and those sent after the budget. */
  trunk_sends: TrunkSendStatusJson[];
  trunk_sends_omitted: number;
  /** The layers this focus demands of the remote's relayed tracks (§8.3; audio: empty). */
  demand: { stream_id: string; track_id: string; layers: string[] }[];
  demand_omitted: number;
}

export interface TrunkSendStatusJson {
  stream_id: string;
  track_id: string;
  kind: 'audio' | 'video';
  demanded: string[];
  sending: string[];
}

export interface ConferenceStatus {
  room_id: string;
  conf_id: string;
  participants: ParticipantStatus[];
  participants_omitted: number;
  links: LinkStatus[];
  links_omitted: number;
}

/** The caps as the document states them. */
export interface StatusLimitsJson {
  conferences: number;
  participants: number;
  participants_total: number;
  tracks: number;
  subscriptions: number;
  links: number;
  relayed_tracks: number;
}

export interface ConferencesDetail {
  limits: StatusLimitsJson;
  conferences: ConferenceStatus[];
  conferences_omitted: number;
  participants_omitted: number;
}

/** What the view reads of a conference (Conference has it). */
export interface StatusConference {
  readonly roomId: string;
  readonly confId: string;
  sessions(): readonly Session[];
  readonly router: {
    publicationsOf(m: Session): readonly Publication[];
    find(streamId: string, trackId: string, except?: Session): Publication | undefined;
    publishers(): Publisher[];
    relayedOf(link: string): Publication[];
  };
  readonly links: { snapshot(): LinkSnapshot[] };
}

function layers(source: TrackSourcePort | undefined): LayerStatus[] {
  if (source === undefined) {
    return [];
  }
  return source.selectable().layers.map((l) => ({
    rid: l.rid ?? null,
    rank: l.rank,
    width: l.size?.width ?? null,
    height: l.size?.height ?? null,
    bitrate_bps: l.bitrateBps ?? null,
    active: l.active,
  }));
}

function track(p: Publication): TrackStatus {
  const ls = layers(p.source);
  return {
    stream_id: p.streamId,
    track_id: p.trackId,
    kind: p.kind,
    bitrate_bps: ls.reduce((sum, l) => sum + (l.bitrate_bps ?? 0), 0),
    layers: ls,
  };
}

function layerOf(source: TrackSourcePort | undefined, id: number | undefined): LayerStatus | null {
  if (source === undefined || id === undefined) {
    return null;
  }
  const table = source.selectable();
  const i = table.ids.indexOf(id);
  return i < 0 ? null : (layers(source)[i] ?? null);
}

function capped<T, U>(items: readonly T[], max: number, f: (x: T) => U): [U[], number] {
  return [items.slice(0, max).map(f), Math.max(0, items.length - max)];
}

function subscription(
  c: StatusConference,
  s: Session,
  owners: ReadonlyMap<string, string>,
  sub: { streamId: string; trackId: string; kind: 'audio' | 'video'; width: number; height: number },
  down: ForwardedTrackPort | undefined,
): SubscriptionStatus {
  const p = c.router.find(sub.streamId, sub.trackId, s);
  const used = down?.usedLayers() ?? { current: undefined, target: undefined };
  return {
    stream_id: sub.streamId,
    track_id: sub.trackId,
    kind: sub.kind,
    from_user_id: p === undefined ? null : (owners.get(p.owner) ?? null),
    requested: { width: sub.width, height: sub.height },
    layer: layerOf(p?.source, used.current),
    target_layer: used.target === used.current ? null : layerOf(p?.source, used.target),
    bitrate_bps: Math.round((down?.rateBytesPerS ?? 0) * 8),
  };
}

function participant(
  c: StatusConference,
  s: Session,
  owners: ReadonlyMap<string, string>,
  limits: StatusLimits,
  now: number,
): ParticipantStatus {
  const pubs = c.router.publicationsOf(s).filter((p) => p.sending);
  const [published, publishedOmitted] = capped(pubs, limits.tracks, track);
  const [subscriptions, subscriptionsOmitted] = capped(
    [...s.subscriptions.values()],
    limits.subscriptions,
    (sub) => subscription(c, s, owners, sub, sub.downTrack),
  );
  return {
    user_id: s.ids.userId,
    device_id: s.ids.deviceId,
    state: s.state,
    connected: s.connectedAt !== undefined,
    since_s: Math.max(0, Math.round((now - s.createdAt) / 1000)),
    published,
    published_omitted: publishedOmitted,
    subscriptions,
    subscriptions_omitted: subscriptionsOmitted,
  };
}

function link(
  c: StatusConference,
  l: LinkSnapshot,
  owners: ReadonlyMap<string, string>,
  limits: StatusLimits,
): LinkStatus {
  const relayedPubs = c.router.relayedOf(focusKey(l.remote)).filter((p) => p.sending);
  const [relayed, relayedOmitted] = capped(relayedPubs, limits.relayedTracks, (p) => ({
    user_id: owners.get(p.owner) ?? null,
    ...track(p),
  }));
  const [sends, sendsOmitted] = capped(l.sends, limits.relayedTracks, (s) => ({
    stream_id: s.streamId,
    track_id: s.trackId,
    kind: s.kind,
    demanded: [...s.demanded],
    sending: [...s.sending],
  }));
  const [demand, demandOmitted] = capped(l.demand, limits.relayedTracks, (d) => ({
    stream_id: d.streamId,
    track_id: d.trackId,
    layers: [...d.rids],
  }));
  return {
    remote: { user_id: l.remote.userId, device_id: l.remote.deviceId },
    state: l.state,
    rtp_in: l.stats.rtpIn,
    rtp_out: l.stats.rtpOut,
    bitrate_in_bps: Math.round(l.bitrate.in),
    bitrate_out_bps: Math.round(l.bitrate.out),
    estimate_bps: l.stats.estimateBps === undefined ? null : Math.round(l.stats.estimateBps),
    budget_bps: Math.round(l.stats.budgetBps),
    relayed,
    relayed_omitted: relayedOmitted,
    trunk_sends: sends,
    trunk_sends_omitted: sendsOmitted,
    demand,
    demand_omitted: demandOmitted,
  };
}

/** One conference, listing at most `maxParticipants` of its participants. */
export function conferenceStatus(
  c: StatusConference,
  limits: StatusLimits,
  now: number,
  maxParticipants = limits.participants,
): ConferenceStatus {
  const owners = new Map(c.router.publishers().map((p) => [p.key, p.owner.user_id]));
  const sessions = c.sessions();
  const [participants, participantsOmitted] = capped(
    sessions,
    Math.min(limits.participants, maxParticipants),
    (s) => participant(c, s, owners, limits, now),
  );
  const [links, linksOmitted] = capped(c.links.snapshot(), limits.links, (l) => link(c, l, owners, limits));
  return {
    room_id: c.roomId,
    conf_id: c.confId,
    participants,
    participants_omitted: participantsOmitted,
    links,
    links_omitted: linksOmitted,
  };
}

/** The first `limits.conferences` conferences (in the order given), within the overall participant cap. */
export function conferencesDetail(
  all: Iterable<StatusConference>,
  limits: StatusLimits,
  now: number,
): ConferencesDetail {
  const conferences: ConferenceStatus[] = [];
  let conferencesOmitted = 0;
  let participantsOmitted = 0;
  let budget = limits.participantsTotal;
  for (const c of all) {
    if (conferences.length >= limits.conferences) {
      conferencesOmitted++;
      continue;
    }
    const status = conferenceStatus(c, limits, now, budget);
    budget -= status.participants.length;
    participantsOmitted += status.participants_omitted;
    conferences.push(status);
  }
  return {
    limits: {
      conferences: limits.conferences,
      participants: limits.participants,
      participants_total: limits.participantsTotal,
      tracks: limits.tracks,
      subscriptions: limits.subscriptions,
      links: limits.links,
      relayed_tracks: limits.relayedTracks,
    },
    conferences,
    conferences_omitted: conferencesOmitted,
    participants_omitted: participantsOmitted,
  };
}

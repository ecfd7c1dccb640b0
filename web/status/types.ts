/**
 * The parts of the `/status` JSON document the page reads (README "Operations endpoints"), as the page's own
 * reading of it: nothing here is imported from the server. Every string in it may come from a user (user,
 * device, room, stream and track ids) and reaches the DOM only as text.
 */

export interface Layer {
  rid: string | null;
  rank: number;
  width: number | null;
  height: number | null;
  bitrate_bps: number | null;
  active: boolean;
}

export interface Track {
  stream_id: string;
  track_id: string;
  kind: string;
  bitrate_bps: number;
  layers: Layer[];
}

export interface Subscription {
  stream_id: string;
  track_id: string;
  kind: string;
  from_user_id: string | null;
  requested: { width: number; height: number };
  layer: Layer | null;
  target_layer: Layer | null;
  bitrate_bps: number;
}

export interface Participant {
  user_id: string;
  device_id: string;
  state: string;
  connected: boolean;
  since_s: number;
  published: Track[];
  published_omitted: number;
  subscriptions: Subscription[];
  subscriptions_omitted: number;
}

export interface Link {
  remote: { user_id: string; device_id: string };
  state: string;
  rtp_in: number;
  rtp_out: number;
  bitrate_in_bps: number;
  bitrate_out_bps: number;
  estimate_bps: number | null;
  budget_bps: number;
  relayed: (Track & { user_id: string | null })[];
  relayed_omitted: number;
  trunk_sends: {
    stream_id: string;
    track_id: string;
    kind: 'audio' | 'video';
    demanded: string[];
    sending: string[];
  }[];
  trunk_sends_omitted: number;
  demand: { stream_id: string; track_id: string; layers: string[] }[];
  demand_omitted: number;
}

export interface Conference {
  room_id: string;
  conf_id: string;
  participants: Participant[];
  participants_omitted: number;
  links: Link[];
  links_omitted: number;
}

export interface Status {
  name: string;
  version: string;
  uptime_s: number;
  focus: { user_id: string; device_id: string };
  ready: boolean;
  conferences: number;
  sessions: number;
  links: number;
  detail?: {
    conferences: Conference[];
    conferences_omitted: number;
    participants_omitted: number;
  };
}

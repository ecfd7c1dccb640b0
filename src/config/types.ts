/** The validated configuration, one slice per module. Defaults live in schema.ts. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type ToDeviceTransport = 'push' | 'sync';

export interface HomeserverConfig {
  url: string;
  server_name: string;
  request_timeout_s: number;
}

export interface MatrixConfig {
  auto_join: boolean;
  /** Server names and room ids whose invites the focus user accepts; empty = the homeserver's own server_name. */
  auto_join_allow: string[];
}

export interface AppserviceConfig {
  /** Registration id and the focus user's localpart, used when generating the registration. */
  id: string;
  sender_localpart: string;
  registration: string;
  bind: string;
  port: number;
}

export interface FocusConfig {
  device_id: string;
  display_name: string;
}

export interface ToDeviceConfig {
  transport: ToDeviceTransport;
}

export interface PortRange {
  min: number;
  max: number;
}

export interface MediaConfig {
  bind_address: string;
  announced_ips: string[];
  port_range: PortRange;
  pli_min_interval_ms: number;
  publisher_remb_bps: number;
  /**
   * The REMB to a publisher covers the simulcast layers up to the highest one anyone wants (and no more), so
   * browsers stop encoding and sending the layers above; `publisher_remb_bps` caps it. Off: always the cap.
   */
  publisher_remb_from_demand?: boolean;
  /** Receive buffer asked for each peer's UDP socket (0: the system default); capped by net.core.rmem_max. */
  udp_receive_buffer_bytes?: number;
  /**
   * Drop a client publisher's simulcast layer that no subscriber or link takes before decrypting it (one packet
   * per layer per 500 ms is still read). Off: every layer is decrypted and read, as before 2026-12-05.
   */
  skip_unwatched_layers?: boolean;
}

export interface KeepaliveConfig {
  interval_s: number;
  timeout_s: number;
}

export interface NegotiationConfig {
  answer_timeout_s: number;
}

export interface AuthConfig {
  membership_wait_s: number;
}

/** Links between foci (protocol.md §8, §9). */
export interface CascadeConfig {
  /** Link automatically to the other foci members of the conference name (§8.1). */
  auto: boolean;
  /** Seconds the higher-sorting focus waits for the lower one's invite (plus 0–1 s jitter). */
  initiate_grace_s: number;
  /** Seconds between `alive` messages on a link; 3 missed ones suspend it (§8.7). */
  link_alive_s: number;
  /** Links per conference. */
  max_links: number;
  /** Cap on each link's send rate, on top of its estimate (§8.5). */
  max_link_bps: number;
  /** Seconds a suspended or broken link's remote tracks are kept for a relink (§8.7). */
  relink_grace_s: number;
  /** Seconds an unneeded link lingers before its hangup (§8.7). */
  linger_s: number;
  /** Always demand the lowest layer of a relayed video track (§8.3). */
  keep_lowest_layer: boolean;
}

export interface LimitsConfig {
  max_participants: number;
  max_invite_sdp_bytes: number;
  max_tracks_per_subscribe: number;
  max_dc_message_bytes: number;
  max_transaction_bytes: number;
  dc_messages_per_second: number;
  /** Invites per (user, device) a second; bursts of ten seconds' worth, at least 10 (inviteBudget.ts). */
  device_invites_per_second: number;
  /**
   * Client SDP offers per session a second, bursts of five seconds' worth (at least 5); past the flood bound the
   * session is hung up (conference/dcOps.ts). Optional: configs built in code before it existed mean 1.
   */
  renegotiations_per_second?: number;
  /** Rooms bootstrapped at start-up (and conferences rebuilt from them, §2.6, §8.7); the rest are skipped. */
  max_joined_rooms: number;
  /** Size of one `GET /rooms/{id}/state` answer; a larger room is skipped (§2.6). */
  max_room_state_bytes: number;
}

export interface HttpConfig {
  bind: string;
  port: number;
  /**
   * How often the event-loop delay behind `nodejs_eventloop_lag_*` is sampled (prom-client's
   * `eventLoopMonitoringPrecision`): each sample wakes the process, so a short period is an idle cost.
   */
  event_loop_resolution_ms: number;
}

export interface WebConfig {
  /** Serve the web call page at `/call/` on the operations listener. */
  call_page: boolean;
  /** The homeserver URL the page suggests to people (default `homeserver.url`). */
  homeserver_url?: string;
}

export interface LoggingConfig {
  level: LogLevel;
}

export interface Config {
  homeserver: HomeserverConfig;
  matrix: MatrixConfig;
  appservice: AppserviceConfig;
  focus: FocusConfig;
  to_device: ToDeviceConfig;
  media: MediaConfig;
  keepalive: KeepaliveConfig;
  negotiation: NegotiationConfig;
  auth: AuthConfig;
  cascade: CascadeConfig;
  limits: LimitsConfig;
  http: HttpConfig;
  web: WebConfig;
  logging: LoggingConfig;
}

/** Public types of the test homeserver. */

/** application-service/definitions/namespace_list.yaml */
export interface NamespaceEntry {
  regex: string;
  exclusive: boolean;
}

/** The parsed registration YAML (application-service/definitions/registration.yaml, plus MSC2409/MSC4190 keys). */
export interface AsRegistration {
  id: string;
  url: string | null;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  namespaces: { users?: NamespaceEntry[]; rooms?: NamespaceEntry[]; aliases?: NamespaceEntry[] };
  rate_limited?: boolean;
  protocols?: string[];
  receive_ephemeral?: boolean;
  'de.sorunome.msc2409.push_ephemeral'?: boolean;
  'io.element.msc4190'?: boolean;
}

export type ToDevicePushKey = 'de.sorunome.msc2409.to_device' | 'to_device';

/** A further server name served by the same test homeserver, as if federated with the first one. */
export interface FederatedServerOptions {
  serverName: string;
  /** Registrations of this server name (their namespaces cover its users only). */
  appservices?: AsRegistration[];
  /** Its own listener's port; 0 (default) picks a free port. */
  port?: number;
}

export interface TestHomeserverOptions {
  serverName: string;
  appservices?: AsRegistration[];
  /**
   * Further server names served at once, each on its own listener (`TestHomeserver.urlOf`) with its own access
   * tokens and appservice registrations; users, rooms and to-device reach across them as over federation.
   * Default: none (one server name).
   */
  federation?: FederatedServerOptions[];
  /** Key under which to-device messages are pushed to appservices (default: the MSC2409 unstable one). */
  pushToDeviceKey?: ToDevicePushKey;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** MSC4190: an appservice may create devices with `PUT /devices/{deviceId}` (201). */
  msc4190?: boolean;
  logger?: false;
  /** Clock for `origin_server_ts` (default Date.now). */
  now?: () => number;
  /**
   * `GET /rooms/{roomId}/state` items: the spec (rooms.yaml) says ClientEvent, i.e. with `room_id`, and Synapse
   * sends it; by default this double omits it so a client must take the room id from the URL (works on both).
   */
  stateEventsIncludeRoomId?: boolean;
  /** Upper bound for `/sync?timeout=` (default 30000 ms). */
  maxSyncTimeoutMs?: number;
  /**
   * `org.matrix.msc4143.rtc_foci` of `/.well-known/matrix/client` (default: absent); entries are served as given,
   * so tests can announce malformed ones too. `TestHomeserver.setRtcFoci` changes it later.
   */
  rtcFoci?: unknown[];
  /** AS push retry backoff: first delay and cap (defaults 200 ms and 5000 ms). */
  pushRetry?: { initialMs?: number; maxMs?: number };
}

/** client-server/definitions/client_event.yaml */
export interface ClientEvent {
  event_id: string;
  room_id: string;
  sender: string;
  origin_server_ts: number;
  type: string;
  content: Record<string, unknown>;
  state_key?: string;
  unsigned?: Record<string, unknown>;
}

/** A to-device event as `/sync` returns it (`to_device.events[]`). */
export interface ToDeviceMessage {
  type: string;
  sender: string;
  content: Record<string, unknown>;
}

/** A to-device event as pushed to an appservice (MSC2409). */
export interface PushedToDevice extends ToDeviceMessage {
  to_user_id: string;
  to_device_id: string;
}

/**
 * A test's view of one to-device message on its way to one recipient (device id or `*`), after the request was
 * checked: it returns the content to deliver (the same or a rewritten copy), or `null` to drop the message.
 */
export type ToDeviceRewriter = (m: {
  sender: string;
  recipient: string;
  deviceId: string;
  type: string;
  content: Record<string, unknown>;
}) => Record<string, unknown> | null;

/** `messages` of `PUT /sendToDevice`: user id → device id or `*` → content. */
export type ToDeviceMessages = Record<string, Record<string, Record<string, unknown>>>;

export interface RequestRecord {
  method: string;
  /** Percent-decoded path, no query string. */
  path: string;
  rawPath: string;
  query: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined when absent or unparsable). */
  body: unknown;
  /** Who the request acted as, once authenticated. */
  userId?: string;
  deviceId?: string;
  appserviceId?: string;
  status?: number;
  /** Answered by a `failNext` rule. */
  injected?: boolean;
  at: number;
  /** The server name whose listener got it (only when the homeserver serves several). */
  serverName?: string;
}

export interface RejectionRecord {
  method: string;
  path: string;
  status: number;
  errcode: string;
  why: string;
  /** The server name whose listener refused it (only when the homeserver serves several). */
  serverName?: string;
}

export interface PushRecord {
  appserviceId: string;
  /** The server name of the appservice (only when the homeserver serves several). */
  serverName?: string;
  txnId: string;
  body: Record<string, unknown>;
  attempt: number;
  status?: number;
  responseBody?: string;
  error?: string;
}

export interface FailMatcher {
  method?: string;
  path: string | RegExp;
  /** Only requests to this server name's listener (default: any). */
  serverName?: string;
}

export interface InjectedResponse {
  status: number;
  body: unknown;
}

export interface CreatedUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

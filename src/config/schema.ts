/**
 * The JSON schema of the configuration file. Every slice has `default: {}` so nested defaults apply when a
 * whole section is omitted (ajv's JSONSchemaType cannot express that, so the schema is a plain SchemaObject;
 * test/unit/config checks that the validated defaults have exactly the shape of Config).
 */
import type { SchemaObject } from 'ajv';

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const seconds = (def: number) =>
  ({ type: 'number', exclusiveMinimum: 0, maximum: 86400, default: def }) as const;
const ip = { type: 'string', format: 'ip' } as const;

export const configSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['homeserver'],
  properties: {
    homeserver: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'server_name'],
      properties: {
        url: { type: 'string', format: 'http-url' },
        server_name: { type: 'string', format: 'server-name' },
        request_timeout_s: seconds(30),
      },
    },
    matrix: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        auto_join: { type: 'boolean', default: true },
        auto_join_allow: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
      },
    },
    appservice: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        id: { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,255}$', default: 'sfu' },
        sender_localpart: { type: 'string', pattern: '^[a-z0-9._=/+-]{1,255}$', default: 'sfu' },
        registration: { type: 'string', minLength: 1, default: 'registration.yaml' },
        bind: { ...ip, default: '127.0.0.1' },
        port: { ...port, default: 9000 },
      },
    },
    focus: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        device_id: { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,255}$', default: 'SFU' },
        display_name: { type: 'string', minLength: 1, maxLength: 255, default: 'SFU focus' },
      },
    },
    to_device: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        transport: { type: 'string', enum: ['push', 'sync'], default: 'push' },
      },
    },
    media: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        bind_address: { ...ip, default: '0.0.0.0' },
        announced_ips: { type: 'array', items: ip, uniqueItems: true, default: [] },
        port_range: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: [],
          properties: {
            min: { type: 'integer', minimum: 1024, maximum: 65535, default: 40000 },
            max: { type: 'integer', minimum: 1024, maximum: 65535, default: 49999 },
          },
        },
        pli_min_interval_ms: { type: 'integer', minimum: 0, maximum: 60000, default: 500 },
        publisher_remb_bps: { type: 'integer', minimum: 30000, maximum: 1000000000, default: 5000000 },
        publisher_remb_from_demand: { type: 'boolean', default: true },
        udp_receive_buffer_bytes: { type: 'integer', minimum: 0, maximum: 268435456, default: 1048576 },
        skip_unwatched_layers: { type: 'boolean', default: true },
      },
    },
    keepalive: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: { interval_s: seconds(5), timeout_s: seconds(30) },
    },
    negotiation: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: { answer_timeout_s: seconds(10) },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: { membership_wait_s: { type: 'number', minimum: 0, maximum: 300, default: 5 } },
    },
    // Reserved until cascading (protocol.md §8) is implemented: accepted, read by nothing yet (the pure link
    // policies in src/conference/linkPolicy.ts and linkLiveness.ts take these values once wired). Defaults: §9.
    cascade: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        auto: { type: 'boolean', default: true },
        initiate_grace_s: { type: 'number', minimum: 0, maximum: 3600, default: 3 },
        link_alive_s: { type: 'number', exclusiveMinimum: 0, maximum: 60, default: 1 },
        max_links: { type: 'integer', minimum: 1, maximum: 1000, default: 8 },
        max_link_bps: { type: 'integer', minimum: 64000, maximum: 100000000000, default: 20000000 },
        relink_grace_s: { type: 'number', minimum: 0, maximum: 3600, default: 20 },
        linger_s: { type: 'number', minimum: 0, maximum: 86400, default: 30 },
        keep_lowest_layer: { type: 'boolean', default: false },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        max_participants: { type: 'integer', minimum: 1, maximum: 100000, default: 100 },
        max_invite_sdp_bytes: { type: 'integer', minimum: 1024, maximum: 16777216, default: 262144 },
        max_tracks_per_subscribe: { type: 'integer', minimum: 1, maximum: 100000, default: 200 },
        max_dc_message_bytes: { type: 'integer', minimum: 1024, maximum: 16777216, default: 65536 },
        max_transaction_bytes: { type: 'integer', minimum: 1024, maximum: 1073741824, default: 16777216 },
        dc_messages_per_second: { type: 'number', exclusiveMinimum: 0, maximum: 1000000, default: 100 },
        device_invites_per_second: { type: 'number', exclusiveMinimum: 0, maximum: 1000000, default: 1 },
        renegotiations_per_second: { type: 'number', exclusiveMinimum: 0, maximum: 1000000, default: 1 },
        max_joined_rooms: { type: 'integer', minimum: 1, maximum: 1000000, default: 10000 },
        max_room_state_bytes: { type: 'integer', minimum: 1024, maximum: 1073741824, default: 16777216 },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        bind: { ...ip, default: '127.0.0.1' },
        port: { ...port, default: 8080 },
        event_loop_resolution_ms: { type: 'integer', minimum: 1, maximum: 60000, default: 100 },
      },
    },
    web: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        call_page: { type: 'boolean', default: false },
        homeserver_url: { type: 'string', format: 'http-url' },
      },
    },
    logging: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        level: {
          type: 'string',
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
        },
      },
    },
  },
};

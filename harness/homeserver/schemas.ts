/**
 * Request-body schemas, transcribed from the Matrix spec's OpenAPI files (matrix-spec/data/api/…) so that the
 * test homeserver rejects exactly what the spec rejects. Each schema names its source file. Failures are
 * 400 M_BAD_JSON, as Synapse answers.
 */
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { badJson } from './errors.js';
import type { AsRegistration, ToDeviceMessages } from './types.js';

const ajv = new Ajv({ allErrors: true });

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const obj = { type: 'object' } as const;
const userId = { type: 'string', pattern: '^@' } as const;

/** client-server/definitions/auth_data.yaml */
const authData = { type: 'object', properties: { type: str, session: str } } as const;

/** client-server/definitions/user_identifier.yaml; `m.id.user` needs `user` (spec: Identifier types). */
const userIdentifier = {
  type: 'object',
  required: ['type'],
  properties: { type: str },
  if: { properties: { type: { const: 'm.id.user' } } },
  then: { required: ['user'], properties: { user: str } },
} as const;

/**
 * client-server/registration.yaml POST /register; `type` is the appservice registration type
 * (application-service API, "Server admin style permissions").
 */
export interface RegisterBody {
  auth?: { type?: string; session?: string };
  username?: string;
  password?: string;
  device_id?: string;
  initial_device_display_name?: string;
  inhibit_login?: boolean;
  refresh_token?: boolean;
  type?: string;
}
const registerBody: SchemaObject = {
  type: 'object',
  properties: {
    auth: authData,
    username: str,
    password: str,
    device_id: str,
    initial_device_display_name: str,
    inhibit_login: bool,
    refresh_token: bool,
    type: str,
  },
};

/** client-server/login.yaml POST /login (`password` required for m.login.password, as its description says). */
export interface LoginBody {
  type: string;
  identifier?: { type: string; user?: string };
  user?: string;
  medium?: string;
  address?: string;
  password?: string;
  token?: string;
  device_id?: string;
  initial_device_display_name?: string;
  refresh_token?: boolean;
}
const loginBody: SchemaObject = {
  type: 'object',
  required: ['type'],
  properties: {
    type: str,
    identifier: userIdentifier,
    user: str,
    medium: str,
    address: str,
    password: str,
    token: str,
    device_id: str,
    initial_device_display_name: str,
    refresh_token: bool,
  },
  allOf: [
    { if: { properties: { type: { const: 'm.login.password' } } }, then: { required: ['password'] } },
    { if: { properties: { type: { const: 'm.login.token' } } }, then: { required: ['token'] } },
  ],
};

/** client-server/device_management.yaml PUT /devices/{deviceId} */
export interface UpdateDeviceBody {
  display_name?: string;
}
const updateDeviceBody: SchemaObject = { type: 'object', properties: { display_name: str } };

/** client-server/create_room.yaml POST /createRoom */
export interface InitialStateEvent {
  type: string;
  state_key?: string;
  content: Record<string, unknown>;
}
export interface CreateRoomBody {
  visibility?: 'public' | 'private';
  room_alias_name?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  invite_3pid?: Record<string, unknown>[];
  room_version?: string;
  creation_content?: Record<string, unknown>;
  initial_state?: InitialStateEvent[];
  preset?: 'private_chat' | 'public_chat' | 'trusted_private_chat';
  is_direct?: boolean;
  power_level_content_override?: Record<string, unknown>;
}
const createRoomBody: SchemaObject = {
  type: 'object',
  properties: {
    visibility: { type: 'string', enum: ['public', 'private'] },
    room_alias_name: str,
    name: str,
    topic: str,
    invite: { type: 'array', items: userId },
    // client-server/definitions/invite_3pid.yaml
    invite_3pid: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id_server', 'id_access_token', 'medium', 'address'],
        properties: { id_server: str, id_access_token: str, medium: str, address: str },
      },
    },
    room_version: str,
    creation_content: obj,
    initial_state: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'content'],
        properties: { type: str, state_key: str, content: obj },
      },
    },
    preset: { type: 'string', enum: ['private_chat', 'public_chat', 'trusted_private_chat'] },
    is_direct: bool,
    power_level_content_override: obj,
  },
};

/** client-server/joining.yaml POST /rooms/{roomId}/join and POST /join/{roomIdOrAlias} */
export interface JoinBody {
  third_party_signed?: Record<string, unknown>;
  reason?: string;
}
const joinBody: SchemaObject = { type: 'object', properties: { third_party_signed: obj, reason: str } };

/** client-server/leaving.yaml POST /rooms/{roomId}/leave */
export interface LeaveBody {
  reason?: string;
}
const leaveBody: SchemaObject = { type: 'object', properties: { reason: str } };

/** client-server/inviting.yaml, kicking.yaml, banning.yaml: POST /rooms/{roomId}/invite|kick|ban */
export interface TargetBody {
  user_id: string;
  reason?: string;
}
const targetBody: SchemaObject = {
  type: 'object',
  required: ['user_id'],
  properties: { user_id: userId, reason: str },
};

/** client-server/room_state.yaml and room_send.yaml: the body is the event content, any JSON object. */
const eventContent: SchemaObject = { type: 'object' };

/** event-schemas/schema/m.room.member.yaml (content) */
export interface MemberContent {
  membership: 'invite' | 'join' | 'knock' | 'leave' | 'ban';
  displayname?: string | null;
  avatar_url?: string;
  is_direct?: boolean;
  reason?: string;
  join_authorised_via_users_server?: string;
  [k: string]: unknown;
}
const memberContent: SchemaObject = {
  type: 'object',
  required: ['membership'],
  properties: {
    membership: { type: 'string', enum: ['invite', 'join', 'knock', 'leave', 'ban'] },
    displayname: { type: ['string', 'null'] },
    avatar_url: { type: 'string', pattern: '^mxc:\\/\\/' },
    is_direct: bool,
    reason: str,
    join_authorised_via_users_server: userId,
    third_party_invite: { type: 'object', required: ['display_name', 'signed'] },
  },
};

/**
 * client-server/to_device.yaml PUT /sendToDevice/{eventType}/{txnId}. The spec keys `messages` by user id
 * (`patternProperties: {"^@": …}`, x-pattern-format mx-user-id); this double also refuses other keys.
 */
export interface SendToDeviceBody {
  messages: ToDeviceMessages;
}
const sendToDeviceBody: SchemaObject = {
  type: 'object',
  required: ['messages'],
  properties: {
    messages: {
      type: 'object',
      propertyNames: { pattern: '^@' },
      additionalProperties: { type: 'object', additionalProperties: { type: 'object' } },
    },
  },
};

/** client-server/appservice_ping.yaml POST /appservice/{appserviceId}/ping */
export interface PingBody {
  transaction_id?: string;
}
const pingBody: SchemaObject = { type: 'object', properties: { transaction_id: str } };

/** application-service/definitions/registration.yaml + namespace_list.yaml */
const namespaceList = {
  type: 'array',
  items: { type: 'object', required: ['regex', 'exclusive'], properties: { regex: str, exclusive: bool } },
} as const;
const registration: SchemaObject = {
  type: 'object',
  required: ['id', 'url', 'as_token', 'hs_token', 'sender_localpart', 'namespaces'],
  properties: {
    id: str,
    url: { type: ['null', 'string'] },
    as_token: str,
    hs_token: str,
    sender_localpart: str,
    receive_ephemeral: bool,
    'de.sorunome.msc2409.push_ephemeral': bool,
    'io.element.msc4190': bool,
    namespaces: {
      type: 'object',
      properties: { users: namespaceList, rooms: namespaceList, aliases: namespaceList },
    },
    rate_limited: bool,
    protocols: { type: 'array', items: str },
  },
};

function compile<T>(schema: SchemaObject): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

export const validators = {
  register: compile<RegisterBody>(registerBody),
  login: compile<LoginBody>(loginBody),
  updateDevice: compile<UpdateDeviceBody>(updateDeviceBody),
  createRoom: compile<CreateRoomBody>(createRoomBody),
  join: compile<JoinBody>(joinBody),
  leave: compile<LeaveBody>(leaveBody),
  target: compile<TargetBody>(targetBody),
  eventContent: compile<Record<string, unknown>>(eventContent),
  memberContent: compile<MemberContent>(memberContent),
  sendToDevice: compile<SendToDeviceBody>(sendToDeviceBody),
  ping: compile<PingBody>(pingBody),
  registration: compile<AsRegistration>(registration),
};

export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return ajv.errorsText(errors, { dataVar: 'body' });
}

/** Validates `body` or throws 400 M_BAD_JSON naming what failed. */
export function check<T>(validate: ValidateFunction<T>, body: unknown): T {
  if (!validate(body)) {
    throw badJson(describeErrors(validate.errors));
  }
  return body;
}

/**
 * Account endpoints: versions.yaml, registration.yaml (plain registration through User-Interactive Auth with
 * m.login.dummy, and appservice registration), login.yaml (m.login.password, m.login.application_service),
 * device_management.yaml (GET/PUT /devices, MSC4190 creation with 201), whoami.yaml.
 */
import type { Appservice } from '../appservices.js';
import type { ServerContext } from '../context.js';
import { outcome, violation, invalidParam, forbidden, notFound } from '../errors.js';
import { isValidLocalpart, randomString } from '../ids.js';
import { queryParam } from '../auth.js';
import type { Router } from '../routing.js';
import { validators, type LoginBody, type RegisterBody } from '../schemas.js';
import type { HomeserverState } from '../state.js';

const AS_TYPE = 'm.login.application_service';
const V3 = '/_matrix/client/v3';

export function accountRoutes(router: Router, ctx: ServerContext): void {
  const { state } = ctx;

  router.add({
    method: 'GET',
    url: '/_matrix/client/versions',
    auth: 'none',
    handler: () => ({
      body: {
        versions: [
          'v1.1',
          'v1.2',
          'v1.3',
          'v1.4',
          'v1.5',
          'v1.6',
          'v1.7',
          'v1.8',
          'v1.9',
          'v1.10',
          'v1.11',
          'v1.12',
        ],
        unstable_features: {
          'org.matrix.msc3202': true,
          'io.element.msc4190': ctx.options.msc4190,
          // sticky events (sticky.ts)
          'org.matrix.msc4354': true,
        },
      },
    }),
  });

  router.add<RegisterBody>({
    method: 'POST',
    url: `${V3}/register`,
    auth: 'optional',
    body: validators.register,
    handler: ({ body, token, query, record }) => {
      const kind = queryParam(query, 'kind') ?? 'user';
      if (kind !== 'user' && kind !== 'guest') {
        throw invalidParam(`Invalid kind ${JSON.stringify(kind)}`);
      }
      if (kind === 'guest') {
        throw forbidden('Guest access is disabled');
      }
      if (token !== undefined) {
        const as = state.appservices.byToken(token);
        if (as === undefined) {
          throw violation(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token.');
        }
        record.appserviceId = as.id;
        return { body: registerForAppservice(state, as, body) };
      }
      if (body.type === AS_TYPE) {
        throw violation(401, 'M_MISSING_TOKEN', `${AS_TYPE} registration needs the appservice's as_token`);
      }
      return registerWithUia(state, body);
    },
  });

  router.add({
    method: 'GET',
    url: `${V3}/login`,
    auth: 'none',
    handler: () => ({ body: { flows: [{ type: 'm.login.password' }, { type: AS_TYPE }] } }),
  });

  router.add<LoginBody>({
    method: 'POST',
    url: `${V3}/login`,
    auth: 'optional',
    body: validators.login,
    handler: ({ body, token, record }) => {
      if (body.type !== 'm.login.password' && body.type !== AS_TYPE) {
        throw violation(400, 'M_UNKNOWN', `Unknown login type ${body.type}`);
      }
      const userId = loginUserId(state, body);
      if (body.type === 'm.login.password') {
        const user = state.isLocal(userId) ? state.user(userId) : undefined;
        if (user?.password === undefined || user.password !== body.password) {
          throw forbidden('Invalid username or password');
        }
      } else {
        const as = appserviceFromToken(state, token);
        record.appserviceId = as.id;
        if (!as.isInterestedInUser(userId)) {
          throw violation(403, 'M_FORBIDDEN', `Appservice ${as.id} may not log in as ${userId}`);
        }
        if (!state.isLocal(userId) || !state.userExists(userId)) {
          throw violation(403, 'M_FORBIDDEN', `Unknown user ${userId}`);
        }
      }
      record.userId = userId;
      const { device } = state.ensureDevice(userId, body.device_id, body.initial_device_display_name);
      return {
        body: {
          user_id: userId,
          access_token: state.issueToken(userId, device.deviceId),
          device_id: device.deviceId,
          home_server: state.serverName,
        },
      };
    },
  });

  router.add({
    method: 'GET',
    url: `${V3}/account/whoami`,
    auth: 'required',
    handler: ({ requester }) => ({
      body: {
        user_id: requester!.userId,
        ...(requester!.deviceId === undefined ? {} : { device_id: requester!.deviceId }),
      },
    }),
  });

  router.add({
    method: 'GET',
    url: `${V3}/devices`,
    auth: 'required',
    handler: ({ requester }) => ({
      body: {
        devices: [...(state.user(requester!.userId)?.devices.values() ?? [])].map((d) => ({
          device_id: d.deviceId,
          ...(d.displayName === undefined ? {} : { display_name: d.displayName }),
        })),
      },
    }),
  });

  router.add({
    method: 'GET',
    url: `${V3}/devices/:deviceId`,
    auth: 'required',
    handler: ({ requester, params }) => {
      const device = state.device(requester!.userId, params.deviceId!);
      if (device === undefined) {
        throw notFound('Device not found');
      }
      return {
        body: {
          device_id: device.deviceId,
          ...(device.displayName === undefined ? {} : { display_name: device.displayName }),
        },
      };
    },
  });

  router.add({
    method: 'PUT',
    url: `${V3}/devices/:deviceId`,
    auth: 'required',
    body: validators.updateDevice,
    handler: ({ requester, params, body }) => {
      const device = state.device(requester!.userId, params.deviceId!);
      if (device !== undefined) {
        if (body.display_name !== undefined) {
          device.displayName = body.display_name;
        }
        return { body: {} };
      }
      if (ctx.options.msc4190 && requester!.appservice !== undefined) {
        state.ensureDevice(requester!.userId, params.deviceId, body.display_name);
        return { status: 201, body: {} };
      }
      throw notFound('Device not found');
    },
  });

  function appserviceFromToken(s: HomeserverState, token: string | undefined): Appservice {
    if (token === undefined) {
      throw violation(401, 'M_MISSING_TOKEN', `${AS_TYPE} login needs the appservice's as_token`);
    }
    const as = s.appservices.byToken(token);
    if (as === undefined) {
      throw violation(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token.');
    }
    return as;
  }
}

/** The user a login names: `identifier` (m.id.user) or the deprecated `user`; localpart or full id. */
function loginUserId(state: HomeserverState, body: LoginBody): string {
  let user: string | undefined;
  if (body.identifier !== undefined) {
    if (body.identifier.type !== 'm.id.user') {
      throw violation(400, 'M_UNKNOWN', `Unknown login identifier type ${body.identifier.type}`);
    }
    user = body.identifier.user;
  } else {
    user = body.user;
  }
  if (user === undefined) {
    throw violation(400, 'M_MISSING_PARAM', 'Missing identifier');
  }
  return user.startsWith('@') ? user : state.userIdFor(user);
}

/** application-service API "Server admin style permissions": register a user of the AS's namespace. */
function registerForAppservice(
  state: HomeserverState,
  as: Appservice,
  body: RegisterBody,
): Record<string, unknown> {
  if (body.type !== AS_TYPE) {
    throw violation(400, 'M_BAD_JSON', `Appservice registration must use type ${AS_TYPE}`);
  }
  if (body.username === undefined) {
    throw violation(400, 'M_MISSING_PARAM', 'Appservice registration needs a username');
  }
  const userId = checkUsername(state, body.username, as);
  if (!as.isInterestedInUser(userId)) {
    throw violation(400, 'M_EXCLUSIVE', 'Invalid user localpart for this application service.');
  }
  if (state.userExists(userId)) {
    throw outcome(400, 'M_USER_IN_USE', 'Desired user ID is already taken.');
  }
  state.createUser(body.username, { appserviceId: as.id });
  return loginResult(state, userId, body);
}

/** Plain registration (dev/test users): checks before User-Interactive Auth, then one m.login.dummy stage. */
function registerWithUia(state: HomeserverState, body: RegisterBody): { status?: number; body: unknown } {
  if (body.username !== undefined) {
    const userId = checkUsername(state, body.username, undefined);
    if (state.userExists(userId)) {
      throw outcome(400, 'M_USER_IN_USE', 'Desired user ID is already taken.');
    }
  }
  const uia = { flows: [{ stages: ['m.login.dummy'] }], params: {}, session: randomString(24) };
  if (body.auth === undefined) {
    return { status: 401, body: uia };
  }
  if (body.auth.type !== 'm.login.dummy') {
    return {
      status: 401,
      body: { ...uia, errcode: 'M_UNRECOGNIZED', error: `Unsupported auth type ${String(body.auth.type)}` },
    };
  }
  let localpart = body.username;
  while (localpart === undefined || state.userExists(state.userIdFor(localpart))) {
    localpart = randomString(12, 'abcdefghijklmnopqrstuvwxyz0123456789');
  }
  const user = state.createUser(localpart, body.password === undefined ? {} : { password: body.password });
  return { body: loginResult(state, user.userId, body) };
}

function checkUsername(state: HomeserverState, username: string, as: Appservice | undefined): string {
  if (!isValidLocalpart(username)) {
    throw violation(400, 'M_INVALID_USERNAME', `Invalid username ${JSON.stringify(username)}`);
  }
  const userId = state.userIdFor(username);
  const owner = state.appservices.exclusiveOwner(userId, as);
  if (owner !== undefined) {
    throw violation(400, 'M_EXCLUSIVE', `${userId} is reserved by an application service`);
  }
  return userId;
}

function loginResult(state: HomeserverState, userId: string, body: RegisterBody): Record<string, unknown> {
  if (body.inhibit_login === true) {
    return { user_id: userId, home_server: state.serverName };
  }
  const { device } = state.ensureDevice(userId, body.device_id, body.initial_device_display_name);
  return {
    user_id: userId,
    access_token: state.issueToken(userId, device.deviceId),
    device_id: device.deviceId,
    home_server: state.serverName,
  };
}

/**
 * Access-token authentication (client-server API "Client authentication" and application-service "Identity
 * assertion"): `Authorization: Bearer` or the legacy `access_token` query parameter (not both); an as_token
 * acts as its sender user or, with `?user_id=`, any registered user of its namespace; MSC3202/MSC4326 let it
 * pick one of that user's devices with `org.matrix.msc3202.device_id` / `device_id`.
 */
import type { Appservice } from './appservices.js';
import { violation } from './errors.js';
import type { HomeserverState } from './state.js';

export interface Requester {
  userId: string;
  /** The device of a user token, or the device an appservice asserted. */
  deviceId?: string;
  appservice?: Appservice;
}

export type Query = Record<string, string | string[] | undefined>;

export function queryParam(query: Query, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The presented token, undefined when none; 401 M_MISSING_TOKEN for a malformed header or two tokens. */
export function extractToken(headers: Record<string, unknown>, query: Query): string | undefined {
  const header = headers.authorization;
  const fromQuery = queryParam(query, 'access_token');
  let fromHeader: string | undefined;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m === null) {
      throw violation(401, 'M_MISSING_TOKEN', 'Invalid Authorization header.');
    }
    fromHeader = m[1];
  }
  if (fromHeader !== undefined && fromQuery !== undefined) {
    throw violation(
      401,
      'M_MISSING_TOKEN',
      'Mixing Authorization headers and access_token query parameters.',
    );
  }
  return fromHeader ?? fromQuery;
}

export function authenticate(state: HomeserverState, token: string | undefined, query: Query): Requester {
  if (token === undefined) {
    throw violation(401, 'M_MISSING_TOKEN', 'Missing access token.');
  }
  const as = state.appservices.byToken(token);
  if (as === undefined) {
    const session = state.lookupToken(token);
    if (session === undefined) {
      throw violation(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token.');
    }
    return { userId: session.userId, deviceId: session.deviceId };
  }
  const asserted = queryParam(query, 'user_id');
  const userId = asserted ?? as.senderUserId;
  if (!as.isInterestedInUser(userId)) {
    throw violation(403, 'M_FORBIDDEN', `Application service cannot masquerade as this user (${userId}).`);
  }
  if (!state.isLocal(userId) || !state.userExists(userId)) {
    throw violation(403, 'M_FORBIDDEN', `Application service has not registered this user (${userId}).`);
  }
  const deviceId = queryParam(query, 'org.matrix.msc3202.device_id') ?? queryParam(query, 'device_id');
  if (deviceId === undefined) {
    return { userId, appservice: as };
  }
  if (state.device(userId, deviceId) === undefined) {
    // Synapse's answer (MSC3202 left the code open): 400 M_EXCLUSIVE.
    throw violation(
      400,
      'M_EXCLUSIVE',
      `Application service trying to use a device that doesn't exist ('${deviceId}' for ${userId})`,
    );
  }
  return { userId, deviceId, appservice: as };
}

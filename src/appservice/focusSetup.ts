/**
 * Start-up identity of the focus (protocol.md §2.1): register the appservice user (M_USER_IN_USE is fine),
 * make sure the focus device exists (PUT /devices: 200 exists, 201 created by MSC4190; 404 → login with that
 * device_id, which must come back unchanged). M_APPSERVICE_LOGIN_UNSUPPORTED is a fatal configuration error.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../util/errors.js';
import { MatrixHttpError, type HomeserverClient } from './homeserverClient.js';

const LOGIN_UNSUPPORTED = new Set([
  'M_APPSERVICE_LOGIN_UNSUPPORTED',
  'IO.ELEMENT.MSC4190.M_APPSERVICE_LOGIN_UNSUPPORTED',
]);

export interface FocusSetupResult {
  userCreated: boolean;
  device: 'exists' | 'created' | 'logged-in';
}

export async function ensureFocusIdentity(
  client: HomeserverClient,
  focus: { localpart: string; deviceId: string; displayName: string },
  log: Logger,
): Promise<FocusSetupResult> {
  const userCreated = await client.registerAppserviceUser(focus.localpart);
  log.info({ user: client.userId, created: userCreated }, 'focus user registered');
  const put = await client.putDevice(focus.deviceId, focus.displayName);
  if (put !== 'missing') {
    log.info({ device: focus.deviceId, result: put }, 'focus device present');
    return { userCreated, device: put };
  }
  let deviceId: string;
  try {
    deviceId = await client.loginWithDevice(focus.localpart, focus.deviceId, focus.displayName);
  } catch (e) {
    if (e instanceof MatrixHttpError && LOGIN_UNSUPPORTED.has(e.errcode)) {
      throw new ConfigError([
        `registration: the homeserver refuses appservice login (${e.errcode}); enable MSC4190 device management ("io.element.msc4190: true" in the registration) so the focus device can be created`,
      ]);
    }
    throw e;
  }
  if (deviceId !== focus.deviceId) {
    throw new ConfigError([
      `config.focus.device_id: the homeserver created device ${JSON.stringify(deviceId)} instead of ${JSON.stringify(focus.deviceId)}`,
    ]);
  }
  log.info({ device: deviceId }, 'focus device created by login');
  return { userCreated, device: 'logged-in' };
}

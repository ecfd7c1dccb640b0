/**
 * Getting an access token: `POST /_matrix/client/v3/login` with `m.login.password` (Client-Server API, login.yaml),
 * or credentials the page already has. Failures become named errors (errors.ts).
 */
import { HomeserverUnreachableError, LoginError } from './errors.js';
import { describeError, isObject } from './ids.js';
import { MatrixHttp, MatrixRequestError, type FetchLike } from './matrix.js';

export interface PasswordLogin {
  /** Localpart or full user id. */
  user: string;
  password: string;
  /** Re-use this device (default: the homeserver makes a new one). */
  deviceId?: string;
  /** `initial_device_display_name` of a new device. */
  deviceName?: string;
}

export interface TokenLogin {
  accessToken: string;
  userId: string;
  deviceId: string;
}

export interface Credentials {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export const isPasswordLogin = (l: PasswordLogin | TokenLogin): l is PasswordLogin => 'password' in l;

/** Logs in with a password; resolves with the new device's credentials. */
export async function loginWithPassword(
  hsUrl: string,
  login: PasswordLogin,
  opts: { fetch?: FetchLike; timeoutMs?: number } = {},
): Promise<Credentials> {
  const http = new MatrixHttp(hsUrl, undefined, opts.fetch);
  const body: Record<string, unknown> = {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: login.user },
    password: login.password,
  };
  if (login.deviceId !== undefined) {
    body['device_id'] = login.deviceId;
  }
  if (login.deviceName !== undefined) {
    body['initial_device_display_name'] = login.deviceName;
  }
  let res: unknown;
  try {
    res = await http.request('POST', '/_matrix/client/v3/login', body, {
      timeoutMs: opts.timeoutMs ?? 10_000,
    });
  } catch (err) {
    throw loginFailure(login.user, err);
  } finally {
    http.close();
  }
  if (
    !isObject(res) ||
    typeof res['user_id'] !== 'string' ||
    typeof res['access_token'] !== 'string' ||
    typeof res['device_id'] !== 'string'
  ) {
    throw new HomeserverUnreachableError(
      'login',
      `the homeserver's login answer is unusable: ${JSON.stringify(res)}`,
    );
  }
  return { userId: res['user_id'], accessToken: res['access_token'], deviceId: res['device_id'] };
}

function loginFailure(user: string, err: unknown): Error {
  if (!(err instanceof MatrixRequestError)) {
    return new HomeserverUnreachableError(
      'login',
      `could not reach the homeserver to log in: ${describeError(err)}`,
      err,
    );
  }
  const code = err.errcode;
  switch (code ?? '') {
    case 'M_FORBIDDEN':
      return new LoginError(
        `login as ${user} refused: wrong user name or password`,
        code,
        'Check the user name and password (the user name is the localpart, e.g. "alice", or the full "@alice:server").',
        err,
      );
    case 'M_USER_DEACTIVATED':
      return new LoginError(`user ${user} is deactivated`, code, 'Use another account.', err);
    case 'M_LIMIT_EXCEEDED':
      return new LoginError('too many login attempts', code, 'Wait a minute and try again.', err);
    default:
      return new LoginError(
        `login as ${user} failed: ${err.status} ${code ?? ''}`.trim(),
        code,
        'The homeserver may not allow password login (m.login.password); ask its operator.',
        err,
      );
  }
}

/**
 * What an operator reads when the SFU cannot talk to its homeserver: a network failure in words (node's fetch
 * only says "fetch failed"; the reason is in its cause) and, for the errors a set-up mistake produces, the fix.
 * Pure functions, no I/O.
 */
import { MatrixHttpError } from './homeserverClient.js';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** The error code under a fetch failure (undici puts the socket's error in `cause`), or the error's name. */
function codeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      return code;
    }
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return e.name;
    }
  }
  return undefined;
}

/** A failed request to `url` in one line: what happened and what to check. */
export function describeNetworkError(url: string, err: unknown): string {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // keep the text as given
  }
  const code = codeOf(err);
  switch (code ?? '') {
    case 'ECONNREFUSED':
      return `nothing listens at ${host} (ECONNREFUSED): is the homeserver running, and is homeserver.url right? In a container, localhost is the container itself`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name in ${host} does not resolve (${code}): check homeserver.url`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} cannot be reached (${code}): check homeserver.url and the network or firewall between them`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `${host} closed the connection (${code}): is homeserver.url the homeserver's client API (http vs https, port)?`;
    case 'TimeoutError':
    case 'AbortError':
      return `${host} did not answer in time: raise homeserver.request_timeout_s, or check the homeserver's load`;
    default:
      if (
        code !== undefined &&
        (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('CERT_'))
      ) {
        return `the TLS certificate of ${host} is not trusted (${code}): use the homeserver's internal http URL, or give Node the CA with NODE_EXTRA_CA_CERTS`;
      }
      return `${host}: ${err instanceof Error ? err.message : String(err)}${code !== undefined ? ` (${code})` : ''}`;
  }
}

/** The fix for a homeserver set-up failure, when it is a known set-up mistake; else undefined. */
export function setupHint(err: unknown): string | undefined {
  if (!(err instanceof MatrixHttpError)) {
    return undefined;
  }
  if (err.errcode === 'M_UNKNOWN_TOKEN' || (err.status === 401 && err.errcode === 'M_MISSING_TOKEN')) {
    return "the homeserver does not know this registration's as_token: list the registration file in the homeserver's app_service_config_files (Synapse) and restart the homeserver; the SFU and the homeserver must read the same file";
  }
  if (err.errcode === 'M_EXCLUSIVE') {
    return "the focus user is not in the registration's user namespace: regenerate the registration with -r from this config (sender_localpart and server_name), then restart the homeserver";
  }
  return undefined;
}

/**
 * appservice_ping.yaml POST /_matrix/client/v1/appservice/{appserviceId}/ping: calls the AS's
 * POST /_matrix/app/v1/ping (application-service/ping.yaml) with its hs_token and reports the outcome.
 */
import type { ServerContext } from '../context.js';
import { forbidden, outcome, violation } from '../errors.js';
import { HttpTimeoutError } from '../httpClient.js';
import type { Router } from '../routing.js';
import { validators, type PingBody } from '../schemas.js';

const PING_TIMEOUT_MS = 5_000;

export function appserviceRoutes(router: Router, ctx: ServerContext): void {
  router.add<PingBody>({
    method: 'POST',
    url: '/_matrix/client/v1/appservice/:appserviceId/ping',
    auth: 'optional',
    body: validators.ping,
    handler: async ({ token, params, body, record }) => {
      if (token === undefined) {
        throw violation(401, 'M_MISSING_TOKEN', 'Missing access token.');
      }
      const as = ctx.state.appservices.byToken(token);
      if (as === undefined) {
        if (ctx.state.lookupToken(token) === undefined) {
          throw violation(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token.');
        }
        throw violation(403, 'M_FORBIDDEN', "Provided access token is not an appservice's as_token");
      }
      record.appserviceId = as.id;
      if (as.id !== params.appserviceId) {
        throw forbidden("Provided access token is not the appservice's as_token");
      }
      if (as.reg.url === null) {
        throw outcome(400, 'M_URL_NOT_SET', "Application service doesn't have a URL configured");
      }
      const started = Date.now();
      try {
        const res = await ctx.http.request(
          'POST',
          `${as.reg.url.replace(/\/+$/, '')}/_matrix/app/v1/ping`,
          { authorization: `Bearer ${as.reg.hs_token}` },
          body.transaction_id === undefined ? {} : { transaction_id: body.transaction_id },
          PING_TIMEOUT_MS,
        );
        if (res.status !== 200) {
          throw outcome(502, 'M_BAD_STATUS', `Ping returned status ${res.status}`, {
            status: res.status,
            body: res.text,
          });
        }
      } catch (e) {
        if (e instanceof HttpTimeoutError) {
          throw outcome(504, 'M_CONNECTION_TIMEOUT', 'Connection to application service timed out');
        }
        if (e instanceof Error && e.name !== 'MatrixError') {
          throw outcome(502, 'M_CONNECTION_FAILED', `Connection to application service failed: ${e.message}`);
        }
        throw e;
      }
      return { body: { duration_ms: Date.now() - started } };
    },
  });
}

/**
 * sync.yaml GET /sync: query parameters checked as the spec types them; long-polls up to `timeout` (bounded by
 * the server's maximum) and answers as soon as something arrives for this user/device. An appservice picks the
 * device with `org.matrix.msc3202.device_id` (or MSC4326 `device_id`), resolved in auth.ts.
 */
import { queryParam } from '../auth.js';
import type { ServerContext } from '../context.js';
import { invalidParam } from '../errors.js';
import type { Router } from '../routing.js';
import { buildSync, parseSince, type SyncParams } from '../sync.js';

function booleanParam(raw: string | undefined, name: string): boolean {
  if (raw === undefined || raw === 'false') {
    return false;
  }
  if (raw === 'true') {
    return true;
  }
  throw invalidParam(`Query parameter ${name} must be true or false`);
}

export function syncRoutes(router: Router, ctx: ServerContext): void {
  router.add({
    method: 'GET',
    url: '/_matrix/client/v3/sync',
    auth: 'required',
    handler: async ({ requester, query }) => {
      const timeoutRaw = queryParam(query, 'timeout') ?? '0';
      if (!/^\d+$/.test(timeoutRaw)) {
        throw invalidParam('Query parameter timeout must be a non-negative integer');
      }
      const presence = queryParam(query, 'set_presence');
      if (presence !== undefined && !['offline', 'online', 'unavailable'].includes(presence)) {
        throw invalidParam('Query parameter set_presence must be offline, online or unavailable');
      }
      booleanParam(queryParam(query, 'use_state_after'), 'use_state_after');
      const fullState = booleanParam(queryParam(query, 'full_state'), 'full_state');
      const since = parseSince(queryParam(query, 'since'));
      const params: SyncParams = { userId: requester!.userId, fullState };
      if (requester!.deviceId !== undefined) {
        params.deviceId = requester!.deviceId;
      }
      if (since !== undefined) {
        params.since = since;
      }
      let result = buildSync(ctx.state, params);
      // An initial sync, full_state=true or timeout=0 answers at once (sync.yaml).
      if (since === undefined || fullState) {
        return { body: result.body };
      }
      const deadline = Date.now() + Math.min(Number(timeoutRaw), ctx.options.maxSyncTimeoutMs);
      while (!result.hasData && !ctx.syncWaiters.closed && Date.now() < deadline) {
        await ctx.syncWaiters.wait(deadline - Date.now());
        result = buildSync(ctx.state, params);
      }
      return { body: result.body };
    },
  });
}

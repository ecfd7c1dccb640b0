/** to_device.yaml PUT /sendToDevice/{eventType}/{txnId}: idempotent per requester (user + device) and path. */
import type { ServerContext } from '../context.js';
import type { Router } from '../routing.js';
import { validators, type SendToDeviceBody } from '../schemas.js';

export function toDeviceRoutes(router: Router, ctx: ServerContext): void {
  router.add<SendToDeviceBody>({
    method: 'PUT',
    url: '/_matrix/client/v3/sendToDevice/:eventType/:txnId',
    auth: 'required',
    body: validators.sendToDevice,
    handler: ({ requester, params, body, record }) => {
      const r = requester!;
      const key = `toDevice|${r.userId}|${r.deviceId ?? `as:${r.appservice?.id ?? ''}`}|${record.rawPath}`;
      if (!ctx.txns.has(key)) {
        ctx.txns.set(key, {});
        ctx.state.deliverToDevice(r.userId, params.eventType!, body.messages);
      }
      return { body: {} };
    },
  });
}

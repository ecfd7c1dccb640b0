/**
 * Server discovery (wellknown.yaml): `GET /.well-known/matrix/client` with `m.homeserver.base_url` (this
 * listener) and, when a test set them, the MatrixRTC foci (MSC4143 `org.matrix.msc4143.rtc_foci`), so a browser
 * client finds the SFU the way it would on a real deployment.
 */
import type { ServerContext } from '../context.js';
import type { Router } from '../routing.js';

export const RTC_FOCI_KEY = 'org.matrix.msc4143.rtc_foci';

export function discoveryRoutes(router: Router, ctx: ServerContext): void {
  router.add({
    method: 'GET',
    url: '/.well-known/matrix/client',
    auth: 'none',
    handler: () => ({
      body: {
        'm.homeserver': { base_url: ctx.discovery.baseUrl },
        ...(ctx.discovery.rtcFoci === undefined
          ? {}
          : { [RTC_FOCI_KEY]: structuredClone(ctx.discovery.rtcFoci) }),
      },
    }),
  });
}

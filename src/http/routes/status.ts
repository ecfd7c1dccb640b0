/**
 * `/status`: the JSON document (version, focus, readiness, counts, and the conferences in detail, see
 * conference/statusView.ts), or for a browser the live status page (statusPage.ts) whose script polls the JSON;
 * negotiation in negotiate.ts. `/status/assets/<name>` serves the page's scripts, uPlot and its stylesheet.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Readiness } from '../../observability/readiness.js';
import { statusFormat } from '../negotiate.js';
import { readStatusAsset, STATUS_CSP, statusHtml, type StatusAssets } from '../statusPage.js';

export interface StatusRoutesOptions {
  readiness: Readiness;
  /** The status fields (version, focus, conferences...), computed per request. */
  status: () => Record<string, unknown>;
  assets: StatusAssets;
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

export function statusRoutes(app: FastifyInstance, opts: StatusRoutesOptions): void {
  app.get<{ Querystring: { format?: string } }>('/status', async (req, reply) => {
    const format = statusFormat(req.headers.accept, req.query.format);
    noStore(reply).header('vary', 'Accept');
    if (format === 'html') {
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', STATUS_CSP)
        .header('x-frame-options', 'DENY')
        .send(statusHtml(opts.assets.built));
    }
    return reply.send({
      ...opts.status(),
      ready: opts.readiness.ready,
      checks: opts.readiness.snapshot(),
    });
  });
  app.get<{ Params: { name: string } }>('/status/assets/:name', async (req, reply) => {
    const asset = await readStatusAsset(opts.assets, req.params.name);
    if (asset === undefined) {
      return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    }
    return noStore(reply).type(asset.type).send(asset.body);
  });
}

/**
 * Operations routes: liveness, readiness, Prometheus metrics, the status document and page (status.ts), and the
 * web call page when it is on (call.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import type { Readiness } from '../../observability/readiness.js';
import { findStatusAssets, type StatusAssets } from '../statusPage.js';
import { callRoutes, type CallPageOptions } from './call.js';
import { statusRoutes } from './status.js';

export interface OpsRoutesOptions {
  metrics: Metrics;
  readiness: Readiness;
  /** Extra status fields (version, focus, conferences...), computed per request. */
  status: () => Record<string, unknown>;
  /** The status page's files (default: the built page and the installed uPlot). */
  statusAssets?: StatusAssets;
  /** The web call page (`web.call_page`); absent: off. */
  callPage?: CallPageOptions;
}

export function opsRoutes(app: FastifyInstance, opts: OpsRoutesOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ready = opts.readiness.ready;
    return reply.code(ready ? 200 : 503).send({ ready, checks: opts.readiness.snapshot() });
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(body);
  });
  statusRoutes(app, {
    readiness: opts.readiness,
    status: opts.status,
    assets: opts.statusAssets ?? findStatusAssets(),
  });
  if (opts.callPage !== undefined) {
    callRoutes(app, opts.callPage);
  }
}

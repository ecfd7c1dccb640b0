/** Operations routes: liveness, readiness, Prometheus metrics and a JSON status document. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import type { Readiness } from '../../observability/readiness.js';

export interface OpsRoutesOptions {
  metrics: Metrics;
  readiness: Readiness;
  /** Extra status fields (version, focus, conferences...), computed per request. */
  status: () => Record<string, unknown>;
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
  app.get('/status', async () => ({
    ...opts.status(),
    ready: opts.readiness.ready,
    checks: opts.readiness.snapshot(),
  }));
}

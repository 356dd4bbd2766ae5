import type { FastifyInstance } from 'fastify';
import { METRICS_CONTENT_TYPE, metrics, metricsText } from '../../runtime/metrics';

/**
 * Prometheus `/metrics` (public, like a health check: counts and timings, no business data) and the
 * request-duration histogram. Register before the other routes so the hook times all of them.
 */
export function registerMetricsRoutes(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', async (_request, reply) => reply.type(METRICS_CONTENT_TYPE).send(await metricsText()));
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifySchema } from 'fastify';
import type { ServerMetrics } from '../observability/server-metrics.js';
import { SightlineError } from './errors.js';
import { errors, METRICS_TOKEN, text } from './openapi/route-docs.js';

export interface MetricsRoutesOptions {
  metrics: Pick<ServerMetrics, 'metrics' | 'contentType'>;
  /** When set, scrapes need `Authorization: Bearer <token>`; otherwise /metrics is open. */
  metricsToken?: string | undefined;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** `GET /metrics`: Prometheus text exposition, at the root (not under the base path), optionally behind a token. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, opts) => {
  const want = opts.metricsToken ? digest(opts.metricsToken) : undefined;
  const schema: FastifySchema = {
    tags: ['Operations'],
    summary: 'Prometheus metrics (text format 0.0.4)',
    security: METRICS_TOKEN,
    response: { 200: text('the exposition text', 'text/plain'), ...errors(401) },
  };
  app.get('/metrics', { schema }, async (req, reply) => {
    if (want) {
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      const err = !m
        ? new SightlineError('missing_api_key', 'GET /metrics needs "Authorization: Bearer <metrics token>"', { 'www-authenticate': 'Bearer realm="metrics"' })
        : !timingSafeEqual(digest(m[1]!.trim()), want)
          ? new SightlineError('invalid_token', 'the metrics token is not valid', { 'www-authenticate': 'Bearer realm="metrics", error="invalid_token"' })
          : undefined;
      // Sent here, not thrown: the body is the project's error format even on an app without its error handler.
      if (err) return reply.code(err.status).headers(err.headers).send(err.body());
    }
    const text = await opts.metrics.metrics();
    return reply.type(opts.metrics.contentType).header('cache-control', 'no-store').send(text);
  });
};

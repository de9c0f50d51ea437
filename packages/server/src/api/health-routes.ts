import { LivenessResponse, ReadyResponse } from '@sightline/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { json, PUBLIC } from './openapi/route-docs.js';

export interface HealthRoutesOptions {
  readiness: () => ReadyResponse;
}

/** Process liveness and readiness, at the root (not under the base path), for orchestrators. */
export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, opts) => {
  const tags = ['Operations'];
  app.get(
    '/healthz',
    { schema: { tags, summary: 'Liveness: the process is up', security: PUBLIC, response: { 200: json('`{"status": "ok"}`', LivenessResponse) } } },
    async () => ({ status: 'ok' as const }),
  );
  const readyz = {
    schema: {
      tags,
      summary: 'Readiness: every inference worker has loaded its models',
      security: PUBLIC,
      response: { 200: json('ready', ReadyResponse), 503: json('not ready (same body)', ReadyResponse) },
    },
  };
  app.get('/readyz', readyz, async (_req, reply) => {
    const r = opts.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
};

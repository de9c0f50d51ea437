import type { ReadyResponse } from '@sightline/protocol';
import type { FastifyPluginAsync } from 'fastify';

export interface HealthRoutesOptions {
  readiness: () => ReadyResponse;
}

/** Process liveness and readiness, at the root (not under the base path), for orchestrators. */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = opts.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
};

import type { FastifyPluginAsync } from 'fastify';
import { buildOpenApi } from './openapi/build-openapi.js';
import { DOCS_PAGE } from './openapi/docs-page.js';

export interface OpenApiRoutesOptions {
  /** `--base-path`, applied in the document to the routes under it. */
  basePath: string;
  /** The server's version. */
  version: string;
  /** The health route's `status` text, shown in the document (default "WebRTC API healthy"). */
  healthStatus?: string;
}

/** `GET /openapi.json` (OpenAPI 3.1, built once) and `GET /docs` (a self-contained page rendering it). At the root. */
export const openApiRoutes: FastifyPluginAsync<OpenApiRoutesOptions> = async (app, opts) => {
  const doc = JSON.stringify(buildOpenApi({ basePath: opts.basePath, version: opts.version, healthStatus: opts.healthStatus }));
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(doc));
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(DOCS_PAGE));
};

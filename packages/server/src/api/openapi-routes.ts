import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { swaggerOptions, type DocumentOptions } from './openapi/document.js';
import { PUBLIC, text } from './openapi/route-docs.js';

/**
 * The API's description, generated from the schemas every route declares: `GET /openapi.json` (OpenAPI 3.1) and
 * `GET /docs` (Swagger UI, its files served from the package). Registered before the routes, which it observes.
 */
export async function registerOpenApi(app: FastifyInstance, opts: DocumentOptions): Promise<void> {
  await app.register(swagger, swaggerOptions(opts));
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No request leaves the page: no online validator badge.
    uiConfig: { validatorUrl: null, deepLinking: true, docExpansion: 'list' },
    staticCSP: true,
  });
  app.get(
    '/openapi.json',
    { schema: { tags: ['Operations'], summary: 'This OpenAPI 3.1 document', security: PUBLIC, response: { 200: text('the document', 'application/json') } } },
    async (_req, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );
}

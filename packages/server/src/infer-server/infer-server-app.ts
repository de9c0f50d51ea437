/**
 * `sightline infer-server`'s HTTP side: the Open Inference Protocol (KServe v2) REST API over the local worker pool,
 * so that a CPU or GPU box serves Sightline's models to media nodes (or to any KServe client). Health, server and
 * model metadata, model readiness, and inference with JSON data or the binary tensor data extension. Errors are the
 * protocol's `{"error": "…"}`: 400 for a malformed request, 404 for an unknown model, 503 when the pool refuses. The
 * models, their checks and the runs are `served-models.ts`'s, shared with the gRPC side (`infer-grpc-server.ts`).
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { HEADER_LENGTH } from '../kserve/infer-body.js';
import { decodeInferRequest, encodeInferResponse } from '../kserve/infer-messages.js';
import { TensorDataError } from '../kserve/tensor-data.js';
import type { ModelInfo } from '../models/adapters/model-info.js';
import { findModel, inferOnPool, InferServerError, modelMetadata, poolReady, SERVER_NAME, type ServedPool } from './served-models.js';

export interface InferServerOptions {
  pool: ServedPool;
  version: string;
  /** Largest request body (default 64 MiB). */
  bodyLimit?: number;
}

const HTTP_STATUS: Record<InferServerError['kind'], number> = { not_found: 404, invalid: 400, unavailable: 503 };

export async function buildInferServer(opts: InferServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const fail = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    void fail(reply, err.statusCode && err.statusCode < 500 ? err.statusCode : 500, err.message);
  });
  app.setNotFoundHandler((req, reply) => void fail(reply, 404, `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`));

  app.get('/v2', async () => ({ name: SERVER_NAME, version: opts.version, extensions: ['binary_tensor_data'] }));
  app.get('/v2/health/live', async (_req, reply) => reply.code(200).send());
  app.get('/v2/health/ready', async (_req, reply) => reply.code(poolReady(opts.pool) ? 200 : 400).send());

  const routes = (
    path: string,
    handler: (m: ModelInfo, reply: FastifyReply, body: Buffer | undefined, headers: Record<string, unknown>) => Promise<unknown>,
  ) => {
    for (const p of [path, path.replace('/v2/models/:model', '/v2/models/:model/versions/:version')]) {
      app.route({
        method: p.endsWith('/infer') ? 'POST' : 'GET',
        url: p,
        handler: async (req, reply) => {
          const { model: name, version } = req.params as { model: string; version?: string };
          try {
            return await handler(findModel(opts.pool, name, version), reply, req.body as Buffer | undefined, req.headers);
          } catch (err) {
            if (err instanceof InferServerError) return fail(reply, HTTP_STATUS[err.kind], err.message);
            throw err;
          }
        },
      });
    }
  };

  routes('/v2/models/:model', async (m) => modelMetadata(m));
  routes('/v2/models/:model/ready', async (_m, reply) => reply.code(poolReady(opts.pool) ? 200 : 400).send());
  routes('/v2/models/:model/infer', async (m, reply, body, headers) => {
    let request;
    try {
      request = decodeInferRequest(new Uint8Array(body ?? Buffer.alloc(0)), headers[HEADER_LENGTH] as string | undefined);
    } catch (err) {
      return fail(reply, 400, err instanceof TensorDataError ? err.message : String(err));
    }
    const response = await inferOnPool(opts.pool, m, request);
    const { body: out, headerLength } = encodeInferResponse(response, request);
    if (headerLength !== undefined) void reply.header(HEADER_LENGTH, String(headerLength)).type('application/octet-stream');
    else void reply.type('application/json');
    return reply.send(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  });
  return app;
}

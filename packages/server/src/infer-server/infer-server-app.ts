/**
 * `sightline infer-server`'s HTTP side: the Open Inference Protocol (KServe v2) REST API over the local worker pool,
 * so that a CPU or GPU box serves Sightline's models to media nodes (or to any KServe client). Health, server and
 * model metadata, model readiness, and inference with JSON data or the binary tensor data extension. Errors are the
 * protocol's `{"error": "…"}`: 400 for a malformed request, 404 for an unknown model, 503 when the pool refuses.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { HEADER_LENGTH } from '../kserve/infer-body.js';
import { decodeInferRequest, encodeInferResponse, type Tensor } from '../kserve/infer-messages.js';
import { TensorDataError, valuesFromBinary, valuesToBinary, type Datatype } from '../kserve/tensor-data.js';
import type { ValueInfo } from '../models/adapters/adapter.js';
import type { ModelInfo } from '../models/adapters/model-info.js';
import { PoolUnavailableError, type InferencePool } from '../models/inference-pool.js';
import type { RawTensor } from '../models/worker-messages.js';

export interface InferServerOptions {
  pool: Pick<InferencePool, 'models' | 'runRaw' | 'size'>;
  version: string;
  /** Largest request body (default 64 MiB). */
  bodyLimit?: number;
}

const DATATYPE: Record<string, Datatype> = {
  float32: 'FP32',
  float64: 'FP64',
  uint8: 'UINT8',
  int8: 'INT8',
  uint16: 'UINT16',
  int16: 'INT16',
  int32: 'INT32',
  uint32: 'UINT32',
  int64: 'INT64',
  uint64: 'UINT64',
  bool: 'BOOL',
  float16: 'FP16',
};
const ORT_TYPE = Object.fromEntries(Object.entries(DATATYPE).map(([k, v]) => [v, k])) as Record<Datatype, string>;

function tensorMetadata(v: ValueInfo): { name: string; datatype: string; shape: number[] } {
  return { name: v.name, datatype: DATATYPE[v.type] ?? v.type.toUpperCase(), shape: v.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

export async function buildInferServer(opts: InferServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const fail = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });
  const model = (name: string): ModelInfo | undefined => opts.pool.models.find((m) => m.name === name);

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    void fail(reply, err.statusCode && err.statusCode < 500 ? err.statusCode : 500, err.message);
  });
  app.setNotFoundHandler((req, reply) => void fail(reply, 404, `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`));

  app.get('/v2', async () => ({ name: 'sightline', version: opts.version, extensions: ['binary_tensor_data'] }));
  app.get('/v2/health/live', async (_req, reply) => reply.code(200).send());
  app.get('/v2/health/ready', async (_req, reply) => reply.code(opts.pool.size > 0 ? 200 : 400).send());

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
          const m = model(name);
          if (!m) return fail(reply, 404, `model "${name.slice(0, 100)}" is not served here`);
          if (version !== undefined && version !== '1') return fail(reply, 404, `model "${name}" has only version 1`);
          return handler(m, reply, req.body as Buffer | undefined, req.headers);
        },
      });
    }
  };

  routes('/v2/models/:model', async (m) => ({
    name: m.name,
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: m.inputs.map(tensorMetadata),
    outputs: m.outputs.map(tensorMetadata),
  }));
  routes('/v2/models/:model/ready', async (_m, reply) => reply.code(opts.pool.size > 0 ? 200 : 400).send());
  routes('/v2/models/:model/infer', async (m, reply, body, headers) => {
    let request;
    try {
      request = decodeInferRequest(new Uint8Array(body ?? Buffer.alloc(0)), headers[HEADER_LENGTH] as string | undefined);
    } catch (err) {
      return fail(reply, 400, err instanceof TensorDataError ? err.message : String(err));
    }
    const known = new Set(m.inputs.map((i) => i.name));
    const unknown = request.inputs.find((t) => !known.has(t.name));
    if (unknown) return fail(reply, 400, `model "${m.name}" has no input "${unknown.name}" (inputs: ${[...known].join(', ')})`);
    const inputs: RawTensor[] = request.inputs.map((t) => {
      const bytes = valuesToBinary(t.datatype, t.values);
      const data = new Uint8Array(bytes.byteLength);
      data.set(bytes);
      return { name: t.name, type: ORT_TYPE[t.datatype], dims: t.shape, data: data.buffer };
    });
    let answer;
    try {
      answer = await opts.pool.runRaw(m.name, inputs);
    } catch (err) {
      if (err instanceof PoolUnavailableError) return fail(reply, 503, err.message);
      return fail(reply, 400, `inference failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const wanted = request.outputs ? new Set(request.outputs.map((o) => o.name)) : undefined;
    const outputs: Tensor[] = answer.outputs
      .filter((o) => !wanted || wanted.has(o.name))
      .map((o) => {
        const datatype = DATATYPE[o.type] ?? 'FP32';
        return { name: o.name, datatype, shape: o.dims, values: valuesFromBinary(datatype, o.dims, new Uint8Array(o.data)) };
      });
    const { body: out, headerLength } = encodeInferResponse({ model_name: m.name, model_version: '1', id: request.id, outputs }, request);
    if (headerLength !== undefined) void reply.header(HEADER_LENGTH, String(headerLength)).type('application/octet-stream');
    else void reply.type('application/json');
    return reply.send(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  });
  return app;
}

import { ModelsResponse, ProcessorsResponse } from '@sightline/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { InferencePool } from '../models/inference-pool.js';
import type { AudioProcessorRegistry } from '../audio/audio-registry.js';
import type { ProcessorRegistry } from '../pipeline/processor-registry.js';
import { authenticate } from './auth.js';
import type { KeyStore } from '../auth/key-store.js';
import { API_KEY, AUTH_ERRORS, errors, json } from './openapi/route-docs.js';

export interface DiscoveryRoutesOptions {
  keys: KeyStore;
  registry: ProcessorRegistry;
  audio?: AudioProcessorRegistry | undefined;
  pool: InferencePool;
  defaultProcessor: string;
}

/** GET /v1/models and /v1/processors: what can run here, for pickers and generated controls. */
export const discoveryRoutes: FastifyPluginAsyncZod<DiscoveryRoutesOptions> = async (app, opts) => {
  app.addHook('onRequest', async (req) => {
    req.keyId = authenticate(req, opts.keys);
  });
  const doc = (summary: string, description: string, body: typeof ModelsResponse | typeof ProcessorsResponse) => ({
    schema: { tags: ['Discovery'], summary, security: API_KEY, response: { 200: json(description, body), ...errors(...AUTH_ERRORS) } },
  });
  app.get('/v1/models', doc('Loaded models', 'the models', ModelsResponse), async () => ({
    models: opts.pool.models.map((m) => ({
      name: m.name,
      adapter: m.adapter,
      kind: m.kind,
      file: m.file,
      inputs: m.inputs,
      outputs: m.outputs,
      input: m.input,
      labels: m.labels,
      dynamic_batch: m.dynamicBatch,
      max_batch: m.maxBatch,
      device: m.device,
    })),
  }));
  app.get('/v1/processors', doc('Processors and audio processors, their params as JSON Schema', 'the processors', ProcessorsResponse), async () => ({
    default: opts.defaultProcessor,
    processors: opts.registry.describe(),
    /** For the offer's `audio` map. */
    audio_processors: opts.audio?.describe() ?? [],
  }));
};

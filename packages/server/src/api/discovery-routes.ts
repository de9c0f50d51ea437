import type { FastifyPluginAsync } from 'fastify';
import type { InferencePool } from '../models/inference-pool.js';
import type { AudioProcessorRegistry } from '../audio/audio-registry.js';
import type { ProcessorRegistry } from '../pipeline/processor-registry.js';
import { authenticate } from './auth.js';
import type { KeyStore } from '../auth/key-store.js';

export interface DiscoveryRoutesOptions {
  keys: KeyStore;
  registry: ProcessorRegistry;
  audio?: AudioProcessorRegistry | undefined;
  pool: InferencePool;
  defaultProcessor: string;
}

/** GET /v1/models and /v1/processors: what can run here, for pickers and generated controls. */
export const discoveryRoutes: FastifyPluginAsync<DiscoveryRoutesOptions> = async (app, opts) => {
  app.addHook('onRequest', async (req) => {
    req.keyId = authenticate(req, opts.keys);
  });
  app.get('/v1/models', async () => ({
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
  app.get('/v1/processors', async () => ({
    default: opts.defaultProcessor,
    processors: opts.registry.describe(),
    /** For the offer's `audio` map. */
    audio_processors: opts.audio?.describe() ?? [],
  }));
};

import { z } from 'zod';
import type { ModelInfo } from '../models/adapters/model-info.js';
import { defineProcessor, modelCaptureNeed, type Processor } from '../pipeline/processor.js';
import { decodeParams, toProcessorOutput } from './model-output.js';

/** Image classification with the user's classifier models; undefined when none is loaded. */
// Its params type depends on the loaded models; the registry takes any processor (see ProcessorRegistry.register).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function classifyProcessor(models: readonly ModelInfo[]): Processor<any> | undefined {
  const classifiers = models.filter((m) => m.adapter === 'classifier');
  if (classifiers.length === 0) return undefined;
  const names = classifiers.map((m) => m.name) as [string, ...string[]];
  return defineProcessor({
    name: 'classify',
    description: `Image classification (${names.join(', ')}): top-k labels per frame`,
    params: z
      .object({
        model: z.enum(names).default(names[0]).describe('Which classifier'),
        top_k: z.number().int().min(1).max(100).default(5).describe('How many labels'),
        min_score: z.number().min(0).max(1).default(0).describe('Minimum probability'),
      })
      .strict(),
    models: names,
    modelFor: (p: { model: string }) => p.model,
    captureNeed: (p: { model: string }, model) => modelCaptureNeed(model(p.model)),
    async process(frame, p, ctx) {
      return toProcessorOutput(await ctx.pool.run(p.model, frame, decodeParams({ minScore: p.min_score, topK: p.top_k }), ctx.sessionId));
    },
  });
}

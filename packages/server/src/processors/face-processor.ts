import { z } from 'zod';
import { defineProcessor, modelCaptureNeed } from '../pipeline/processor.js';
import { decodeParams, toProcessorOutput } from './model-output.js';

/** BlazeFace face detection in the inference pool; boxes in frame pixels. */
export const faceProcessor = defineProcessor({
  name: 'face',
  description: 'MediaPipe BlazeFace face detection (back: small/distant faces, 256 px; front: close-ups, 128 px).',
  params: z
    .object({
      model: z.enum(['back', 'front']).default('back').describe('back-256 for distant faces, front-128 for close-ups'),
      min_score: z.number().min(0).max(1).default(0.5).describe('Minimum face score'),
    })
    .strict(),
  models: ['blazeface-back', 'blazeface-front'],
  modelFor: (params) => `blazeface-${params.model}`,
  // BlazeFace letterboxes into 256 (back) or 128 (front) pixels: more is decoded in vain. 30 fps is what tracking uses.
  captureNeed: (params, model) => modelCaptureNeed(model(`blazeface-${params.model}`), 30),
  async process(frame, params, ctx) {
    return toProcessorOutput(await ctx.pool.run(`blazeface-${params.model}`, frame, decodeParams({ minScore: params.min_score }), ctx.sessionId));
  },
});

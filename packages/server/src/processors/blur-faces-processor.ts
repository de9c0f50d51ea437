import { z } from 'zod';
import { blurRegionsI420 } from '../models/i420-filters.js';
import { defineProcessor } from '../pipeline/processor.js';
import { decodeParams, toProcessorOutput } from './model-output.js';

/** Privacy: finds faces with BlazeFace and, in the video sent back, blurs every one of them. */
export const blurFacesProcessor = defineProcessor({
  name: 'blur-faces',
  description: 'Blurs every detected face in the video sent back (mode "video" or "both"); results list the faces.',
  params: z
    .object({
      min_score: z.number().min(0).max(1).default(0.5).describe('Minimum face score'),
      radius: z.number().int().min(2).max(64).default(16).describe('Blur radius in pixels'),
      margin: z.number().min(0).max(1).default(0.15).describe('Extra border around each face, as a fraction of its size'),
    })
    .strict(),
  models: ['blazeface-back'],
  async process(frame, params, ctx) {
    return toProcessorOutput(await ctx.pool.run('blazeface-back', frame, decodeParams({ minScore: params.min_score }), ctx.sessionId));
  },
  render(frame, output, params) {
    blurRegionsI420(
      frame,
      output.boxes.map(
        ({ box: [x, y, w, h] }) => [x - w * params.margin, y - h * params.margin, w * (1 + 2 * params.margin), h * (1 + 2 * params.margin)] as const,
      ),
      params.radius,
    );
  },
});

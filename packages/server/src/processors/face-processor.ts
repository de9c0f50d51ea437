import { z } from 'zod';
import { defineProcessor } from '../pipeline/processor.js';

const round1 = (v: number): number => Math.round(v * 10) / 10;

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
  async process(frame, params, ctx) {
    const out = await ctx.pool.run(`blazeface-${params.model}`, frame, params.min_score);
    return {
      boxes: out.detections.map((d) => ({
        class: d.label,
        score: Math.round(d.score * 1000) / 1000,
        box: [round1(d.x), round1(d.y), round1(d.w), round1(d.h)] as [number, number, number, number],
      })),
      inferenceMs: out.inferenceMs,
    };
  },
});

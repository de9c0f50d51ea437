import { z } from 'zod';
import type { ModelInfo } from '../models/adapters/model-info.js';
import { BUILTIN_MODELS } from '../models/model-catalog.js';
import { defineProcessor, modelCaptureNeed, type Processor } from '../pipeline/processor.js';
import { classIdsOf, decodeParams, toProcessorOutput } from './model-output.js';

/**
 * Object detection with the user's detectors (`--model`: YOLO, SSD, or a BlazeFace-layout model of their own, local
 * or on a KServe server); undefined when none is loaded. The built-in BlazeFace models are the `face` processor's.
 */
// Its params type depends on the loaded models; the registry takes any processor (see ProcessorRegistry.register).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function detectProcessor(models: readonly ModelInfo[]): Processor<any> | undefined {
  const detectors = models.filter((m) => m.kind === 'detector' && !BUILTIN_MODELS.some((b) => b.name === m.name));
  if (detectors.length === 0) return undefined;
  const names = detectors.map((m) => m.name) as [string, ...string[]];
  return defineProcessor({
    name: 'detect',
    description: `Object detection (${detectors.map((m) => `${m.name}: ${m.adapter}`).join(', ')})`,
    params: z
      .object({
        model: z.enum(names).default(names[0]).describe('Which detector'),
        min_score: z.number().min(0).max(1).default(0.25).describe('Minimum detection score'),
        iou: z.number().min(0).max(1).default(0.45).describe('NMS IoU threshold'),
        max_det: z.number().int().min(1).max(1000).default(100).describe('Most boxes per frame'),
        classes: z.array(z.string()).max(1000).optional().describe('Only these class names'),
      })
      .strict()
      .superRefine((p, ctx) => {
        try {
          classIdsOf(p.classes, detectors.find((m) => m.name === p.model)!.labels);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['classes'], message: (err as Error).message });
        }
      }),
    models: names,
    modelFor: (p: { model: string }) => p.model,
    captureNeed: (p: { model: string }, model) => modelCaptureNeed(model(p.model)),
    async process(frame, p, ctx) {
      const labels = ctx.pool.model(p.model)?.labels ?? null;
      const params = decodeParams({ minScore: p.min_score, iou: p.iou, maxDet: p.max_det, classIds: classIdsOf(p.classes, labels) });
      return toProcessorOutput(await ctx.pool.run(p.model, frame, params, ctx.sessionId));
    },
  });
}

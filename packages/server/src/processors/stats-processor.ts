import { z } from 'zod';
import { defineProcessor } from '../pipeline/processor.js';

/** Mean luma of the frame: cheap, on the main thread, sampling every `step`-th pixel of every `step`-th row. */
export const statsProcessor = defineProcessor({
  name: 'stats',
  description: 'Mean luma (0-255) of each frame; cheap, no model.',
  params: z.object({ step: z.number().int().min(1).max(16).default(2).describe('Sample every step-th pixel and row') }).strict(),
  models: [],
  process: (frame, params) => {
    const { width: W, height: H, data } = frame;
    let sum = 0;
    let n = 0;
    for (let y = 0; y < H; y += params.step) {
      const row = y * W;
      for (let x = 0; x < W; x += params.step) {
        sum += data[row + x]!;
        n++;
      }
    }
    return { boxes: [], data: { mean_luma: n > 0 ? sum / n : 0 } };
  },
});

import { z } from 'zod';
import { sobelEdgesI420 } from '../models/i420-filters.js';
import { defineProcessor } from '../pipeline/processor.js';

/**
 * The seed tutorial's edge filter, as an example of a processor that transforms the picture: with `mode: video`
 * the client gets the edge map back. Runs on the main thread only when video is sent back (render).
 */
export const edgesProcessor = defineProcessor({
  name: 'edges',
  description: 'Edge filter (Sobel) of the picture; use mode "video" or "both" to get the edge map back.',
  params: z.object({ threshold: z.number().min(1).max(255).default(60).describe('Edge strength threshold') }).strict(),
  models: [],
  process: () => ({ boxes: [] }),
  render: (frame, _output, params) => {
    sobelEdgesI420(frame, params.threshold);
  },
});

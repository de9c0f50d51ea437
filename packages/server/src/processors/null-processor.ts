import { z } from 'zod';
import { defineProcessor } from '../pipeline/processor.js';

/** Does nothing: measures the transport and pipeline alone. */
export const nullProcessor = defineProcessor({
  name: 'null',
  description: 'No work: returns an empty result per frame (transport and pipeline overhead only).',
  params: z.object({}).strict(),
  models: [],
  process: () => ({ boxes: [] }),
});

import { ProcessorRegistry } from '../pipeline/processor-registry.js';
import { faceProcessor } from './face-processor.js';
import { nullProcessor } from './null-processor.js';
import { statsProcessor } from './stats-processor.js';

/** A registry holding the built-in processors. */
export function builtinProcessors(): ProcessorRegistry {
  return new ProcessorRegistry().register(nullProcessor).register(statsProcessor).register(faceProcessor);
}

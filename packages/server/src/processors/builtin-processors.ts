import type { ModelInfo } from '../models/adapters/model-info.js';
import { ProcessorRegistry } from '../pipeline/processor-registry.js';
import { blurFacesProcessor } from './blur-faces-processor.js';
import { classifyProcessor } from './classify-processor.js';
import { edgesProcessor } from './edges-processor.js';
import { detectProcessor } from './detect-processor.js';
import { faceProcessor } from './face-processor.js';
import { nullProcessor } from './null-processor.js';
import { statsProcessor } from './stats-processor.js';

/**
 * A registry with the built-in processors: `null`, `stats`, `face`, `edges`, `blur-faces`, and — when such models are loaded —
 * `detect` (YOLO/SSD) and `classify` (classifiers).
 */
export function builtinProcessors(models: readonly ModelInfo[] = []): ProcessorRegistry {
  const registry = new ProcessorRegistry()
    .register(nullProcessor)
    .register(statsProcessor)
    .register(faceProcessor)
    .register(edgesProcessor)
    .register(blurFacesProcessor);
  const detect = detectProcessor(models);
  if (detect) registry.register(detect);
  const classify = classifyProcessor(models);
  if (classify) registry.register(classify);
  return registry;
}

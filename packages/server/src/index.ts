export { buildApp, type AppOptions } from './api/app.js';
export { loadConfig, type ServerConfig } from './config.js';
export { createServer, type SightlineServer } from './server.js';
export {
  defineProcessor,
  modelCaptureNeed,
  type CaptureNeed,
  type Processor,
  type ProcessorContext,
  type ProcessorOutput,
  type VideoFrame,
} from './pipeline/processor.js';
export { ProcessorRegistry } from './pipeline/processor-registry.js';
export { builtinProcessors } from './processors/builtin-processors.js';
export { InferencePool } from './models/inference-pool.js';
export type { MediaEngine, EnginePeer, EngineChannel } from './engine/media-engine.js';

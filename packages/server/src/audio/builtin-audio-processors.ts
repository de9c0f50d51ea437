import { audioLevelProcessor } from './audio-level-processor.js';
import type { AudioProcessor } from './audio-processor.js';
import { vadProcessor } from './vad-processor.js';
import type { VadRunner } from './vad-runner.js';

export interface BuiltinAudioDeps {
  /** The shared VAD worker (started on the first `vad` window; close it at shutdown). */
  vad: VadRunner;
  /** Per `vad` stream: windows waiting for the worker before new ones are dropped; default 64. */
  maxPendingVadWindows?: number;
}

/** The built-in audio processors by name: `vad`, `audio-level`. */
export function builtinAudioProcessors(deps: BuiltinAudioDeps): Map<string, AudioProcessor<unknown>> {
  const list = [vadProcessor({ runner: deps.vad, maxPendingWindows: deps.maxPendingVadWindows }), audioLevelProcessor] as AudioProcessor<unknown>[];
  return new Map(list.map((p) => [p.name, p]));
}

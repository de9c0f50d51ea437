import { paramsJsonSchema, parseParams, UnknownProcessorError } from '../pipeline/processor-registry.js';
import type { AudioProcessor } from './audio-processor.js';

/** An audio processor as GET /v1/processors shows it. */
export interface AudioProcessorDescription {
  name: string;
  description: string;
  params: Record<string, unknown>;
}

/** Audio processors by name; sessions resolve the offer's `audio` map here (unknown names and bad params → 400). */
export class AudioProcessorRegistry {
  readonly #byName: ReadonlyMap<string, AudioProcessor<unknown>>;

  constructor(processors: ReadonlyMap<string, AudioProcessor<unknown>>) {
    this.#byName = processors;
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  describe(): AudioProcessorDescription[] {
    return [...this.#byName.values()].map((p) => ({
      name: p.name,
      description: p.description,
      params: paramsJsonSchema(p.params),
    }));
  }

  /** Each requested processor with its params validated (defaults applied), or a named error. */
  resolve(requested: Record<string, unknown>): Array<{ processor: AudioProcessor<unknown>; params: unknown }> {
    return Object.entries(requested).map(([name, params]) => {
      const processor = this.#byName.get(name);
      if (!processor) throw new UnknownProcessorError(name, this.names());
      return { processor, params: parseParams(name, processor.params, params) };
    });
  }
}

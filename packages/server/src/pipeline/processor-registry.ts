import { describeZodError } from '@sightline/protocol';
import { z } from 'zod';
import type { Processor } from './processor.js';
import { SightlineError } from '../errors.js';

/** A processor as GET /v1/processors shows it: params as JSON Schema, for generated UI controls. */
export interface ProcessorDescription {
  name: string;
  description: string;
  models: string[];
  params: Record<string, unknown>;
}

export class UnknownProcessorError extends SightlineError {
  constructor(
    readonly processor: string,
    readonly known: string[],
  ) {
    super('unknown_processor', `unknown processor "${processor}"; available: ${known.join(', ')}`);
    this.name = 'UnknownProcessorError';
  }
}

export class InvalidParamsError extends SightlineError {
  constructor(
    readonly processor: string,
    detail: string,
  ) {
    super('invalid_params', `invalid params for processor "${processor}": ${detail}`);
    this.name = 'InvalidParamsError';
  }
}

/** A params schema as JSON Schema (what /v1/processors shows, for generated controls). */
export function paramsJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** `params` (absent: `{}`) validated by `schema`, defaults applied; InvalidParamsError naming `processor` otherwise. */
export function parseParams<P>(processor: string, schema: z.ZodType<P>, params: unknown): P {
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) {
    throw new InvalidParamsError(processor, describeZodError(parsed.error));
  }
  return parsed.data;
}

/** Processors by name. Sessions resolve their processor and validate params here. */
export class ProcessorRegistry {
  readonly #byName = new Map<string, Processor<unknown>>();

  // A processor's params type is both consumed (process) and produced (its schema): only `any` admits every one.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  register(p: Processor<any>): this {
    if (this.#byName.has(p.name)) throw new Error(`processor "${p.name}" is already registered`);
    this.#byName.set(p.name, p as Processor<unknown>);
    return this;
  }

  get(name: string): Processor<unknown> {
    const p = this.#byName.get(name);
    if (!p) throw new UnknownProcessorError(name, this.names());
    return p;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  describe(): ProcessorDescription[] {
    return [...this.#byName.values()].map((p) => ({
      name: p.name,
      description: p.description,
      models: [...p.models],
      params: paramsJsonSchema(p.params),
    }));
  }

  /** Resolves a processor and its params (defaults applied), or throws a named error. */
  resolve(name: string, params: unknown): { processor: Processor<unknown>; params: unknown } {
    const processor = this.get(name);
    return { processor, params: parseParams(name, processor.params, params) };
  }
}

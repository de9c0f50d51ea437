import type { KeyPolicy } from '../auth/key-policy.js';
import type { Processor } from '../pipeline/processor.js';
import { SightlineError } from '../errors.js';

/** The key may not use this processor or model (403). */
export class ForbiddenByKeyError extends SightlineError {
  constructor(message: string) {
    super('forbidden', message);
    this.name = 'ForbiddenByKeyError';
  }
}

/** The key already has its maximum of concurrent sessions (429). */
export class SessionLimitError extends SightlineError {
  constructor(
    readonly limit: number,
    keyName: string,
  ) {
    super('rate_limited', `key "${keyName}" already has ${limit} concurrent session${limit === 1 ? '' : 's'} (its limit); end one or retry later`, {
      'retry-after': '5',
    });
    this.name = 'SessionLimitError';
  }
}

/** The model a processor would run with these params. */
export function modelOf(processor: Processor<unknown>, params: unknown): string | undefined {
  return processor.modelFor ? processor.modelFor(params) : processor.models.length === 1 ? processor.models[0] : undefined;
}

/** Throws ForbiddenByKeyError when `policy` does not allow this processor (or the model its params pick). */
export function checkProcessorAllowed(policy: KeyPolicy | undefined, processor: Processor<unknown>, params: unknown): void {
  if (!policy) return;
  if (policy.processors && !policy.processors.includes(processor.name)) {
    throw new ForbiddenByKeyError(`key "${policy.name}" may not use processor "${processor.name}" (allowed: ${policy.processors.join(', ')})`);
  }
  const model = modelOf(processor, params);
  if (policy.models && model !== undefined && !policy.models.includes(model)) {
    throw new ForbiddenByKeyError(`key "${policy.name}" may not use model "${model}" (allowed: ${policy.models.join(', ')})`);
  }
}

/** Same for audio processors, by name. */
export function checkAudioAllowed(policy: KeyPolicy | undefined, names: readonly string[]): void {
  if (!policy?.processors) return;
  const denied = names.find((n) => !policy.processors!.includes(n));
  if (denied) throw new ForbiddenByKeyError(`key "${policy.name}" may not use audio processor "${denied}" (allowed: ${policy.processors.join(', ')})`);
}

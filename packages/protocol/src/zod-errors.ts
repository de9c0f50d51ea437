import { z } from 'zod';

/**
 * A schema failure as one line for an error message (HTTP body, DataChannel error): zod's own `prettifyError` text,
 * its lines folded — `Too big: expected number to be <=1 (at min_score); Unrecognized key: "x"`.
 */
export function describeZodError(error: z.ZodError): string {
  return z
    .prettifyError(error)
    .split('\n✖ ')
    .map((part) => part.replace(/^✖ /, '').replace(/\n\s*→ at (.*)$/, ' (at $1)'))
    .join('; ');
}

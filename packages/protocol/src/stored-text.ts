import { z } from 'zod';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text that a server may store or look up in its database (user ids, session ids, cursors), at most `max`
 * characters: no NUL character and well-formed Unicode (no unpaired surrogate). PostgreSQL refuses both and SQLite
 * keeps them, so one rule at the edge makes both answer alike: a 400, never a 500 or an id stored differently.
 */
export const storedText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain a NUL character')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (an unpaired surrogate is not)');

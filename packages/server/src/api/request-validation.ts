import { describeZodError } from '@sightline/protocol';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Errors } from './errors.js';

const WHERE: Record<string, string> = { querystring: 'query', params: 'path', headers: 'headers' };

/**
 * Validates a request part against the zod schema its route declares. A failure is the project's own error
 * (`invalid_body`, 400, naming the part and each problem), so the error handler needs no case for Fastify's.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    if (httpPart === 'querystring') {
      const repeated = repeatedQueryParameter(data);
      if (repeated) return { error: Errors.invalidBody(repeated) };
    }
    const r = schema.safeParse(data);
    if (r.success) return { value: r.data };
    if (httpPart === 'body' && schema instanceof z.ZodObject && (data === null || typeof data !== 'object' || Array.isArray(data))) {
      return { error: Errors.invalidBody('body must be a JSON object') };
    }
    const where = httpPart ? WHERE[httpPart] : undefined;
    return { error: Errors.invalidBody(where ? `${where}: ${describeZodError(r.error)}` : describeZodError(r.error)) };
  };

/**
 * Fastify's query-string parser makes an array of a repeated parameter (`?user_id=a&user_id=b`). No route takes one:
 * rather than a schema's "expected string, received array" (or, for a schema that coerced, one of them taken
 * silently), the request is refused naming the parameter. Returns the message, or undefined when none repeats.
 */
function repeatedQueryParameter(query: unknown): string | undefined {
  if (query === null || typeof query !== 'object') return undefined;
  for (const [name, value] of Object.entries(query)) {
    if (Array.isArray(value)) {
      return `query: parameter ${JSON.stringify(name.slice(0, 64))} is given ${value.length} times; give each parameter once`;
    }
  }
  return undefined;
}

/**
 * Routes declare zod schemas: requests are validated by them, JSON responses serialized through them (and the OpenAPI
 * document is generated from them). Any app that registers the route plugins sets this first.
 */
export function useZodSchemas(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
}

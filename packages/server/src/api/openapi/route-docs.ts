import { ERROR_STATUS, ErrorBody, type ErrorCode } from '@sightline/protocol';
import { z } from 'zod';
import { storedText } from '@sightline/protocol';

/*
 * What a route declares in its `schema` besides its input schemas: responses (serialized through their zod schema, and
 * described in the OpenAPI document), error statuses and auth. Small helpers so each route file reads as its contract.
 */

/** HTTP statuses answered with an ErrorBody. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 412 | 413 | 414 | 415 | 426 | 429 | 431 | 500 | 501 | 503;

/** What each status means; the codes that carry it come from the protocol's one table, `ERROR_STATUS`. */
const STATUS_TEXT: Record<ErrorStatus, string> = {
  400: 'invalid request',
  401: 'no credentials, or a bad token',
  403: 'the key is not valid, or may not do this',
  404: "unknown, ended or another key's",
  408: 'no hello in time (WebSocket bridge), or the request itself not received in time',
  409: 'the connection ended before the answer was ready',
  412: 'If-Match does not match',
  413: 'too large',
  414: 'a path parameter or the request line is too long',
  415: 'wrong content type',
  426: 'a WebSocket route asked for without a WebSocket upgrade',
  429: 'the key has its maximum of concurrent sessions (Retry-After)',
  431: 'the request headers are too large',
  500: 'internal error',
  501: 'not supported (e.g. an ICE restart by WHIP PATCH)',
  503: 'try again shortly, or another instance (Retry-After where given)',
};

/** The description of an error status: its meaning and every code answered with it. */
export function errorStatusText(status: ErrorStatus): string {
  const codes = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((c) => ERROR_STATUS[c] === status);
  return `${STATUS_TEXT[status]}: ${codes.join(', ')}`;
}

/** Every status some code of the table answers with. */
export const ERROR_STATUSES = [...new Set(Object.values(ERROR_STATUS))].sort((a, b) => a - b) as ErrorStatus[];

/** A response as routes declare it: Fastify serializes each content type through its schema; the rest is for the document. */
export interface ResponseDoc {
  description: string;
  content: Record<string, { schema: z.ZodType }>;
  /** Response headers: name → description. */
  headers?: Record<string, string>;
  /** An example body, shown in the document. */
  example?: unknown;
  /** No body at all (204, a WebSocket's 101). */
  noBody?: true;
}

/** A JSON response, serialized through `schema`. */
export const json = (description: string, schema: z.ZodType, extra: Pick<ResponseDoc, 'headers' | 'example'> = {}): ResponseDoc => ({
  description,
  content: { 'application/json': { schema } },
  ...extra,
});

/** A text response of another type (SDP, trickle fragments, event streams), sent as a string. */
export const text = (description: string, contentType: string, headers?: Record<string, string>): ResponseDoc => ({
  description,
  content: { [contentType]: { schema: z.string() } },
  ...(headers ? { headers } : {}),
});

/** A response without a body. */
export const noBody = (description: string, headers?: Record<string, string>): ResponseDoc => ({
  description,
  content: {},
  noBody: true,
  ...(headers ? { headers } : {}),
});

/** The error statuses a route answers, each an ErrorBody described by the codes it carries. */
export const errors = (...statuses: ErrorStatus[]): Record<number, ResponseDoc> =>
  Object.fromEntries(statuses.map((s) => [s, json(errorStatusText(s), ErrorBody)]));

export const AUTH_ERRORS: ErrorStatus[] = [401, 403];

/** `security` of a route: an API key in `api-key` or as a Bearer token; none; or the metrics token when one is set. */
type Security = Array<Record<string, string[]>>;
export const API_KEY: Security = [{ apiKey: [] }, { bearer: [] }];
export const PUBLIC: Security = [];
export const METRICS_TOKEN: Security = [{}, { metricsToken: [] }];

/** Path parameters. */
export const SessionParams = z.object({ id: storedText(256).min(1).describe('session id') });
export const ViewerParams = SessionParams.extend({ viewer: storedText(256).min(1).describe('WHEP viewer id (last part of its Location)') });

/** `?processor=&params=` of transports whose body is not JSON (WHIP, the WebSocket bridge). */
export const ProcessorQuery = z.object({
  processor: z.string().max(256).optional().describe("processor to run (default: the server's)"),
  params: z.string().max(16_384).optional().describe('processor params as a JSON object'),
});

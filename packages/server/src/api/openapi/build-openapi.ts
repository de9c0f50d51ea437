import { ERROR_STATUS, type ErrorCode } from '@sightline/protocol';
import { z } from 'zod';
import { COMPONENT_SCHEMAS, type ComponentName } from './components.js';
import { ROUTES, servedPath, type ErrorStatus, type RouteSpec } from './route-table.js';

export interface BuildOpenApiOptions {
  /** `--base-path` (e.g. `/skin`), applied to the routes that live under it; '' for none. */
  basePath: string;
  /** The server's version (`info.version`). */
  version: string;
  /** Defaults to the server's route table. */
  routes?: RouteSpec[];
  /** The `status` text the health route answers (`--health-status`), given as its example. */
  healthStatus?: string;
}

type Json = Record<string, unknown>;

/** What each status means; the codes that carry it come from the protocol's one table, `ERROR_STATUS`. */
const STATUS_TEXT: Record<ErrorStatus, string> = {
  400: 'invalid request',
  401: 'no credentials, or a bad token',
  403: 'the key is not valid, or may not do this',
  404: "unknown, ended or another key's",
  408: 'no hello in time (WebSocket bridge)',
  409: 'the connection ended before the answer was ready',
  412: 'If-Match does not match',
  413: 'too large',
  415: 'wrong content type',
  429: 'the key has its maximum of concurrent sessions (Retry-After)',
  500: 'internal error',
  501: 'not supported (e.g. an ICE restart by WHIP PATCH)',
  503: 'try again shortly, or another instance (Retry-After where given)',
};

/** The description of an error status: its meaning and every code answered with it. */
export function errorStatusText(status: ErrorStatus): string {
  const codes = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((c) => ERROR_STATUS[c] === status);
  return `${STATUS_TEXT[status]}: ${codes.join(', ')}`;
}

const ref = (name: ComponentName): Json => ({ $ref: `#/components/schemas/${name}` });
const bodySchema = (s: ComponentName | 'text'): Json => (s === 'text' ? { type: 'string' } : ref(s));

/** A zod schema as a JSON Schema 2020-12 fragment (OpenAPI 3.1's dialect), without `$schema`. */
function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
  return rest;
}

/** `components.schemas`: every named schema, cross-references as `$ref`s. */
function componentSchemas(): Json {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENT_SCHEMAS)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { target: 'draft-2020-12', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  const schemas: Json = {};
  for (const [id, s] of Object.entries(out.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = s as Json;
    schemas[id] = rest;
  }
  return schemas;
}

const toOpenApiPath = (p: string): string => p.replace(/:([A-Za-z_]\w*)/g, '{$1}');
const PATH_PARAM_TEXT: Record<string, string> = { id: 'session id', viewer: 'WHEP viewer id (last part of its Location)' };

function operation(r: RouteSpec, examples: Record<string, unknown>): Json {
  const parameters: Json[] = [];
  for (const m of r.path.matchAll(/:([A-Za-z_]\w*)/g)) {
    parameters.push({ name: m[1], in: 'path', required: true, description: PATH_PARAM_TEXT[m[1]!] ?? m[1], schema: { type: 'string' } });
  }
  for (const q of r.query ?? [])
    parameters.push({ name: q.name, in: 'query', required: q.required ?? false, description: q.description, schema: jsonSchema(q.schema) });
  const responses: Json = {};
  for (const [status, res] of Object.entries(r.responses)) {
    responses[status] = {
      description: res.description,
      ...(res.headers ? { headers: Object.fromEntries(Object.entries(res.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
      ...(res.content
        ? {
            content: Object.fromEntries(
              Object.entries(res.content).map(([type, s]) => [
                type,
                { schema: bodySchema(s), ...(res.example && res.example in examples ? { example: examples[res.example] } : {}) },
              ]),
            ),
          }
        : {}),
    };
  }
  for (const status of r.errors) responses[status] = { $ref: `#/components/responses/E${status}` };
  const security = r.auth === 'api-key' ? [{ apiKey: [] }, { bearer: [] }] : r.auth === 'metrics-token' ? [{}, { metricsToken: [] }] : [];
  return {
    tags: [r.tag],
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    operationId: `${r.method.toLowerCase()}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')) || 'Root'}`,
    security,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(r.body
      ? {
          requestBody: {
            required: true,
            ...(r.body.description ? { description: r.body.description } : {}),
            content: { [r.body.contentType]: { schema: bodySchema(r.body.schema) } },
          },
        }
      : {}),
    responses,
    ...(r.websocket ? { 'x-websocket': true } : {}),
  };
}

/** The OpenAPI 3.1 document of the server's HTTP API, built from its route table and the protocol's zod schemas. */
export function buildOpenApi(opts: BuildOpenApiOptions): Json {
  const paths: Record<string, Json> = {};
  const examples: Record<string, unknown> = { health: { status: opts.healthStatus ?? 'WebRTC API healthy' } };
  for (const r of opts.routes ?? ROUTES) {
    const p = toOpenApiPath(servedPath(r, opts.basePath));
    (paths[p] ??= {})[r.method.toLowerCase()] = operation(r, examples);
  }
  const statuses = [...new Set(Object.values(ERROR_STATUS))].sort((a, b) => a - b) as ErrorStatus[];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sightline API',
      version: opts.version,
      description:
        'Real-time ML on live media over WebRTC. Errors are always JSON `{"error": {"code", "message"}}`. DataChannel and WebSocket messages are described under components (ServerMessage, ClientMessage, HelloMessage).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set((opts.routes ?? ROUTES).map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: componentSchemas(),
      responses: Object.fromEntries(
        statuses.map((s) => [`E${s}`, { description: errorStatusText(s), content: { 'application/json': { schema: ref('ErrorBody') } } }]),
      ),
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'api-key', description: "an API key (the seed's header)" },
        bearer: { type: 'http', scheme: 'bearer', description: 'the same API key as `Authorization: Bearer <key>`' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'the metrics token, when the server is configured with one' },
      },
    },
  };
}

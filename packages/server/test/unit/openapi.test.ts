import assert from 'node:assert/strict';
import { ServerMetrics } from '../../src/observability/server-metrics.js';
import { describe, test } from 'node:test';
import { ClientMessage, ERROR_STATUS, ErrorCode, OfferRequest, ServerMessage } from '@sightline/protocol';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { buildApp } from '../../src/api/app.js';
import { KeyStore } from '../../src/auth/key-store.js';
import { COMPONENT_SCHEMAS } from '../../src/api/openapi/components.js';

type Json = Record<string, any>;

async function validate(doc: object): Promise<{ valid: boolean; errors?: unknown; version: string }> {
  const v = new Validator();
  const res = await v.validate(doc);
  return { valid: res.valid, errors: res.errors, version: v.version };
}

/** Every `$ref` in `node`. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

/** Method + URL of every route Fastify registered, read from `printRoutes()` (each pair checked with `hasRoute`). */
function registeredRoutes(app: FastifyInstance): Array<{ method: string; url: string }> {
  const parents: string[] = [];
  const out: Array<{ method: string; url: string }> = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const url = depth > 0 ? parents[depth - 1]! + m[2]! : m[2]!.startsWith('/') ? m[2]! : `/${m[2]!}`;
    parents.length = depth;
    parents[depth] = url;
    for (const method of m[3]?.split(', ') ?? []) {
      if (!url.includes('*')) assert.ok(app.hasRoute({ method: method as 'GET', url }), `parsed route ${method} ${url} is registered`);
      out.push({ method, url });
    }
  }
  return out;
}

const BUILT_DEMO = resolve(fileURLToPath(new URL('../../../demo/dist', import.meta.url)));

/** The real app, built as the server builds it; dependencies are only referenced at registration, so stubs do. */
async function realApp(basePath: string, demoDir = '/nonexistent-demo-dir'): Promise<FastifyInstance> {
  const app = await buildApp({
    keys: new KeyStore(['k']),
    sessions: {} as never,
    basePath,
    defaultProcessor: 'face',
    registry: {} as never,
    pool: {} as never,
    corsOrigins: '*',
    readiness: () => ({ ready: true, workers: 1, models: [], sessions: 0, max_sessions: 1 }),
    demoDir,
    logLevel: 'silent',
    maxFrameBytes: 1 << 20,
    metrics: new ServerMetrics({ defaultMetrics: false }),
    // Only registered here, never queried.
    store: {} as never,
    version: '9.9.9',
  });
  await app.ready();
  return app;
}

async function documentOf(app: FastifyInstance): Promise<Json> {
  const r = await app.inject('/openapi.json');
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /^application\/json/);
  return r.json() as Json;
}

/** Operations of the document as `METHOD /path` (Fastify's `:param` syntax). */
const operations = (doc: Json): string[] =>
  Object.entries(doc.paths as Json).flatMap(([p, item]) => Object.keys(item as Json).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));

describe('OpenAPI document, generated from the routes', () => {
  for (const basePath of ['', '/skin']) {
    test(`validates as OpenAPI 3.1 and documents every route Fastify registered, nothing else (base path "${basePath}")`, async () => {
      const app = await realApp(basePath);
      try {
        const doc = await documentOf(app);
        const res = await validate(doc);
        assert.equal(res.valid, true, JSON.stringify(res.errors, null, 2));
        assert.equal(res.version, '3.1');
        assert.equal(doc.openapi, '3.1.0');
        assert.equal((doc.info as Json).version, '9.9.9');
        // Fastify's automatic HEAD routes, CORS's preflight catch-all and Swagger UI's own files are not API routes.
        const registered = registeredRoutes(app)
          .filter((r) => r.method !== 'HEAD' && !(r.method === 'OPTIONS' && r.url === '/*') && !r.url.startsWith('/docs'))
          .map((r) => `${r.method} ${r.url}`);
        assert.ok(registered.length >= 25, `parsed ${registered.length} routes`);
        const documented = operations(doc);
        assert.deepEqual(
          registered.filter((r) => !documented.includes(r)),
          [],
          'registered routes missing from the document',
        );
        assert.deepEqual(
          documented.filter((d) => !registered.includes(d)),
          ['GET /docs'],
          'documented operations that are not routes (only the UI, which Swagger UI serves)',
        );
        const paths = doc.paths as Json;
        if (basePath) {
          assert.ok(paths['/skin/webrtc/offer'] && !paths['/webrtc/offer'], 'routes under the base path get it');
          assert.ok(paths['/healthz'] && paths['/metrics'] && !paths['/skin/healthz'], 'root routes do not');
        }
        for (const [key, op] of Object.entries(paths).flatMap(([p, item]) => Object.entries(item as Json).map(([m, o]) => [`${m} ${p}`, o as Json] as const))) {
          assert.ok(op.summary && op.tags?.length === 1, `${key} has a summary and a tag`);
          assert.ok(Array.isArray(op.security), `${key} states its auth`);
          assert.ok(
            Object.keys(op.responses).some((s) => /^[123]/.test(s)),
            `${key} documents its success`,
          );
          // (The WebSocket bridge checks its key after the upgrade: refusals are close codes.)
          if (JSON.stringify(op.security) === JSON.stringify([{ apiKey: [] }, { bearer: [] }]) && key !== `get ${basePath}/ws`) {
            assert.ok(op.responses['401'] && op.responses['403'], `${key} takes a key, so documents 401 and 403`);
          }
          for (const [status, r] of Object.entries(op.responses as Json)) {
            if (Number(status) >= 400 && !(key === 'get /readyz' && status === '503')) {
              assert.deepEqual(r, { $ref: `#/components/responses/E${status}` }, `${key} ${status} is an ErrorBody`);
            }
          }
        }
        assert.equal(paths[`${basePath}/ws`].get['x-websocket'], true);
        assert.deepEqual(Object.keys(paths[`${basePath}/whip`].options.responses['204'].headers).sort(), ['accept-post', 'link']);
        assert.equal(paths[`${basePath}/whip`].options.responses['204'].content, undefined, '204 has no body');
        assert.deepEqual(paths[`${basePath}/webrtc/sessions/{id}`].patch.requestBody.content, {
          'application/trickle-ice-sdpfrag': { schema: { type: 'string' } },
        });
      } finally {
        await app.close();
      }
    });
  }

  test('with the demo page built, the page is documented once at / and its files stay out of the document', async () => {
    const app = await realApp('', BUILT_DEMO);
    try {
      const doc = await documentOf(app);
      assert.ok((doc.paths as Json)['/'].get);
      assert.deepEqual(
        Object.keys(doc.paths as Json).filter((p) => p.startsWith('/assets') || p.endsWith('.html')),
        [],
      );
      const page = await app.inject('/');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<html/i);
    } finally {
      await app.close();
    }
  });

  test('the validator is real: a broken document fails', async () => {
    const app = await realApp('');
    const doc = await documentOf(app);
    await app.close();
    const broken = { ...doc, paths: { ...doc.paths, '/x': { get: { responses: { 200: { content: {} } } } } } }; // no description
    assert.equal((await validate(broken)).valid, false);
    const { info: _info, ...noInfo } = doc;
    assert.equal((await validate(noInfo)).valid, false);
  });

  test('every $ref resolves; operation ids are unique; each error status lists its codes from the one table', async () => {
    const app = await realApp('/b');
    const doc = await documentOf(app);
    await app.close();
    for (const r of refs(doc)) {
      const target = r
        .replace(/^#\//, '')
        .split('/')
        .reduce<any>((n, k) => n?.[k], doc);
      assert.ok(target, `${r} resolves`);
    }
    const ids = Object.values(doc.paths as Json).flatMap((item) => Object.values(item as Json).map((op) => (op as Json).operationId));
    assert.equal(new Set(ids).size, ids.length);
    for (const code of ErrorCode.options) {
      const r = doc.components.responses[`E${ERROR_STATUS[code]}`];
      assert.ok(r, `E${ERROR_STATUS[code]} is a component`);
      assert.deepEqual(r.content['application/json'].schema, { $ref: '#/components/schemas/ErrorBody' });
      assert.match(r.description, new RegExp(`\\b${code}\\b`), `${code} is listed under ${ERROR_STATUS[code]}`);
    }
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearer', 'metricsToken']);
    assert.deepEqual(doc.components.securitySchemes.apiKey, {
      type: 'apiKey',
      in: 'header',
      name: 'api-key',
      description: doc.components.securitySchemes.apiKey.description,
    });
  });

  test("components are the protocol's own zod schemas; one name where input and output are the same", async () => {
    const app = await realApp('');
    const doc = await documentOf(app);
    await app.close();
    const schemas = doc.components.schemas as Json;
    for (const name of Object.keys(COMPONENT_SCHEMAS)) assert.ok(schemas[name], name);
    assert.deepEqual(
      Object.keys(schemas).filter((n) => !(n in COMPONENT_SCHEMAS) && !(n.endsWith('Input') && n.slice(0, -5) in COMPONENT_SCHEMAS)),
      [],
      'no schema but the components (and input forms that differ)',
    );
    // OfferRequest has no named sub-schemas: its component is what zod makes of its input (named, hence under $defs).
    const direct = z.toJSONSchema(OfferRequest, { target: 'draft-2020-12', io: 'input' }) as Json;
    assert.deepEqual(schemas.OfferRequest, direct.$defs?.OfferRequest ?? direct);
    assert.equal(schemas.OfferRequestInput, undefined);
    assert.deepEqual(schemas.ErrorBody.properties.error.properties.code, { $ref: '#/components/schemas/ErrorCode' });
    // Every message of the unions is a named component (a new message type must be added to components.ts).
    for (const [union, zodUnion] of [
      ['ServerMessage', ServerMessage],
      ['ClientMessage', ClientMessage],
    ] as const) {
      assert.equal(schemas[union].oneOf.length, zodUnion.options.length);
      for (const m of schemas[union].oneOf)
        assert.match(m.$ref ?? '', /^#\/components\/schemas\/\w+Message$/, `${union} member ${JSON.stringify(m).slice(0, 80)} is named`);
    }
    const offer = doc.paths['/webrtc/offer'].post;
    assert.deepEqual(offer.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/OfferRequest' });
    assert.deepEqual(offer.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/OfferResponse' });
  });
});

describe('GET /docs', () => {
  test('Swagger UI, served from the package: the page, its script and styles, and no external resource', async () => {
    const app = await realApp('/skin');
    try {
      const page = await app.inject('/docs/');
      assert.equal(page.statusCode, 200);
      assert.match(page.headers['content-type'] as string, /^text\/html/);
      assert.doesNotMatch(page.body, /\b(src|href)=["']?(https?:)?\/\//i, 'no external resources');
      const assets = [...page.body.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), assets.join(' '));
      for (const a of assets) assert.equal((await app.inject(`/docs/${a}`)).statusCode, 200, a);
      const init = await app.inject('/docs/static/swagger-initializer.js');
      assert.equal(init.statusCode, 200);
      assert.match(init.body, /"validatorUrl":null/, 'no online validator');
      assert.match(init.body, /url: resolveUrl\('\.\/json'\)/, 'the document comes from this server');
      const json = await app.inject('/docs/json');
      assert.ok(json.json().paths['/skin/webrtc/offer'], 'the UI reads the same document');
    } finally {
      await app.close();
    }
  });
});

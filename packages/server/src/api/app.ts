import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import { FRAME_CHUNK_HEADER_BYTES } from '@sightline/protocol';
import type { ReadyResponse } from '@sightline/protocol';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { InferencePool } from '../models/inference-pool.js';
import type { ProcessorRegistry } from '../pipeline/processor-registry.js';
import type { AudioProcessorRegistry } from '../audio/audio-registry.js';
import type { SessionManager } from '../session/session-manager.js';
import { discoveryRoutes } from './discovery-routes.js';
import { iceRoutes, type IceRoutesOptions } from './ice-routes.js';
import { sessionEventsRoutes } from './session-events-routes.js';
import { whepRoutes } from './whep-routes.js';
import { whipRoutes } from './whip-routes.js';
import { demoRoutes } from './demo-routes.js';
import { Errors, SightlineError } from './errors.js';
import { healthRoutes } from './health-routes.js';
import type { KeyStore } from '../auth/key-store.js';
import { webrtcRoutes } from './webrtc-routes.js';
import { wsBridgeRoutes } from './ws-bridge-routes.js';
import { historyRoutes } from './history-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { registerOpenApi } from './openapi-routes.js';
import { useZodSchemas } from './request-validation.js';
import { redactUrl } from './redact-url.js';
import { countHttpErrors } from '../observability/http-error-metrics.js';
import type { ServerMetrics } from '../observability/server-metrics.js';
import type { SessionStore } from '../store/store.js';

export interface AppOptions {
  keys: KeyStore;
  sessions: SessionManager;
  basePath: string;
  defaultProcessor: string;
  registry: ProcessorRegistry;
  /** Audio processors, listed by /v1/processors. */
  audio?: AudioProcessorRegistry;
  pool: InferencePool;
  ice?: Omit<IceRoutesOptions, 'keys'>;
  /** `*` or a list of allowed origins. */
  corsOrigins: '*' | string[];
  readiness: () => ReadyResponse;
  demoDir: string;
  devKey?: string;
  logLevel?: string;
  /** Largest request body; bigger ones get 413. */
  bodyLimit?: number;
  /** Largest JPEG/WebP frame (bytes): a WebSocket message may carry one whole. */
  maxFrameBytes: number;
  /** Prometheus metrics (`GET /metrics`), optionally behind a bearer token. */
  metrics?: ServerMetrics | undefined;
  metricsToken?: string | undefined;
  /** The session history (`GET {base}/v1/sessions…`). */
  store?: SessionStore | undefined;
  /** Shown in /openapi.json. */
  version?: string;
  /** `status` of `GET {base}/webrtc/health`; default "WebRTC API healthy". */
  healthStatus?: string;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Builds the HTTP app (no listening): route groups as plugins, one error table, JSON errors everywhere. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    bodyLimit,
    logger:
      opts.logLevel === 'silent'
        ? false
        : {
            level: opts.logLevel ?? 'info',
            redact: ['req.headers["api-key"]', 'req.headers.authorization'],
            // Fastify's request fields, with credentials in the query string (`?key=` of the demo page) redacted.
            serializers: {
              req: (req: FastifyRequest) => ({
                method: req.method,
                url: redactUrl(req.url),
                host: req.host,
                remoteAddress: req.ip,
                remotePort: req.socket?.remotePort,
              }),
            },
          },
    // Per-request lines only at debug/trace: a busy server logs sessions, not every health probe.
    logController: new LogController({ disableRequestLogging: opts.logLevel !== 'debug' && opts.logLevel !== 'trace' }),
  });
  useZodSchemas(app);
  app.removeContentTypeParser('text/plain');
  if (opts.metrics) countHttpErrors(app, opts.metrics);
  // SDP bodies (WHIP offers, RFC 8840 trickle fragments) arrive as text; routes check which one they accept.
  for (const type of ['application/sdp', 'application/trickle-ice-sdpfrag']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  }

  await app.register(cors, {
    origin: opts.corsOrigins === '*' ? '*' : opts.corsOrigins,
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['content-type', 'api-key', 'authorization', 'if-match'],
    exposedHeaders: ['retry-after', 'location', 'etag', 'link', 'accept-patch', 'accept-post'],
    maxAge: 600,
    // A plain OPTIONS (no Origin: e.g. a WHIP client asking for ICE servers) reaches its route instead of a 400.
    strictPreflight: false,
    preflightContinue: true,
  });

  app.setErrorHandler((err: FastifyError | SightlineError, req, reply) => {
    const apiErr = toApiError(err, bodyLimit, req.headers['content-type']);
    if (apiErr.status >= 500 && apiErr.code === 'internal') req.log.error({ err }, 'unhandled error');
    void reply.code(apiErr.status).headers(apiErr.headers).send(apiErr.body());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = Errors.notFound(`route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`);
    void reply.code(404).send(e.body());
  });

  // One WebSocket server for every route that upgrades; a message may be a whole frame.
  await app.register(websocket, { options: { maxPayload: opts.maxFrameBytes + FRAME_CHUNK_HEADER_BYTES } });

  const base = opts.basePath;
  const healthStatus = opts.healthStatus ?? 'WebRTC API healthy';
  await registerOpenApi(app, { version: opts.version ?? '0.0.0', healthStatus });
  await app.register(healthRoutes, { readiness: opts.readiness });
  if (opts.metrics) await app.register(metricsRoutes, { metrics: opts.metrics, metricsToken: opts.metricsToken });
  if (opts.store) await app.register(historyRoutes, { prefix: base, keys: opts.keys, store: opts.store });
  await app.register(webrtcRoutes, {
    prefix: base,
    keys: opts.keys,
    sessions: opts.sessions,
    defaultProcessor: opts.defaultProcessor,
    healthStatus,
    isReady: () => opts.readiness().ready,
  });
  const ice = opts.ice ?? { stunUrls: [], turnUrls: [], turnSecret: undefined, turnTtlSeconds: 3600 };
  await app.register(iceRoutes, { prefix: base, keys: opts.keys, ...ice });
  await app.register(whipRoutes, {
    prefix: base,
    keys: opts.keys,
    sessions: opts.sessions,
    defaultProcessor: opts.defaultProcessor,
    isReady: () => opts.readiness().ready,
    ice,
  });
  await app.register(wsBridgeRoutes, {
    prefix: base,
    keys: opts.keys,
    sessions: opts.sessions,
    defaultProcessor: opts.defaultProcessor,
    isReady: () => opts.readiness().ready,
  });
  await app.register(sessionEventsRoutes, { prefix: base, keys: opts.keys, sessions: opts.sessions });
  await app.register(whepRoutes, { prefix: base, keys: opts.keys, sessions: opts.sessions });
  await app.register(discoveryRoutes, {
    prefix: base,
    keys: opts.keys,
    registry: opts.registry,
    audio: opts.audio,
    pool: opts.pool,
    defaultProcessor: opts.defaultProcessor,
  });
  await app.register(demoRoutes, { dir: opts.demoDir, basePath: base, ...(opts.devKey ? { devKey: opts.devKey } : {}) });
  return app;
}

function toApiError(err: FastifyError | SightlineError, bodyLimit: number, contentType: string | undefined): SightlineError {
  if (err instanceof SightlineError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.bodyTooLarge(bodyLimit);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType(contentType);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return Errors.invalidJson('body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return Errors.invalidBody('content-length does not match the body');
  }
  if (err.statusCode === 400 && (err.name === 'SyntaxError' || /JSON/i.test(err.message))) return Errors.invalidJson(err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return Errors.invalidBody(err.message);
  return Errors.internal();
}

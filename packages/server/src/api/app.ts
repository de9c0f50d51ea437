import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import { FRAME_CHUNK_HEADER_BYTES } from '@sightline/protocol';
import type { ReadyResponse } from '@sightline/protocol';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type preHandlerAsyncHookHandler,
} from 'fastify';
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
import { countHttpErrors, type ErrorSink } from '../observability/http-error-metrics.js';
import type { ServerMetrics } from '../observability/server-metrics.js';
import type { SessionStore } from '../store/store.js';
import type { Fleet } from '../cluster/fleet.js';
import { forwardToOwner, isSessionRoute } from '../cluster/session-forwarding.js';
import { clusterRoutes } from './cluster-routes.js';

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
  /** The nodes sharing this one's state: requests for their sessions are forwarded to them; `GET /v1/cluster` lists them. */
  fleet: Fleet;
  /** Longest wait for another node's answer to a forwarded request (default 10 s; above its ICE gathering timeout). */
  forwardTimeoutMs?: number;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;
/**
 * Longest path parameter the router matches (session and viewer ids: their schemas take 256 characters). A longer
 * one is 414 `uri_too_long` (Fastify's default, 100, would refuse ids the schemas accept).
 */
export const MAX_PARAM_CHARS = 256;

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
    routerOptions: { maxParamLength: MAX_PARAM_CHARS },
    // What Fastify and Node's HTTP parser would answer with bodies of their own gets the error shape too (below).
    frameworkErrors: (err, req, reply) => {
      const e = frameworkError(err, req.raw.url ?? '');
      if (e.code === 'internal') req.log.error({ err }, 'router error');
      // This reply runs no route hooks (not even onSend): count it here.
      opts.metrics?.onError(e.code);
      void (reply as FastifyReply).code(e.status).headers(e.headers).send(e.body());
    },
    clientErrorHandler: (err, socket) => answerClientError(err, socket, opts.metrics),
    return503OnClosing: false,
  });
  useZodSchemas(app);
  // While closing, requests still arriving on open connections get 503 `not_ready` (Fastify's own 503 has no error
  // shape, hence `return503OnClosing: false`).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new SightlineError('not_ready', 'the server is shutting down; try again (another instance)', { connection: 'close' });
  });
  // A WebSocket route asked for without an upgrade is 426 (@fastify/websocket would answer an empty 404), and a bad
  // handshake is refused here in the error shape rather than by `ws` in plain text.
  app.addHook('onRoute', (route) => {
    if (!route.websocket) return;
    const own = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [requireWebSocketUpgrade, ...own] as typeof route.preHandler;
  });
  // A request for a session another node of the fleet holds is answered by that node (after this one's auth and before
  // any validation, so the owner sees the body as sent).
  const forward = forwardToOwner(opts.fleet, (id) => opts.sessions.get(id) !== undefined, opts.forwardTimeoutMs);
  // A relayed SSE stream or WebSocket lasts as long as another node's session: it must not hold this server's close.
  app.addHook('preClose', (done) => {
    forward.closeAll();
    done();
  });
  app.addHook('onRoute', (route) => {
    if (route.method === 'HEAD' || !isSessionRoute(route.url, opts.basePath)) return;
    const own = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    route.preValidation = [forward.hook, ...own] as typeof route.preValidation;
  });
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
  // Offers are refused (503 not_ready) while starting or draining; a full node answers them itself (503 at_capacity).
  const isReady = (): boolean => {
    const r = opts.readiness();
    return r.ready || r.reason === 'full';
  };
  const healthStatus = opts.healthStatus ?? 'WebRTC API healthy';
  await registerOpenApi(app, { version: opts.version ?? '0.0.0', healthStatus });
  await app.register(healthRoutes, { readiness: opts.readiness });
  await app.register(clusterRoutes, { prefix: base, keys: opts.keys, fleet: opts.fleet });
  if (opts.metrics) await app.register(metricsRoutes, { metrics: opts.metrics, metricsToken: opts.metricsToken });
  if (opts.store) await app.register(historyRoutes, { prefix: base, keys: opts.keys, store: opts.store });
  await app.register(webrtcRoutes, {
    prefix: base,
    keys: opts.keys,
    sessions: opts.sessions,
    defaultProcessor: opts.defaultProcessor,
    healthStatus,
    isReady,
  });
  const ice = opts.ice ?? { stunUrls: [], turnUrls: [], turnSecret: undefined, turnTtlSeconds: 3600 };
  await app.register(iceRoutes, { prefix: base, keys: opts.keys, ...ice });
  await app.register(whipRoutes, {
    prefix: base,
    keys: opts.keys,
    sessions: opts.sessions,
    defaultProcessor: opts.defaultProcessor,
    isReady,
    ice,
  });
  await app.register(wsBridgeRoutes, {
    prefix: base,
    keys: opts.keys,
    sessions: opts.sessions,
    defaultProcessor: opts.defaultProcessor,
    isReady,
    errors: opts.metrics,
  });
  await app.register(sessionEventsRoutes, { prefix: base, keys: opts.keys, sessions: opts.sessions, errors: opts.metrics });
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

/** The error of what the router refuses before any route runs: a URL that does not decode, an over-long parameter. */
function frameworkError(err: FastifyError, url: string): SightlineError {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return Errors.badRequest(`the URL path ${JSON.stringify(url.split('?')[0]!.slice(0, 200))} does not decode (a %-escape that is not UTF-8?)`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return Errors.uriTooLong(`a path parameter is longer than ${MAX_PARAM_CHARS} characters`);
  }
  return Errors.internal();
}

/** A token of RFC 9110 (what a Sec-WebSocket-Protocol lists). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * First hook of every WebSocket route: a plain request (no upgrade) is 426 `upgrade_required`; an upgrade that `ws`
 * would refuse with a plain-text 400 (not `Upgrade: websocket`, a bad Sec-WebSocket-Key/-Version/-Protocol) is
 * refused here in the error shape, with the same checks.
 */
const requireWebSocketUpgrade: preHandlerAsyncHookHandler = async (req) => {
  const path = req.url.split('?')[0]!.slice(0, 200);
  const h = req.headers;
  if (!req.ws) throw Errors.upgradeRequired(path);
  if (h.upgrade?.toLowerCase() !== 'websocket')
    throw Errors.upgradeRequired(path, `the upgrade must be to "websocket" (got ${JSON.stringify(h.upgrade?.slice(0, 64))})`);
  const version = h['sec-websocket-version'];
  if (version !== '13' && version !== '8') throw Errors.upgradeRequired(path, 'Sec-WebSocket-Version must be 13');
  const key = h['sec-websocket-key'];
  if (key === undefined || !/^[+/0-9A-Za-z]{22}==$/.test(key)) throw Errors.badRequest('the Sec-WebSocket-Key header is missing or not valid');
  const protocols = h['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const list = protocols.split(',').map((p) => p.trim());
    if (!list.every((p) => TOKEN.test(p)) || new Set(list).size !== list.length) {
      throw Errors.badRequest('the Sec-WebSocket-Protocol header is not a list of distinct tokens');
    }
  }
};

/** Node's `clientError` when the HTTP parser gave up or a request timed out (ParserError). */
interface ClientError extends Error {
  code?: string;
  bytesParsed?: number;
  rawPacket?: unknown;
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (Fastify's default answers with a body of its
 * own): 431 `headers_too_large`, or 414 `uri_too_long` when the request line alone passed the header size limit (as
 * far as the chunk that overflowed shows), 408 `request_timeout`, else 400 `bad_request`. Then the connection closes,
 * as Node's own answer does; counted in `sightline_errors_total` like every error body.
 */
function answerClientError(err: ClientError, socket: Socket, sink: ErrorSink | undefined): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = clientError(err);
  sink?.onError(e.code);
  // Not in the middle of a response on this connection (keep-alive): that one cannot be replaced.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(e.body());
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

function clientError(err: ClientError): SightlineError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': {
      const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, err.bytesParsed ?? err.rawPacket.length) : undefined;
      // The chunk starts with the request line and the limit was passed before its end.
      if (raw && /^[A-Z]+ /.test(raw.subarray(0, 16).toString('latin1')) && !raw.includes(0x0a)) {
        return Errors.uriTooLong('the request line is longer than the HTTP header size limit');
      }
      return Errors.headersTooLarge();
    }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return Errors.requestTimeout();
    default:
      return Errors.badRequest(`the HTTP parser refused it (${err.code ?? 'unknown'}: ${err.message.slice(0, 120)})`);
  }
}

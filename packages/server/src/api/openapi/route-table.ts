import { z } from 'zod';
import type { ComponentName } from './components.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'OPTIONS';
/** `api-key`: the `api-key` header or `Authorization: Bearer`; `metrics-token`: a Bearer token when one is configured. */
export type RouteAuth = 'none' | 'api-key' | 'metrics-token';
/** HTTP statuses answered with an ErrorBody. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 412 | 413 | 415 | 429 | 500 | 501 | 503;

export interface ParamSpec {
  name: string;
  description: string;
  schema: z.ZodType;
  required?: boolean;
}

export interface BodySpec {
  contentType: string;
  /** A component, or a plain string body (SDP, trickle fragments). */
  schema: ComponentName | 'text';
  description?: string;
}

export interface ResponseSpec {
  description: string;
  /** Content types and their schema; none for an empty body. */
  content?: Record<string, ComponentName | 'text'>;
  /** Response headers: name → description. */
  headers?: Record<string, string>;
  /** A named example the document fills in from the server's configuration (e.g. `health`). */
  example?: 'health';
}

/** One route of the server, as the OpenAPI document and the docs page describe it. */
export interface RouteSpec {
  method: HttpMethod;
  /** Fastify syntax (`/sessions/:id`), without the base path. */
  path: string;
  /** Mounted under `--base-path`. */
  underBase: boolean;
  tag: string;
  summary: string;
  description?: string;
  auth: RouteAuth;
  query?: ParamSpec[];
  body?: BodySpec;
  responses: Record<number, ResponseSpec>;
  errors: ErrorStatus[];
  /** A WebSocket upgrade (GET answered with 101). */
  websocket?: boolean;
  /** Being added: may not be registered yet (the route-table test tolerates only these being absent). */
  planned?: boolean;
}

const json = (schema: ComponentName): Record<string, ComponentName> => ({ 'application/json': schema });
const sdp = { 'application/sdp': 'text' } as const;
const frag = { 'application/trickle-ice-sdpfrag': 'text' } as const;
const AUTH_ERRORS: ErrorStatus[] = [401, 403];
const processorQuery: ParamSpec[] = [
  { name: 'processor', description: "processor to run (default: the server's)", schema: z.string() },
  { name: 'params', description: 'processor params as a JSON object', schema: z.string() },
];
const limit = (max: number): ParamSpec => ({ name: 'limit', description: `page size (1–${max})`, schema: z.number().int().min(1).max(max) });

/** Every route the server registers (HEAD and CORS's `OPTIONS *` aside), and those being added. */
export const ROUTES: RouteSpec[] = [
  // Signaling (the seed's API).
  {
    method: 'POST',
    path: '/webrtc/offer',
    underBase: true,
    tag: 'WebRTC',
    auth: 'api-key',
    summary: 'Open a session (or ICE-restart one) with an SDP offer',
    description:
      'Answers once ICE gathering completes (non-trickle, bounded wait), or at once with `trickle: true` (then PATCH `session_url`). With `session_id` of a live session of the same key, renegotiates it instead.',
    body: { contentType: 'application/json', schema: 'OfferRequest' },
    responses: { 200: { description: 'the SDP answer', content: json('OfferResponse') } },
    errors: [400, ...AUTH_ERRORS, 404, 409, 413, 415, 429, 503],
  },
  {
    method: 'PATCH',
    path: '/webrtc/sessions/:id',
    underBase: true,
    tag: 'WebRTC',
    auth: 'api-key',
    summary: 'Trickle ICE (RFC 8840): client candidates in, server candidates out',
    body: { contentType: 'application/trickle-ice-sdpfrag', schema: 'text' },
    responses: { 200: { description: "the server's new candidates; `a=end-of-candidates` once complete", content: frag } },
    errors: [400, ...AUTH_ERRORS, 404, 413, 415],
  },
  {
    method: 'DELETE',
    path: '/webrtc/sessions/:id',
    underBase: true,
    tag: 'WebRTC',
    auth: 'api-key',
    summary: 'End a session; returns its final counters',
    responses: {
      200: {
        description: "the session's summary; a session that already ended (for a few minutes after) answers its final summary again, with its own `end_reason`",
        content: json('SessionSummary'),
      },
    },
    errors: [...AUTH_ERRORS, 404],
  },
  {
    method: 'GET',
    path: '/webrtc/health',
    underBase: true,
    tag: 'WebRTC',
    auth: 'none',
    summary: "The seed's health check",
    responses: {
      200: {
        description:
          '`{"status": "<text>"}`: the text set by `--health-status` (default "WebRTC API healthy"; the seed documents "WebRTC Skin API healthy"), as in the example',
        content: json('HealthResponse'),
        example: 'health',
      },
    },
    errors: [],
  },
  {
    method: 'GET',
    path: '/webrtc/ice-servers',
    underBase: true,
    tag: 'WebRTC',
    auth: 'api-key',
    summary: 'STUN/TURN servers for clients, with fresh TURN credentials',
    responses: { 200: { description: 'ICE servers', content: json('IceServersResponse') } },
    errors: AUTH_ERRORS,
  },
  // WHIP ingest and WHEP egress.
  {
    method: 'OPTIONS',
    path: '/whip',
    underBase: true,
    tag: 'WHIP/WHEP',
    auth: 'none',
    summary: 'WHIP discovery: Accept-Post and the ICE servers as Link headers',
    responses: { 204: { description: 'no body', headers: { 'accept-post': 'application/sdp', link: 'ICE servers (RFC 9725)' } } },
    errors: [],
  },
  {
    method: 'POST',
    path: '/whip',
    underBase: true,
    tag: 'WHIP/WHEP',
    auth: 'api-key',
    summary: 'WHIP ingest (RFC 9725): publish a stream with an SDP offer',
    description: 'Results of a WHIP session are read from `{base}/sessions/{id}/events` (SSE) or `/ws`.',
    query: processorQuery,
    body: { contentType: 'application/sdp', schema: 'text', description: 'the SDP offer' },
    responses: {
      201: {
        description: 'the SDP answer',
        content: sdp,
        headers: { location: '{base}/whip/{id}', etag: "the session's entity tag", link: 'ICE servers', 'accept-patch': 'application/trickle-ice-sdpfrag' },
      },
    },
    errors: [400, ...AUTH_ERRORS, 409, 413, 415, 429, 503],
  },
  {
    method: 'PATCH',
    path: '/whip/:id',
    underBase: true,
    tag: 'WHIP/WHEP',
    auth: 'api-key',
    summary: "Trickle the publisher's ICE candidates (an ICE restart answers 501)",
    body: { contentType: 'application/trickle-ice-sdpfrag', schema: 'text' },
    responses: { 204: { description: 'candidates applied' } },
    errors: [400, ...AUTH_ERRORS, 404, 412, 413, 415, 501],
  },
  {
    method: 'DELETE',
    path: '/whip/:id',
    underBase: true,
    tag: 'WHIP/WHEP',
    auth: 'api-key',
    summary: 'End a WHIP session',
    responses: { 200: { description: "the session's summary", content: json('SessionSummary') } },
    errors: [...AUTH_ERRORS, 404],
  },
  {
    method: 'POST',
    path: '/sessions/:id/whep',
    underBase: true,
    tag: 'WHIP/WHEP',
    auth: 'api-key',
    summary: "WHEP egress: watch a session's video with its results drawn in",
    body: { contentType: 'application/sdp', schema: 'text', description: 'a recvonly SDP offer' },
    responses: {
      201: { description: 'the SDP answer', content: sdp, headers: { location: '{base}/sessions/{id}/whep/{viewer}', etag: "the viewer's entity tag" } },
    },
    errors: [400, ...AUTH_ERRORS, 404, 409, 413, 415, 503],
  },
  {
    method: 'PATCH',
    path: '/sessions/:id/whep/:viewer',
    underBase: true,
    tag: 'WHIP/WHEP',
    auth: 'api-key',
    summary: "Trickle a WHEP viewer's ICE candidates",
    body: { contentType: 'application/trickle-ice-sdpfrag', schema: 'text' },
    responses: { 204: { description: 'candidates applied' } },
    errors: [400, ...AUTH_ERRORS, 404, 413, 415],
  },
  {
    method: 'DELETE',
    path: '/sessions/:id/whep/:viewer',
    underBase: true,
    tag: 'WHIP/WHEP',
    auth: 'api-key',
    summary: 'Stop a WHEP viewer',
    responses: { 200: { description: 'viewers left', content: json('WhepViewersResponse') } },
    errors: [...AUTH_ERRORS, 404],
  },
  // A session's messages without a DataChannel.
  {
    method: 'GET',
    path: '/sessions/:id/events',
    underBase: true,
    tag: 'Session messages',
    auth: 'api-key',
    summary: "The session's messages as Server-Sent Events",
    description: '`event: result|error|…` with the DataChannel message (ServerMessage) as `data`; `event: end` with `{reason}` when the session ends.',
    responses: { 200: { description: 'an event stream', content: { 'text/event-stream': 'text' } } },
    errors: [...AUTH_ERRORS, 404],
  },
  {
    method: 'GET',
    path: '/sessions/:id/ws',
    underBase: true,
    tag: 'Session messages',
    auth: 'api-key',
    websocket: true,
    summary: "The session's messages over a WebSocket",
    description: 'Each text message is a ServerMessage. An unknown session gets an error message, then close code 4404.',
    responses: { 101: { description: 'WebSocket upgrade; then ServerMessage JSON text messages' } },
    errors: AUTH_ERRORS,
  },
  {
    method: 'GET',
    path: '/ws',
    underBase: true,
    tag: 'Session messages',
    auth: 'api-key',
    websocket: true,
    summary: 'WebSocket bridge: a whole session over one WebSocket (no UDP needed)',
    description:
      'JPEG/WebP frames in as binary chunk messages, ClientMessage text messages in, ServerMessage out. Auth by header (session starts from the query) or a first HelloMessage within 5 s; answered by ReadyMessage. Refusals send an ErrorMessage and close with 4000 + the HTTP status.',
    query: [
      ...processorQuery,
      { name: 'user_id', description: "the caller's user id", schema: z.string() },
      { name: 'record', description: '`1` records the session', schema: z.enum(['1']) },
    ],
    responses: { 101: { description: 'WebSocket upgrade' } },
    errors: [],
  },
  // Discovery.
  {
    method: 'GET',
    path: '/v1/models',
    underBase: true,
    tag: 'Discovery',
    auth: 'api-key',
    summary: 'Loaded models',
    responses: { 200: { description: 'the models', content: json('ModelsResponse') } },
    errors: AUTH_ERRORS,
  },
  {
    method: 'GET',
    path: '/v1/processors',
    underBase: true,
    tag: 'Discovery',
    auth: 'api-key',
    summary: 'Processors and audio processors, their params as JSON Schema',
    responses: { 200: { description: 'the processors', content: json('ProcessorsResponse') } },
    errors: AUTH_ERRORS,
  },
  // Session history (store).
  {
    method: 'GET',
    path: '/v1/sessions',
    underBase: true,
    tag: 'History',
    auth: 'api-key',
    summary: "Sessions of the caller's tenant, newest first",
    query: [
      { name: 'user_id', description: "only this user's sessions", schema: z.string() },
      { name: 'from', description: 'started at or after (epoch ms)', schema: z.number().int() },
      { name: 'to', description: 'started before (epoch ms)', schema: z.number().int() },
      limit(1000),
      { name: 'cursor', description: '`next_cursor` of the previous page', schema: z.string() },
    ],
    responses: { 200: { description: 'a page of sessions', content: json('SessionsPage') } },
    errors: [400, ...AUTH_ERRORS],
  },
  {
    method: 'GET',
    path: '/v1/sessions/:id',
    underBase: true,
    tag: 'History',
    auth: 'api-key',
    summary: 'One session with its processor/params history',
    responses: { 200: { description: 'the session', content: json('StoredSessionDetail') } },
    errors: [...AUTH_ERRORS, 404],
  },
  {
    method: 'GET',
    path: '/v1/sessions/:id/results',
    underBase: true,
    tag: 'History',
    auth: 'api-key',
    summary: "A session's recorded results, oldest first",
    description: 'JSON pages by default; with `Accept: application/x-ndjson`, a stream of StoredResult lines.',
    query: [{ name: 'after', description: 'a `cursor`: only results recorded after it', schema: z.string() }, limit(1000)],
    responses: {
      200: { description: 'a page of results, or an NDJSON stream', content: { 'application/json': 'ResultsPage', 'application/x-ndjson': 'StoredResult' } },
    },
    errors: [400, ...AUTH_ERRORS, 404],
  },
  {
    method: 'GET',
    path: '/v1/sessions/:id/events',
    underBase: true,
    tag: 'History',
    auth: 'api-key',
    summary: "A session's recorded events (speech_start/speech_end, errors, draining), oldest first",
    description: 'JSON pages by default; with `Accept: application/x-ndjson`, a stream of StoredEvent lines.',
    query: [{ name: 'after', description: 'a `cursor`: only events recorded after it', schema: z.string() }, limit(1000)],
    responses: {
      200: { description: 'a page of events, or an NDJSON stream', content: { 'application/json': 'EventsPage', 'application/x-ndjson': 'StoredEvent' } },
    },
    errors: [400, ...AUTH_ERRORS, 404],
  },
  // Operations (root, not under the base path).
  {
    method: 'GET',
    path: '/healthz',
    underBase: false,
    tag: 'Operations',
    auth: 'none',
    summary: 'Liveness: the process is up',
    responses: { 200: { description: '`{"status": "ok"}`', content: json('LivenessResponse') } },
    errors: [],
  },
  {
    method: 'GET',
    path: '/readyz',
    underBase: false,
    tag: 'Operations',
    auth: 'none',
    summary: 'Readiness: every inference worker has loaded its models',
    responses: { 200: { description: 'ready', content: json('ReadyResponse') }, 503: { description: 'not ready (same body)', content: json('ReadyResponse') } },
    errors: [],
  },
  {
    method: 'GET',
    path: '/metrics',
    underBase: false,
    tag: 'Operations',
    auth: 'metrics-token',
    summary: 'Prometheus metrics (text format 0.0.4)',
    responses: { 200: { description: 'the exposition text', content: { 'text/plain': 'text' } } },
    errors: [401],
  },
  {
    method: 'GET',
    path: '/openapi.json',
    underBase: false,
    tag: 'Operations',
    auth: 'none',
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: { description: 'the document', content: { 'application/json': 'text' } } },
    errors: [],
  },
  {
    method: 'GET',
    path: '/docs',
    underBase: false,
    tag: 'Operations',
    auth: 'none',
    summary: 'Readable API reference (renders /openapi.json)',
    responses: { 200: { description: 'an HTML page', content: { 'text/html': 'text' } } },
    errors: [],
  },
  // Demo page.
  {
    method: 'GET',
    path: '/',
    underBase: false,
    tag: 'Demo',
    auth: 'none',
    summary: 'The demo page',
    responses: { 200: { description: 'HTML (or how to build it)', content: { 'text/html': 'text' } } },
    errors: [],
  },
  {
    method: 'GET',
    path: '/demo-config.json',
    underBase: false,
    tag: 'Demo',
    auth: 'none',
    summary: "The demo page's config (base path; the dev key for same-origin loopback pages)",
    responses: { 200: { description: 'config', content: json('DemoConfig') } },
    errors: [],
  },
];

/** The route's path as served: with the base path when it lives under it. */
export const servedPath = (r: Pick<RouteSpec, 'path' | 'underBase'>, basePath: string): string => {
  if (!r.underBase || !basePath) return r.path;
  return r.path === '/' ? basePath : `${basePath}${r.path}`;
};

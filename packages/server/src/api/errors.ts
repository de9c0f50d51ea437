import { SightlineError } from '../errors.js';

export { SightlineError };

/**
 * The HTTP layer's named errors: each builds a `SightlineError` whose status comes from the protocol's one table
 * (`ERROR_STATUS`). Domain errors (unknown processor, capacity, invalid SDP, …) are `SightlineError`s already.
 */
export const Errors = {
  invalidJson: (detail: string) => new SightlineError('invalid_json', `request body is not valid JSON: ${detail}`),
  invalidBody: (detail: string) => new SightlineError('invalid_body', detail),
  notAnOffer: () => new SightlineError('not_an_offer', 'type must be "offer"'),
  invalidSdp: (detail: string) => new SightlineError('invalid_sdp', `invalid SDP offer: ${detail}`),
  missingApiKey: () =>
    new SightlineError('missing_api_key', 'an API key is required: send it in the "api-key" header or as "Authorization: Bearer <key>"', {
      'www-authenticate': 'Bearer',
    }),
  invalidApiKey: () => new SightlineError('invalid_api_key', 'the API key is not valid'),
  forbidden: (message: string) => new SightlineError('forbidden', message),
  notFound: (what: string) => new SightlineError('not_found', `${what} not found`),
  sessionNotFound: (id: string) =>
    new SightlineError('session_not_found', `session "${id.slice(0, 64)}" is not live on this server; open a new session (omit session_id)`),
  preconditionFailed: (message: string) => new SightlineError('precondition_failed', message),
  notImplemented: (message: string) => new SightlineError('not_implemented', message),
  bodyTooLarge: (limit: number) => new SightlineError('body_too_large', `request body is larger than ${limit} bytes`),
  unsupportedMediaType: (type: string | undefined, want = 'application/json') =>
    new SightlineError('unsupported_media_type', `content-type must be ${want} (got ${type ? JSON.stringify(type) : 'none'})`),
  notReady: (message: string) => new SightlineError('not_ready', message),
  /** A request HTTP itself cannot take: a malformed URL (bad %-encoding), or one Node's HTTP parser refused. */
  badRequest: (detail: string) => new SightlineError('bad_request', `malformed request: ${detail}`),
  /** A path parameter longer than the router takes, or a request line past Node's header size limit. */
  uriTooLong: (detail: string) => new SightlineError('uri_too_long', `the URI is too long: ${detail}`),
  /** The request headers (request line included) are past Node's header size limit (16 KiB by default). */
  headersTooLarge: () => new SightlineError('headers_too_large', 'the request headers are too large'),
  /** Node's `headersTimeout` / `requestTimeout`: the request did not arrive in time. */
  requestTimeout: () => new SightlineError('request_timeout', 'the request was not received in time'),
  /** A WebSocket route asked for by a plain request, or with an upgrade it cannot take (RFC 9110 §15.5.22). */
  upgradeRequired: (path: string, detail = 'this route only takes a WebSocket upgrade (GET with Upgrade: websocket)') =>
    new SightlineError('upgrade_required', `${path}: ${detail}`, { upgrade: 'websocket', 'sec-websocket-version': '13' }),
  internal: () => new SightlineError('internal', 'internal server error'),
} as const;

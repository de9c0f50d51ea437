import type { ErrorBody, ErrorCode } from '@sightline/protocol';

/** An error the API answers with: a stable code, an HTTP status and a message for humans. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Every named API error, in one table. */
export const Errors = {
  invalidJson: (detail: string) => new ApiError('invalid_json', 400, `request body is not valid JSON: ${detail}`),
  invalidBody: (detail: string) => new ApiError('invalid_body', 400, detail),
  notAnOffer: () => new ApiError('not_an_offer', 400, 'type must be "offer"'),
  invalidSdp: (detail: string) => new ApiError('invalid_sdp', 400, `invalid SDP offer: ${detail}`),
  unknownProcessor: (message: string) => new ApiError('unknown_processor', 400, message),
  invalidParams: (message: string) => new ApiError('invalid_params', 400, message),
  missingApiKey: () =>
    new ApiError('missing_api_key', 401, 'an API key is required: send it in the "api-key" header or as "Authorization: Bearer <key>"', {
      'www-authenticate': 'Bearer',
    }),
  invalidApiKey: () => new ApiError('invalid_api_key', 403, 'the API key is not valid'),
  forbidden: (message: string) => new ApiError('forbidden', 403, message),
  notFound: (what: string) => new ApiError('not_found', 404, `${what} not found`),
  sessionNotFound: (id: string) =>
    new ApiError('session_not_found', 404, `session "${id.slice(0, 64)}" is not live on this server; open a new session (omit session_id)`),
  bodyTooLarge: (limit: number) => new ApiError('body_too_large', 413, `request body is larger than ${limit} bytes`),
  unsupportedMediaType: (type: string | undefined) =>
    new ApiError('unsupported_media_type', 415, `content-type must be application/json (got ${type ? JSON.stringify(type) : 'none'})`),
  atCapacity: (message: string) => new ApiError('at_capacity', 503, message, { 'retry-after': '5' }),
  notReady: (message: string) => new ApiError('not_ready', 503, message),
  iceGatheringFailed: (message: string) => new ApiError('ice_gathering_failed', 503, `could not answer the offer: ${message}`, { 'retry-after': '1' }),
  rateLimited: (message: string, retryAfterS = 5) => new ApiError('rate_limited', 429, message, { 'retry-after': String(retryAfterS) }),
  overloaded: (message: string) => new ApiError('overloaded', 503, message, { 'retry-after': '5' }),
  recordingUnavailable: (message: string, status: 400 | 503) => new ApiError('recording_unavailable', status, message),
  internal: () => new ApiError('internal', 500, 'internal server error'),
} as const;

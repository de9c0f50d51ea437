import { z } from 'zod';

/**
 * Stable error codes. Every HTTP error body and every DataChannel error message carries one of these;
 * clients branch on the code, humans read the message.
 */
export const ErrorCode = z.enum([
  'invalid_json',
  'invalid_body',
  'not_an_offer',
  'invalid_sdp',
  'unsupported_codec',
  'unknown_processor',
  'invalid_params',
  'missing_api_key',
  'invalid_api_key',
  'forbidden',
  'not_found',
  'session_not_found',
  'body_too_large',
  'unsupported_media_type',
  'at_capacity',
  'not_ready',
  'ice_gathering_failed',
  'invalid_message',
  'unsupported_message',
  'processing_failed',
  'invalid_frame',
  'frame_too_large',
  'unsupported_format',
  'auth_timeout',
  'recording_unavailable',
  'rate_limited',
  'overloaded',
  'invalid_model',
  'recording_failed',
  'precondition_failed',
  'not_implemented',
  'peer_closed',
  'invalid_token',
  'bad_request',
  'request_timeout',
  'uri_too_long',
  'upgrade_required',
  'headers_too_large',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/**
 * The one table of error codes → HTTP status. HTTP answers carry this status; the WebSocket bridge closes with 4000 +
 * it; DataChannel error messages carry the code alone. The OpenAPI document lists each status's codes from here.
 */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_json: 400,
  invalid_body: 400,
  not_an_offer: 400,
  invalid_sdp: 400,
  unsupported_codec: 400,
  unknown_processor: 400,
  invalid_params: 400,
  invalid_message: 400,
  unsupported_message: 400,
  invalid_frame: 400,
  unsupported_format: 400,
  invalid_model: 400,
  recording_unavailable: 400,
  bad_request: 400,
  missing_api_key: 401,
  invalid_token: 401,
  invalid_api_key: 403,
  forbidden: 403,
  not_found: 404,
  session_not_found: 404,
  auth_timeout: 408,
  request_timeout: 408,
  peer_closed: 409,
  precondition_failed: 412,
  body_too_large: 413,
  frame_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  processing_failed: 500,
  not_implemented: 501,
  at_capacity: 503,
  not_ready: 503,
  ice_gathering_failed: 503,
  overloaded: 503,
  recording_failed: 503,
};

/** Body of every non-2xx HTTP response. */
export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

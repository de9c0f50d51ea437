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
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Body of every non-2xx HTTP response. */
export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

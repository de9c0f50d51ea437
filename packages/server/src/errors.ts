import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '@sightline/protocol';

/**
 * The one error type of the server. Domain code (engine, pipeline, session) throws it, or a subclass that names the
 * case; its HTTP status comes from the protocol's single table (`ERROR_STATUS`), so HTTP answers read `.status`, the
 * DataChannel and WebSocket read `.code`, and the OpenAPI document lists the same pairs.
 */
export class SightlineError extends Error {
  /** The HTTP status of `code` (the WebSocket bridge closes with 4000 + it). */
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Headers the HTTP answer carries (`retry-after`, `www-authenticate`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'SightlineError';
    this.status = ERROR_STATUS[code];
  }

  /** The HTTP body: `{"error": {"code", "message"}}`. */
  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

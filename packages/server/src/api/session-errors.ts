import { AnswerFailedError, InvalidOfferError } from '../engine/media-engine.js';
import { InvalidParamsError, UnknownProcessorError } from '../pipeline/processor-registry.js';
import type { Session } from '../session/session.js';
import { ForbiddenByKeyError, SessionLimitError } from '../session/key-limits.js';
import {
  AtCapacityError,
  OverloadedError,
  PeerClosedError,
  RecordingUnavailableError,
  ShuttingDownError,
  type SessionManager,
} from '../session/session-manager.js';
import { Errors } from './errors.js';

/** The API error for a failure to open, renegotiate or answer a session; anything else is rethrown as is. */
export function sessionApiError(err: unknown): unknown {
  if (err instanceof UnknownProcessorError) return Errors.unknownProcessor(err.message);
  if (err instanceof InvalidParamsError) return Errors.invalidParams(err.message);
  if (err instanceof AtCapacityError) return Errors.atCapacity(err.message);
  if (err instanceof InvalidOfferError) return Errors.invalidSdp(err.message);
  if (err instanceof ShuttingDownError) return Errors.notReady(err.message);
  if (err instanceof ForbiddenByKeyError) return Errors.forbidden(err.message);
  if (err instanceof SessionLimitError) return Errors.rateLimited(err.message);
  if (err instanceof OverloadedError) return Errors.overloaded(err.message);
  if (err instanceof RecordingUnavailableError) return Errors.recordingUnavailable(err.message, err.configured ? 503 : 400);
  if (err instanceof AnswerFailedError || err instanceof PeerClosedError) return Errors.iceGatheringFailed(err.message);
  return err;
}

/** The caller's own live session, or a 404: another key's session is reported as absent, not as forbidden. */
export function ownSession(sessions: SessionManager, id: string, keyId: string | undefined, what = 'session'): Session {
  const s = sessions.get(id);
  if (!s || s.keyId !== keyId) throw Errors.notFound(`${what} "${id.slice(0, 64)}"`);
  return s;
}

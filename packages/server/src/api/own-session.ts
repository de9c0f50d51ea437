import type { Session } from '../session/session.js';
import type { SessionManager } from '../session/session-manager.js';
import { Errors } from './errors.js';

/** The caller's own live session, or a 404: another key's session is reported as absent, not as forbidden. */
export function ownSession(sessions: SessionManager, id: string, keyId: string | undefined, what = 'session'): Session {
  const s = sessions.get(id);
  if (!s || s.keyId !== keyId) throw Errors.notFound(`${what} "${id.slice(0, 64)}"`);
  return s;
}

import type { FastifyRequest } from 'fastify';
import { Errors } from './errors.js';
import type { KeyStore } from '../auth/key-store.js';

/** The caller's key from `api-key` (the seed's header) or `Authorization: Bearer`; throws 401/403. */
export function authenticate(req: FastifyRequest, keys: KeyStore): string {
  const header = req.headers['api-key'];
  let key = Array.isArray(header) ? header[0] : header;
  if (!key) {
    const auth = req.headers.authorization;
    const m = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
    key = m?.[1];
  }
  if (!key) throw Errors.missingApiKey();
  const id = keys.check(key);
  if (!id) throw Errors.invalidApiKey();
  return id;
}

import { createHmac } from 'node:crypto';

/**
 * Short-lived TURN credentials by the TURN REST scheme that coturn's `use-auth-secret` checks: username
 * `<expiry unix seconds>:<tag>`, credential base64(HMAC-SHA1(secret, username)). Pure (time is passed in).
 */
export function turnCredentials(secret: string, ttlSeconds: number, tag: string, nowMs: number): { username: string; credential: string; expiresAt: number } {
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiresAt}:${tag}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

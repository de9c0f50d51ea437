import { createHash } from 'node:crypto';

/** What one API key may do. Absent limits are unlimited. */
export interface KeyPolicy {
  /** A stable, non-secret id of the key (a SHA-256 prefix). */
  id: string;
  /** A name for logs and history ("acme-prod"); default: the id. */
  name: string;
  /** Whose sessions these are: history and limits are scoped by tenant; default: the key's name. */
  tenant: string;
  /** Processors (video and audio) this key may use; undefined: all. */
  processors: readonly string[] | undefined;
  /** Models this key may pick (a processor's `model` param); undefined: all. */
  models: readonly string[] | undefined;
  /** Concurrent sessions of this key; over it, a new offer gets 429. */
  maxSessions: number | undefined;
  /** Frames processed per second per session; frames beyond it are dropped (counted). */
  maxFps: number | undefined;
  /** Which results are stored in the database: all, none, or a random fraction (0–1). */
  storeResults: 'all' | 'none' | number;
}

/** A key as the server holds it: its SHA-256 digest, never the key. */
export interface KeyRecord {
  digest: Buffer;
  policy: KeyPolicy;
}

/** A key's SHA-256 digest: what the server keeps instead of the key. */
export const keyDigest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** Key id: the first 16 hex digits of the key's SHA-256. */
export const keyIdOfDigest = (digest: Buffer): string => digest.toString('hex').slice(0, 16);

/** A key with no limits (keys given with --api-keys, or plain lines of a keys file). */
export function plainKey(key: string): KeyRecord {
  const digest = keyDigest(key.trim());
  const id = keyIdOfDigest(digest);
  return {
    digest,
    policy: { id, name: id, tenant: id, processors: undefined, models: undefined, maxSessions: undefined, maxFps: undefined, storeResults: 'all' },
  };
}

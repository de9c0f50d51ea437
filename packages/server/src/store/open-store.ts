import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { SessionStore } from './store.js';
import type { WriteBufferOptions } from './write-buffer.js';

export interface OpenStoreOptions extends WriteBufferOptions {
  /** `postgres://` or `postgresql://` → PostgreSQL (e.g. from `DATABASE_URL`); anything else is ignored. */
  databaseUrl?: string;
  /** The SQLite file when no database URL is given (`--db`/`SIGHTLINE_DB`); ':memory:' allowed. */
  sqlitePath?: string;
}

export const DEFAULT_SQLITE_PATH = './sightline.db';

/** True when the URL names a PostgreSQL server. */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens the session store: PostgreSQL when `databaseUrl` is a postgres URL, else SQLite at `sqlitePath` (default
 * `./sightline.db`). Runs the migrations; rejects when the database cannot be opened or reached.
 */
export async function openStore(opts: OpenStoreOptions = {}): Promise<SessionStore> {
  const { databaseUrl, sqlitePath, ...buffer } = opts;
  if (isPostgresUrl(databaseUrl)) return PostgresStore.open({ ...buffer, url: databaseUrl });
  return SqliteStore.open({ ...buffer, path: sqlitePath ?? DEFAULT_SQLITE_PATH });
}

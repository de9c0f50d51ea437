/** Session history, results and events: SQLite by default, PostgreSQL with a database URL. */
export { openStore, isPostgresUrl, DEFAULT_SQLITE_PATH, type OpenStoreOptions } from './open-store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
export type { WriteBufferOptions } from './write-buffer.js';
export * from './store.js';

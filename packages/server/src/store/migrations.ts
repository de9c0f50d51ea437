/**
 * Versioned schema migrations for both dialects, applied at open. `schema_migrations(version, name, applied_at)`
 * records what ran; each migration runs in a transaction with its row, so a crash mid-migration leaves the previous
 * version. Postgres takes an advisory lock first, so servers starting together migrate once.
 *
 * Differences per dialect: JSON is TEXT in SQLite and JSONB in Postgres; ids are INTEGER PRIMARY KEY AUTOINCREMENT
 * vs identity columns. Timestamps are BIGINT epoch milliseconds in both. Never edit a released migration: add one.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';

interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

const sessionColumns = (json: string, real: string) => `
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  key_id TEXT,
  user_id TEXT,
  processor TEXT NOT NULL,
  params ${json} NOT NULL,
  transport TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  end_reason TEXT,
  frames_received BIGINT,
  frames_processed BIGINT,
  frames_dropped BIGINT,
  frames_rejected BIGINT,
  results_sent BIGINT,
  results_undelivered BIGINT,
  rtt_p50 ${real},
  rtt_p95 ${real},
  inference_ms_p50 ${real},
  inference_ms_p95 ${real}`;

const indexes = `
CREATE INDEX sessions_tenant_started ON sessions (tenant, started_at DESC, id DESC);
CREATE INDEX sessions_tenant_user_started ON sessions (tenant, user_id, started_at DESC, id DESC);
CREATE INDEX sessions_ended ON sessions (ended_at);
CREATE INDEX session_params_session ON session_params (session_id, id);
CREATE INDEX results_session ON results (session_id, id);
CREATE INDEX results_at ON results (at);
CREATE INDEX events_session ON events (session_id, id);
CREATE INDEX events_at ON events (at);`;

const child = (id: string, json: string, body: string) => `(
  id ${id},
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  at BIGINT NOT NULL,
  ${body.replaceAll('JSON', json)}
)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, session_params, results, events',
    sqlite: `
CREATE TABLE sessions (${sessionColumns('TEXT', 'REAL')});
CREATE TABLE session_params ${child('INTEGER PRIMARY KEY AUTOINCREMENT', 'TEXT', 'processor TEXT NOT NULL, params JSON NOT NULL')};
CREATE TABLE results ${child('INTEGER PRIMARY KEY AUTOINCREMENT', 'TEXT', 'frame_id BIGINT, json JSON NOT NULL')};
CREATE TABLE events ${child('INTEGER PRIMARY KEY AUTOINCREMENT', 'TEXT', 'type TEXT NOT NULL, data JSON')};
${indexes}`,
    postgres: `
CREATE TABLE sessions (${sessionColumns('JSONB', 'DOUBLE PRECISION')});
CREATE TABLE session_params ${child('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'JSONB', 'processor TEXT NOT NULL, params JSON NOT NULL')};
CREATE TABLE results ${child('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'JSONB', 'frame_id BIGINT, json JSON NOT NULL')};
CREATE TABLE events ${child('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'JSONB', 'type TEXT NOT NULL, data JSON')};
${indexes}`,
  },
  {
    version: 2,
    name: 'sessions.node_id: the server a session ran on (sessions it left open at a crash are closed at its restart)',
    sqlite: `
ALTER TABLE sessions ADD COLUMN node_id TEXT;
CREATE INDEX sessions_open_node ON sessions (node_id) WHERE ended_at IS NULL;`,
    postgres: `
ALTER TABLE sessions ADD COLUMN node_id TEXT;
CREATE INDEX sessions_open_node ON sessions (node_id) WHERE ended_at IS NULL;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

const CREATE_MIGRATIONS_TABLE = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';

/** Applies the missing migrations; returns the versions applied now. */
export function migrateSqlite(db: BetterSqlite3.Database): number[] {
  db.exec(CREATE_MIGRATIONS_TABLE);
  const applied: number[] = [];
  // IMMEDIATE: takes the write lock before reading the version, so two processes opening one file migrate once.
  const step = db.transaction((m: Migration) => {
    const done = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version);
    if (done) return;
    db.exec(m.sqlite);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    applied.push(m.version);
  });
  for (const m of MIGRATIONS) step.immediate(m);
  checkNotNewer(db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null });
  return applied;
}

/** Advisory lock key: "sightline" in ASCII, to serialise migrations between servers sharing a database. */
const LOCK_KEY = 0x5369676874;

export async function migratePostgres(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  const onLost = (): void => undefined; // the failing query rejects too; an unhandled 'error' event would crash
  client.on('error', onLost);
  try {
    for (const m of MIGRATIONS) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
        await client.query(CREATE_MIGRATIONS_TABLE);
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
        if (done.rowCount === 0) {
          await client.query(m.postgres);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
          applied.push(m.version);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    const r = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    checkNotNewer(r.rows[0] ?? { v: null });
  } finally {
    client.off('error', onLost);
    client.release();
  }
  return applied;
}

/** A database migrated by a newer server: refuse rather than write rows it may not expect. */
function checkNotNewer(row: { v: number | null }): void {
  if (row.v !== null && Number(row.v) > SCHEMA_VERSION) {
    throw new Error(`the database's schema is version ${row.v}, newer than this server's ${SCHEMA_VERSION}; upgrade the server`);
  }
}

/**
 * The PostgreSQL store (`pg` pool). A flush is one transaction of a few set-based statements, one per table: session
 * rows go in as parallel arrays through `unnest(...)`, results and events as one jsonb array, each `WITH ORDINALITY`
 * so ids follow recorded order; a statement's parameter count does not depend on the row count. Rows whose session is unknown are skipped by
 * `WHERE EXISTS` instead of failing the transaction. While the server is unreachable, flushes fail fast
 * (`connectionTimeoutMillis`) and the rows wait in the buffer.
 */
import pg from 'pg';
import { BufferedStore } from './buffered-store.js';
import { migratePostgres } from './migrations.js';
import { type BatchOutcome, type GroupedRows, type PendingRow, groupRows } from './pending-rows.js';
import {
  RETENTION_CHUNK,
  RowMapper,
  type Sql,
  encodeSessionCursor,
  getSessionSql,
  listRowsSql,
  listSessionsSql,
  pageOf,
  paramsHistorySql,
  retentionSql,
  closeCrashedSql,
  sessionExistsSql,
} from './queries.js';
import type { EventsPage, ListInSessionQuery, ListSessionsQuery, ResultsPage, RetentionResult, SessionsPage, StoredSessionDetail } from './store.js';
import type { BatchWriter, WriteBufferOptions } from './write-buffer.js';

type Row = Record<string, unknown>;

/** Postgres refuses NUL in text and `\u0000` in JSONB: both are removed. */
function pgText(s: string): string;
function pgText(s: string | null): string | null;
function pgText(s: string | null): string | null {
  return s !== null && s.includes('\0') ? s.replaceAll('\0', '') : s;
}

function pgJson(s: string): string;
function pgJson(s: string | null): string | null;
function pgJson(s: string | null): string | null {
  return s !== null && s.includes('\\u0000') ? s.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1') : s;
}

const int = (n: number | null | undefined): number | null => (n === null || n === undefined || !Number.isFinite(n) ? null : Math.round(n));
const real = (n: number | null | undefined): number | null => (n === null || n === undefined || !Number.isFinite(n) ? null : n);

const INSERT_STARTS = `
WITH ins AS (
  INSERT INTO sessions (id, tenant, key_id, user_id, processor, params, transport, started_at, node_id)
  SELECT u.id, u.tenant, u.key_id, u.user_id, u.processor, u.params::jsonb, u.transport, u.started_at, $9::text
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
    WITH ORDINALITY AS u(id, tenant, key_id, user_id, processor, params, transport, started_at, ord)
  ORDER BY u.ord
  ON CONFLICT (id) DO NOTHING
  RETURNING id, started_at, processor, params
)
INSERT INTO session_params (session_id, at, processor, params) SELECT id, started_at, processor, params FROM ins`;

const INSERT_PARAMS = `
INSERT INTO session_params (session_id, at, processor, params)
SELECT u.sid, u.at, u.processor, u.params::jsonb
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS u(sid, at, processor, params, ord)
WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.id = u.sid)
ORDER BY u.ord`;

const UPDATE_CURRENT_PARAMS = `
UPDATE sessions s SET processor = u.processor, params = u.params::jsonb
FROM (
  SELECT DISTINCT ON (sid) sid, processor, params
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(sid, processor, params, ord)
  ORDER BY sid, ord DESC
) u
WHERE s.id = u.sid`;

// Results and events travel as ONE jsonb parameter, `[[session_id, frame_id|type, at, json], …]`, built by string
// concatenation around the JSON already serialised when recorded: `pg`'s escaping of large text[] arrays cost more
// than the insert itself (measured: 2–3x slower end to end).
const INSERT_RESULTS = `
INSERT INTO results (session_id, frame_id, at, json)
SELECT e->>0, (e->>1)::bigint, (e->>2)::bigint, e->3
FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, ord)
WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.id = e->>0)
ORDER BY t.ord`;

const INSERT_EVENTS = `
INSERT INTO events (session_id, at, type, data)
SELECT e->>0, (e->>2)::bigint, e->>1, e->3
FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, ord)
WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.id = e->>0)
ORDER BY t.ord`;

/** `[[a, b, at, json], …]` with each row's JSON embedded as is. */
function jsonRows<T>(rows: readonly T[], cells: (r: T) => [string, number | string | null, number | null, string | null]): string {
  let out = '[';
  for (let i = 0; i < rows.length; i++) {
    const [a, b, at, json] = cells(rows[i]!);
    out += `${i === 0 ? '' : ','}[${JSON.stringify(a)},${JSON.stringify(b)},${at === null ? 'null' : at},${json ?? 'null'}]`;
  }
  return pgJson(`${out}]`);
}

const UPDATE_ENDS = `
UPDATE sessions s SET ended_at = u.ended_at, end_reason = u.end_reason, frames_received = u.fr, frames_processed = u.fp,
  frames_dropped = u.fd, frames_rejected = u.fj, results_sent = u.rs, results_undelivered = u.ru,
  rtt_p50 = u.r50, rtt_p95 = u.r95, inference_ms_p50 = u.i50, inference_ms_p95 = u.i95
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],
            $10::float8[], $11::float8[], $12::float8[], $13::float8[])
  AS u(id, ended_at, end_reason, fr, fp, fd, fj, rs, ru, r50, r95, i50, i95)
WHERE s.id = u.id`;

/** SQLSTATE classes where the same rows will fail again: data exception, integrity, program limit. */
const PERMANENT_CLASSES = new Set(['22', '23', '54']);

class PostgresWriter implements BatchWriter {
  constructor(
    private readonly pool: pg.Pool,
    private readonly nodeId: string | null,
  ) {}

  async write(rows: readonly PendingRow[]): Promise<BatchOutcome> {
    const client = await this.pool.connect();
    let failed = false;
    // A connection lost mid-flush also emits 'error' on the checked-out client: unhandled, it would crash the process.
    const onLost = (): void => {
      failed = true;
    };
    client.on('error', onLost);
    try {
      await client.query('BEGIN');
      const out = await this.apply(client, groupRows(rows));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      failed = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onLost);
      client.release(failed); // a client that failed mid-transaction is not reused
    }
  }

  isPermanent(err: unknown): boolean {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code.length === 5 && PERMANENT_CLASSES.has(code.slice(0, 2));
  }

  private async apply(c: pg.PoolClient, g: GroupedRows): Promise<BatchOutcome> {
    let written = 0;
    let orphaned = 0;
    const count = (n: number | null, of: number): void => {
      written += n ?? 0;
      orphaned += of - (n ?? 0);
    };
    if (g.starts.length > 0) {
      const s = g.starts;
      const r = await c.query(INSERT_STARTS, [
        s.map((x) => pgText(x.s.id)),
        s.map((x) => pgText(x.s.tenant)),
        s.map((x) => pgText(x.s.keyId)),
        s.map((x) => pgText(x.s.userId)),
        s.map((x) => pgText(x.s.processor)),
        s.map((x) => pgJson(x.paramsJson)),
        s.map((x) => pgText(x.s.transport)),
        s.map((x) => int(x.s.startedAt)),
        this.nodeId,
      ]);
      written += r.rowCount ?? 0; // a start already written (a retried flush) is neither written nor orphaned
    }
    if (g.params.length > 0) {
      const p = g.params;
      const ids = p.map((x) => pgText(x.sessionId));
      const procs = p.map((x) => pgText(x.change.processor));
      const json = p.map((x) => pgJson(x.paramsJson));
      const r = await c.query(INSERT_PARAMS, [ids, p.map((x) => int(x.change.at)), procs, json]);
      count(r.rowCount, p.length);
      await c.query(UPDATE_CURRENT_PARAMS, [ids, procs, json]);
    }
    if (g.results.length > 0) {
      const r = await c.query(INSERT_RESULTS, [jsonRows(g.results, (v) => [v.sessionId, int(v.frameId), int(v.at), v.json])]);
      count(r.rowCount, g.results.length);
    }
    if (g.events.length > 0) {
      const r = await c.query(INSERT_EVENTS, [jsonRows(g.events, (v) => [v.sessionId, v.type, int(v.at), v.dataJson])]);
      count(r.rowCount, g.events.length);
    }
    if (g.ends.length > 0) {
      const e = g.ends;
      const r = await c.query(UPDATE_ENDS, [
        e.map((x) => pgText(x.sessionId)),
        e.map((x) => int(x.end.endedAt)),
        e.map((x) => pgText(x.end.endReason)),
        e.map((x) => int(x.end.framesReceived)),
        e.map((x) => int(x.end.framesProcessed)),
        e.map((x) => int(x.end.framesDropped)),
        e.map((x) => int(x.end.framesRejected)),
        e.map((x) => int(x.end.resultsSent)),
        e.map((x) => int(x.end.resultsUndelivered)),
        e.map((x) => real(x.end.rttP50)),
        e.map((x) => real(x.end.rttP95)),
        e.map((x) => real(x.end.inferenceMsP50)),
        e.map((x) => real(x.end.inferenceMsP95)),
      ]);
      count(r.rowCount, e.length);
    }
    return { written, orphaned };
  }
}

export interface PostgresStoreOptions extends WriteBufferOptions {
  /** `postgres://user:pass@host:port/db` (libpq URL; `?sslmode=…` etc. as `pg` understands them). */
  url: string;
  /** Pool size. Default 4: flushes are serial, the rest serve queries. */
  poolSize?: number;
}

export class PostgresStore extends BufferedStore {
  readonly dialect = 'postgres' as const;
  private readonly rows = new RowMapper('postgres');

  private constructor(
    private readonly pool: pg.Pool,
    opts: WriteBufferOptions,
  ) {
    super(new PostgresWriter(pool, opts.nodeId ?? null), opts);
  }

  /** Connects and migrates; rejects when the database cannot be reached. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 4,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 60_000,
      query_timeout: 65_000, // a dead network never answers: fail the flush, keep the rows
      keepAlive: true,
      application_name: 'sightline',
    });
    // An idle client losing its connection (server restart) emits here; unhandled, it would crash the process.
    pool.on('error', (err) => {
      try {
        opts.onError?.(err);
      } catch {
        // the caller's logger is not the store's problem
      }
    });
    try {
      await migratePostgres(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return new PostgresStore(pool, opts);
  }

  private async all(sql: Sql): Promise<Row[]> {
    return (await this.pool.query(sql.text, sql.values)).rows as Row[];
  }

  async listSessions(q: ListSessionsQuery): Promise<SessionsPage> {
    const rows = (await this.all(listSessionsSql('postgres', q))).map((r) => this.rows.session(r));
    const page = pageOf(rows, q.limit, (s) => encodeSessionCursor(s.started_at, s.session_id));
    return { sessions: page.items, next_cursor: page.next_cursor };
  }

  async getSession(tenant: string, sessionId: string): Promise<StoredSessionDetail | null> {
    const row = (await this.all(getSessionSql('postgres', tenant, sessionId)))[0];
    if (!row) return null;
    const history = (await this.all(paramsHistorySql('postgres', sessionId))).map((r) => this.rows.params(r));
    return { ...this.rows.session(row), params_history: history };
  }

  async listResults(q: ListInSessionQuery): Promise<ResultsPage | null> {
    if ((await this.all(sessionExistsSql('postgres', q.tenant, q.sessionId))).length === 0) return null;
    const rows = (await this.all(listRowsSql('postgres', 'results', q))).map((r) => this.rows.result(r));
    const page = pageOf(rows, q.limit, (r) => r.cursor);
    return { results: page.items, next_cursor: page.next_cursor };
  }

  async listEvents(q: ListInSessionQuery): Promise<EventsPage | null> {
    if ((await this.all(sessionExistsSql('postgres', q.tenant, q.sessionId))).length === 0) return null;
    const rows = (await this.all(listRowsSql('postgres', 'events', q))).map((r) => this.rows.event(r));
    const page = pageOf(rows, q.limit, (r) => r.cursor);
    return { events: page.items, next_cursor: page.next_cursor };
  }

  async applyRetention(olderThanMs: number, now = Date.now()): Promise<RetentionResult> {
    const cutoff = now - olderThanMs;
    const out: RetentionResult = { sessions: 0, results: 0, events: 0 };
    for (const table of ['results', 'events', 'sessions'] as const) {
      const sql = retentionSql('postgres', table, cutoff);
      for (;;) {
        const n = (await this.pool.query(sql.text, sql.values)).rowCount ?? 0;
        out[table] += n;
        if (n < RETENTION_CHUNK) break;
      }
    }
    return out;
  }

  async closeCrashedSessions(nodeId: string): Promise<number> {
    const sql = closeCrashedSql('postgres', nodeId);
    return (await this.pool.query(sql.text, sql.values)).rowCount ?? 0;
  }

  protected async closeDatabase(): Promise<void> {
    await this.pool.end();
  }
}

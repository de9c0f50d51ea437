/**
 * The read side's SQL, one text for both dialects (only placeholders differ: `?` vs `$n`), keyset cursors, and
 * rows → the store's types. Pages are fetched with one row more than asked, to know whether another page follows.
 */
import {
  InvalidCursorError,
  MAX_PAGE,
  type ListInSessionQuery,
  type ListSessionsQuery,
  type ParamsHistoryEntry,
  type StoredEvent,
  type StoredResult,
  type StoredSession,
} from './store.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Sql {
  text: string;
  values: unknown[];
}

/** Collects values and writes the dialect's placeholder for each. */
class Params {
  readonly values: unknown[] = [];
  constructor(private readonly dialect: Dialect) {}
  add(v: unknown): string {
    this.values.push(v);
    return this.dialect === 'sqlite' ? '?' : `$${this.values.length}`;
  }
}

export const SESSION_COLUMNS =
  'id, tenant, key_id, user_id, processor, params, transport, started_at, ended_at, end_reason, frames_received, ' +
  'frames_processed, frames_dropped, frames_rejected, results_sent, results_undelivered, rtt_p50, rtt_p95, ' +
  'inference_ms_p50, inference_ms_p95';

export function pageSize(limit: number): number {
  return Number.isFinite(limit) ? Math.min(MAX_PAGE, Math.max(1, Math.floor(limit))) : MAX_PAGE;
}

/** Sessions cursor: base64url of `started_at:id` of the last row of the previous page. */
export function encodeSessionCursor(startedAt: number, id: string): string {
  return Buffer.from(`${startedAt}:${id}`).toString('base64url');
}

export function decodeSessionCursor(cursor: string): { startedAt: number; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString();
  const m = /^(\d{1,16}):(.+)$/s.exec(text);
  if (!m) throw new InvalidCursorError(cursor);
  return { startedAt: Number(m[1]), id: m[2]! };
}

/** Results/events cursor: the row id (ids grow in recorded order). */
export function decodeRowCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^\d{1,16}$/.test(cursor)) throw new InvalidCursorError(cursor);
  return Number(cursor);
}

export function listSessionsSql(dialect: Dialect, q: ListSessionsQuery): Sql {
  const p = new Params(dialect);
  const where = [`tenant = ${p.add(q.tenant)}`];
  if (q.userId !== undefined) where.push(`user_id = ${p.add(q.userId)}`);
  if (q.from !== undefined) where.push(`started_at >= ${p.add(Math.floor(q.from))}`);
  if (q.to !== undefined) where.push(`started_at < ${p.add(Math.ceil(q.to))}`);
  if (q.cursor !== undefined && q.cursor !== '') {
    const c = decodeSessionCursor(q.cursor);
    where.push(`(started_at < ${p.add(c.startedAt)} OR (started_at = ${p.add(c.startedAt)} AND id < ${p.add(c.id)}))`);
  }
  const text = `SELECT ${SESSION_COLUMNS} FROM sessions WHERE ${where.join(' AND ')} ORDER BY started_at DESC, id DESC LIMIT ${p.add(pageSize(q.limit) + 1)}`;
  return { text, values: p.values };
}

export function getSessionSql(dialect: Dialect, tenant: string, id: string): Sql {
  const p = new Params(dialect);
  return { text: `SELECT ${SESSION_COLUMNS} FROM sessions WHERE tenant = ${p.add(tenant)} AND id = ${p.add(id)}`, values: p.values };
}

export function paramsHistorySql(dialect: Dialect, id: string): Sql {
  const p = new Params(dialect);
  return { text: `SELECT processor, params, at FROM session_params WHERE session_id = ${p.add(id)} ORDER BY id`, values: p.values };
}

/** Whether the session exists for this tenant (results/events of another tenant's session are "not found"). */
export function sessionExistsSql(dialect: Dialect, tenant: string, id: string): Sql {
  const p = new Params(dialect);
  return { text: `SELECT 1 AS one FROM sessions WHERE tenant = ${p.add(tenant)} AND id = ${p.add(id)}`, values: p.values };
}

export function listRowsSql(dialect: Dialect, table: 'results' | 'events', q: ListInSessionQuery): Sql {
  const p = new Params(dialect);
  const cols = table === 'results' ? 'id, frame_id, at, json' : 'id, type, at, data';
  const after = decodeRowCursor(q.after);
  const text = `SELECT ${cols} FROM ${table} WHERE session_id = ${p.add(q.sessionId)} AND id > ${p.add(after)} ORDER BY id LIMIT ${p.add(pageSize(q.limit) + 1)}`;
  return { text, values: p.values };
}

type Row = Record<string, unknown>;

/** Maps rows of one dialect: Postgres gives BIGINT as strings and JSONB parsed; SQLite gives JSON as text. */
export class RowMapper {
  constructor(private readonly dialect: Dialect) {}

  private json(v: unknown): unknown {
    if (v === null || v === undefined) return null;
    return this.dialect === 'sqlite' ? JSON.parse(v as string) : v;
  }

  private num(v: unknown): number | null {
    return v === null || v === undefined ? null : Number(v);
  }

  session(r: Row): StoredSession {
    return {
      session_id: r.id as string,
      tenant: r.tenant as string,
      key_id: (r.key_id as string | null) ?? null,
      user_id: (r.user_id as string | null) ?? null,
      processor: r.processor as string,
      params: this.json(r.params) as Record<string, unknown>,
      transport: r.transport as string,
      started_at: Number(r.started_at),
      ended_at: this.num(r.ended_at),
      end_reason: (r.end_reason as string | null) ?? null,
      frames_received: this.num(r.frames_received),
      frames_processed: this.num(r.frames_processed),
      frames_dropped: this.num(r.frames_dropped),
      frames_rejected: this.num(r.frames_rejected),
      results_sent: this.num(r.results_sent),
      results_undelivered: this.num(r.results_undelivered),
      rtt_p50: this.num(r.rtt_p50),
      rtt_p95: this.num(r.rtt_p95),
      inference_ms_p50: this.num(r.inference_ms_p50),
      inference_ms_p95: this.num(r.inference_ms_p95),
    };
  }

  params(r: Row): ParamsHistoryEntry {
    return { processor: r.processor as string, params: this.json(r.params) as Record<string, unknown>, at: Number(r.at) };
  }

  result(r: Row): StoredResult {
    return { cursor: String(r.id), frame_id: this.num(r.frame_id), at: Number(r.at), result: this.json(r.json) as Record<string, unknown> };
  }

  event(r: Row): StoredEvent {
    return { cursor: String(r.id), type: r.type as string, at: Number(r.at), data: this.json(r.data) };
  }
}

/** Splits the extra row off a page and computes its next cursor. */
export function pageOf<T>(items: T[], limit: number, cursorOf: (last: T) => string): { items: T[]; next_cursor: string | null } {
  const n = pageSize(limit);
  if (items.length <= n) return { items, next_cursor: null };
  const page = items.slice(0, n);
  return { items: page, next_cursor: cursorOf(page[n - 1]!) };
}

/** Rows deleted per statement by retention, so no single delete holds locks (or SQLite's thread) for long. */
export const RETENTION_CHUNK = 5000;

/** One chunk of retention (see `SessionStore.applyRetention`); run until it deletes fewer than `RETENTION_CHUNK`. */
export function retentionSql(dialect: Dialect, table: 'results' | 'events' | 'sessions', cutoff: number): Sql {
  const p = new Params(dialect);
  if (table !== 'sessions') {
    return { text: `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE at < ${p.add(cutoff)} LIMIT ${p.add(RETENTION_CHUNK)})`, values: p.values };
  }
  const c1 = p.add(cutoff);
  const c2 = p.add(cutoff);
  const text =
    `DELETE FROM sessions WHERE id IN (SELECT s.id FROM sessions s WHERE s.ended_at < ${c1} OR (s.ended_at IS NULL AND s.started_at < ${c2}` +
    ' AND NOT EXISTS (SELECT 1 FROM results r WHERE r.session_id = s.id) AND NOT EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id))' +
    ` LIMIT ${p.add(RETENTION_CHUNK)})`;
  return { text, values: p.values };
}

/**
 * Closes the sessions a server left open when it died (`ended_at` null, its `node_id`, or none: rows from before
 * node ids): `end_reason` `server_crash`, `ended_at` the last result or event they recorded (else their start).
 */
export function closeCrashedSql(dialect: Dialect, nodeId: string): Sql {
  const p = new Params(dialect);
  const text =
    "UPDATE sessions SET end_reason = 'server_crash', ended_at = COALESCE(" +
    '(SELECT MAX(at) FROM (SELECT MAX(r.at) AS at FROM results r WHERE r.session_id = sessions.id UNION ALL SELECT MAX(e.at) FROM events e WHERE e.session_id = sessions.id) t), ' +
    `started_at) WHERE ended_at IS NULL AND (node_id = ${p.add(nodeId)} OR node_id IS NULL)`;
  return { text, values: p.values };
}

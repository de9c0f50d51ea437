/**
 * The storage layer the server sees: session history, results and events.
 *
 * Writes (`record*`) are fire-and-forget: they append to an in-memory buffer in O(1), never await and never throw;
 * the buffer is written in batches off the hot path (see `write-buffer.ts`). Queries read what has been flushed.
 * Every query is scoped by tenant: a session of another tenant is "not found" (`null`).
 * Timestamps are epoch milliseconds everywhere. Query results use the wire's snake_case names.
 */

import type { EventsPage, ResultsPage, SessionsPage, StoredEvent, StoredResult, StoredSession, StoredSessionDetail } from '@sightline/protocol';

/** A session as it starts (recorded once, before any of its results). */
export interface SessionStart {
  id: string;
  tenant: string;
  keyId: string | null;
  userId: string | null;
  processor: string;
  params: Record<string, unknown>;
  /** How the media came in, e.g. `webrtc`, `whip`, `ws`. */
  transport: string;
  startedAt: number;
}

/** A processor/params switch (`set` message); kept as history, and becomes the session's current ones. */
export interface ParamsChange {
  processor: string;
  params: Record<string, unknown>;
  at: number;
}

/** A session's end and its final counters. */
export interface SessionEnd {
  endedAt: number;
  endReason: string;
  framesReceived: number;
  framesProcessed: number;
  framesDropped: number;
  framesRejected?: number;
  resultsSent: number;
  resultsUndelivered?: number;
  rttP50?: number | null;
  rttP95?: number | null;
  inferenceMsP50?: number | null;
  inferenceMsP95?: number | null;
}

/** Something that happened in a session besides results: a VAD event, an error, … */
export interface SessionEvent {
  type: string;
  at: number;
  data?: unknown;
}

/** Rows as the queries return them (the wire's snake_case): `StoredSession` (counters `null` until it has ended),
 * `StoredSessionDetail` (with every processor/params in force, oldest first), `StoredResult`, `StoredEvent`. */
export type { StoredEvent, StoredResult, StoredSession, StoredSessionDetail };
export type ParamsHistoryEntry = StoredSessionDetail['params_history'][number];

export interface ListSessionsQuery {
  tenant: string;
  userId?: string;
  /** started_at >= from (epoch ms). */
  from?: number;
  /** started_at < to (epoch ms). */
  to?: number;
  limit: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export interface ListInSessionQuery {
  tenant: string;
  sessionId: string;
  /** `next_cursor` of the previous page (or a row's `cursor`): only rows recorded after it. */
  after?: string;
  limit: number;
}

/** `next_cursor` is null when the page is the last one. */
export type { EventsPage, ResultsPage, SessionsPage };

export interface RetentionResult {
  sessions: number;
  results: number;
  events: number;
}

export interface StoreStats {
  /** Rows applied to the database (inserts and the session-end/params updates). */
  written: number;
  /** Rows refused because the buffer was full, or that the database refused permanently, or left unwritten at close. */
  dropped: number;
  /** Rows for a session the database does not know (its start was never written): skipped. */
  orphaned: number;
  /** Successful flushes (transactions committed). */
  flushes: number;
  /** Milliseconds the last flush spent writing. */
  lastFlushMs: number;
  /** Rows buffered or being written. */
  pending: number;
  /** Failed flush attempts (the rows stay buffered for the next one). */
  errors: number;
  lastError: string | null;
}

/** Largest page a query returns, whatever `limit` asks for. */
export const MAX_PAGE = 1000;

export interface SessionStore {
  readonly dialect: 'sqlite' | 'postgres';

  recordSessionStart(s: SessionStart): void;
  recordParamsChange(sessionId: string, change: ParamsChange): void;
  recordSessionEnd(sessionId: string, end: SessionEnd): void;
  /**
   * `result` is the `ResultMessage` object, or its JSON text when the caller has serialised it already (cheaper).
   * Results of one session are listed in the order they were recorded.
   */
  recordResult(sessionId: string, result: object | string, at: number): void;
  recordEvent(sessionId: string, event: SessionEvent): void;

  /** Writes everything recorded before the call. Never rejects: a failure shows in `stats()` and the rows stay. */
  flush(): Promise<void>;
  /** Stops the timer, flushes, closes the database. Rows it could not write count as dropped. */
  close(): Promise<void>;
  stats(): StoreStats;

  listSessions(q: ListSessionsQuery): Promise<SessionsPage>;
  getSession(tenant: string, sessionId: string): Promise<StoredSessionDetail | null>;
  /** Null when the session is not found for this tenant. */
  listResults(q: ListInSessionQuery): Promise<ResultsPage | null>;
  listEvents(q: ListInSessionQuery): Promise<EventsPage | null>;

  /**
   * Deletes what is older than `now - olderThanMs`: results and events recorded before the cutoff; sessions that
   * ended before it (with their params history); and sessions that never ended (a crashed server), started before
   * it, with no results or events left. Live sessions keep their row and their recent results.
   */
  applyRetention(olderThanMs: number, now?: number): Promise<RetentionResult>;

  /**
   * At start: the sessions this server (`nodeId`) left open when it last stopped without ending them (a crash, a
   * kill) are closed as `server_crash`, ended at their last recorded result or event. Returns how many.
   */
  closeCrashedSessions(nodeId: string): Promise<number>;
}

/** A malformed `cursor`/`after` (the API answers 400). */
export class InvalidCursorError extends Error {
  constructor(cursor: string) {
    super(`invalid cursor "${cursor.slice(0, 64)}"`);
    this.name = 'InvalidCursorError';
  }
}

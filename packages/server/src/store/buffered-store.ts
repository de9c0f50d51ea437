import { frameIdOf } from './pending-rows.js';
import type {
  EventsPage,
  ListInSessionQuery,
  ListSessionsQuery,
  ParamsChange,
  ResultsPage,
  RetentionResult,
  SessionEnd,
  SessionEvent,
  SessionStart,
  SessionStore,
  SessionsPage,
  StoreStats,
  StoredSessionDetail,
} from './store.js';
import { type BatchWriter, WriteBuffer, type WriteBufferOptions, safeJson } from './write-buffer.js';

/** The `record*` half of a `SessionStore`, shared by both backends: validate cheaply, serialise, buffer. */
export abstract class BufferedStore implements SessionStore {
  abstract readonly dialect: 'sqlite' | 'postgres';
  protected readonly buffer: WriteBuffer;
  private closing: Promise<void> | undefined;

  protected constructor(writer: BatchWriter, opts: WriteBufferOptions) {
    this.buffer = new WriteBuffer(writer, opts);
  }

  recordSessionStart(s: SessionStart): void {
    const paramsJson = safeJson(s.params ?? {});
    if (paramsJson === undefined || typeof s.id !== 'string') return this.dropOne();
    this.buffer.push({ kind: 'start', s: { ...s }, paramsJson });
  }

  recordParamsChange(sessionId: string, change: ParamsChange): void {
    const paramsJson = safeJson(change.params ?? {});
    if (paramsJson === undefined) return this.dropOne();
    this.buffer.push({ kind: 'params', sessionId, change: { ...change }, paramsJson });
  }

  recordSessionEnd(sessionId: string, end: SessionEnd): void {
    this.buffer.push({ kind: 'end', sessionId, end: { ...end } });
  }

  recordResult(sessionId: string, result: object | string, at: number): void {
    const json = typeof result === 'string' ? result : safeJson(result);
    if (json === undefined) return this.dropOne();
    this.buffer.push({ kind: 'result', sessionId, frameId: frameIdOf(result), at, json });
  }

  recordEvent(sessionId: string, event: SessionEvent): void {
    const dataJson = event.data === undefined ? null : safeJson(event.data);
    if (dataJson === undefined) return this.dropOne();
    this.buffer.push({ kind: 'event', sessionId, type: event.type, at: event.at, dataJson });
  }

  flush(): Promise<void> {
    return this.buffer.flush();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.buffer.close();
      await this.closeDatabase();
    })();
    return this.closing;
  }

  stats(): StoreStats {
    return this.buffer.stats();
  }

  /** A row that could not even be buffered (unserialisable JSON): counted, never thrown. */
  private dropOne(): void {
    this.buffer.countDropped();
  }

  protected abstract closeDatabase(): Promise<void>;
  abstract listSessions(q: ListSessionsQuery): Promise<SessionsPage>;
  abstract getSession(tenant: string, sessionId: string): Promise<StoredSessionDetail | null>;
  abstract listResults(q: ListInSessionQuery): Promise<ResultsPage | null>;
  abstract listEvents(q: ListInSessionQuery): Promise<EventsPage | null>;
  abstract applyRetention(olderThanMs: number, now?: number): Promise<RetentionResult>;
  abstract closeCrashedSessions(nodeId: string): Promise<number>;
}

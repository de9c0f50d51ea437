import type { ParamsChange, SessionEnd, SessionStart } from './store.js';

/**
 * The rows buffered between flushes, in the order they were recorded. JSON is serialised when recorded (a snapshot:
 * the caller may reuse its objects), so a flush only moves strings and numbers.
 */
export type PendingRow =
  | { kind: 'start'; s: SessionStart; paramsJson: string }
  | { kind: 'params'; sessionId: string; change: ParamsChange; paramsJson: string }
  | { kind: 'end'; sessionId: string; end: SessionEnd }
  | { kind: 'result'; sessionId: string; frameId: number | null; at: number; json: string }
  | { kind: 'event'; sessionId: string; type: string; at: number; dataJson: string | null };

/** Results and events: the rows the buffer bound applies to (session rows are few and always kept). */
export function isBulk(row: PendingRow): boolean {
  return row.kind === 'result' || row.kind === 'event';
}

const FRAME_ID_IN_JSON = /"frame_id":(\d+)/;

/** `frame_id` of a result given as an object or as its JSON text; null when it has none. */
export function frameIdOf(result: object | string): number | null {
  if (typeof result === 'string') {
    const m = FRAME_ID_IN_JSON.exec(result);
    return m ? Number(m[1]) : null;
  }
  const id = (result as { frame_id?: unknown }).frame_id;
  return typeof id === 'number' && Number.isFinite(id) ? id : null;
}

/** Rows of one flush grouped by kind, each group in recorded order. Applied starts → params → results/events → ends. */
export interface GroupedRows {
  starts: Extract<PendingRow, { kind: 'start' }>[];
  params: Extract<PendingRow, { kind: 'params' }>[];
  results: Extract<PendingRow, { kind: 'result' }>[];
  events: Extract<PendingRow, { kind: 'event' }>[];
  ends: Extract<PendingRow, { kind: 'end' }>[];
}

/**
 * Grouping keeps every dependency: a session's start was recorded before its params/results/events/end, and the
 * start group is applied first in the same transaction; the end only updates the session row.
 */
export function groupRows(rows: readonly PendingRow[]): GroupedRows {
  const g: GroupedRows = { starts: [], params: [], results: [], events: [], ends: [] };
  for (const r of rows) {
    switch (r.kind) {
      case 'start':
        g.starts.push(r);
        break;
      case 'params':
        g.params.push(r);
        break;
      case 'result':
        g.results.push(r);
        break;
      case 'event':
        g.events.push(r);
        break;
      case 'end':
        g.ends.push(r);
        break;
    }
  }
  return g;
}

/** What a backend did with one batch: rows applied, and rows skipped because their session is unknown. */
export interface BatchOutcome {
  written: number;
  orphaned: number;
}

import type { ServerMessage, SessionSummary } from '@sightline/protocol';

/** Who a session is, as observers (history store, metrics) see it. */
export interface SessionInfo {
  id: string;
  /** The opening key's tenant (its id when the key has none). */
  tenant: string;
  keyId: string;
  userId: string | null;
  processor: string;
  params: Record<string, unknown>;
  /** How the media comes in: `webrtc`, `ws`, `whip`. */
  transport: string;
  startedAt: number;
}

/** A running session's counters, readable while it lives. */
export interface LiveSession {
  summary(): SessionSummary;
}

/** Server-side figures of a session's results, for its history. */
export interface SessionLatency {
  inferenceMsP50: number | null;
  inferenceMsP95: number | null;
  totalMsP50: number | null;
  totalMsP95: number | null;
}

/**
 * Follows sessions from outside (the history store, metrics). Every method is optional and called synchronously on
 * the main thread, so each must be cheap and must not throw (a throwing observer is logged and skipped).
 */
export interface SessionObserver {
  /** The session is registered; `live.summary()` gives its counters at any later time (metrics read them at scrape). */
  sessionStarted?(s: SessionInfo, live: LiveSession): void;
  paramsChanged?(s: SessionInfo, processor: string, params: Record<string, unknown>, at: number): void;
  /** A frame reached the session's pipeline (decoded from the track, or from JPEG/WebP). */
  frameReceived?(s: SessionInfo): void;
  /** A message the session sent (or tried to: `delivered` false when no channel took it); `text` is its JSON. */
  messageSent?(s: SessionInfo, msg: ServerMessage, text: string, delivered: boolean): void;
  sessionEnded?(s: SessionInfo, summary: SessionSummary, latency: SessionLatency): void;
}

/** Calls `fn` on every observer, each in its own try/catch. */
export function notifyObservers(observers: readonly SessionObserver[], fn: (o: SessionObserver) => void): void {
  for (const o of observers) {
    try {
      fn(o);
    } catch (err) {
      console.error('sightline: session observer failed', err);
    }
  }
}
